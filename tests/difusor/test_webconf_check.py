"""The generated configurations pass their server's own check as they are, with the defaults
(the distribution's log folders), for Debian/Ubuntu and RHEL/Fedora/CentOS layouts; the IIS
web.config carries what IIS needs (checked as XML: Windows is not available here)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from prepcast.difusor.webconf import CACHE_CONTROL_ERROR
from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, CACHE_CONTROL_MUTABLE
from tests.difusor.difusor_web_servers import make_cert

pytestmark = pytest.mark.server

DEBIAN_MODULES = "/usr/lib/apache2/modules"
MODULES = ("mpm_event", "authz_core", "authz_host", "mime", "dir", "alias", "headers", "deflate",
           "filter", "ssl", "socache_shmcb")


def _webconf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prepcast", "difusor", "webconf", *args],
                          capture_output=True, text=True, check=False, timeout=60)


def _site(tmp_path: Path, server: str, *extra: str) -> tuple[Path, str]:
    cert, key = make_cert(tmp_path)
    out = tmp_path / f"{server}-site.conf"
    r = _webconf(server, "--root", "/srv/prep/www", "--server-name", "prep.example.mx",
                 "--cert", str(cert), "--key", str(key), "--out", str(out), *extra)
    assert r.returncode == 0, r.stderr
    return out, out.read_text()


def _nginx_test(tmp_path: Path, site: Path) -> subprocess.CompletedProcess[str]:
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/nginx-error.log;\n"
                    "events {}\nhttp {\n    include /etc/nginx/mime.types;\n"
                    f"    include {site};\n}}\n")
    return subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(main)], capture_output=True,
                          text=True, check=False)


def _apache_test(tmp_path: Path, site: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    main = tmp_path / "apache2.conf"
    mods = "".join(f"LoadModule {m}_module {DEBIAN_MODULES}/mod_{m}.so\n" for m in MODULES)
    main.write_text(f"ServerRoot {tmp_path}\n{mods}PidFile {tmp_path}/apache2.pid\n"
                    f"ErrorLog {tmp_path}/apache-error.log\nListen 127.0.0.1:80\n"
                    f"Listen 127.0.0.1:443\nInclude {site}\n")
    return subprocess.run(["/usr/sbin/apache2", "-t", "-f", str(main)], capture_output=True,
                          text=True, check=False, env={**os.environ, **env})


@pytest.fixture
def cleanup_logs() -> list[Path]:
    """Log files the servers' checks create in the system's log folders, removed afterwards."""
    before = {p for d in ("/var/log/nginx", "/var/log/apache2") if Path(d).is_dir()
              for p in Path(d).iterdir()}
    created: list[Path] = []
    yield created
    for d in ("/var/log/nginx", "/var/log/apache2"):
        if Path(d).is_dir():
            for p in Path(d).iterdir():
                if p not in before and p.name.startswith("prep."):
                    p.unlink()


def test_nginx_site_passes_nginx_t_with_defaults(tmp_path: Path, cleanup_logs: list[Path]) -> None:
    for layout in ("debian", "rhel"):
        site, text = _site(tmp_path, "nginx", "--layout", layout)
        assert "access_log /var/log/nginx/prep.access.log prepcast_combined;" in text
        r = _nginx_test(tmp_path, site)
        assert r.returncode == 0, r.stderr
        assert "test is successful" in r.stderr


def test_apache_site_passes_configtest_with_defaults(tmp_path: Path,
                                                     cleanup_logs: list[Path]) -> None:
    site, text = _site(tmp_path, "apache")
    assert "CustomLog ${APACHE_LOG_DIR}/prep.access.log prepcast_combined" in text
    # as apache2ctl runs it: /etc/apache2/envvars defines APACHE_LOG_DIR
    r = _apache_test(tmp_path, site, {"APACHE_LOG_DIR": "/var/log/apache2"})
    assert r.returncode == 0, r.stderr
    assert "Syntax OK" in r.stderr


def test_rhel_layout_as_far_as_debian_allows(tmp_path: Path) -> None:
    site, text = _site(tmp_path, "apache", "--layout", "rhel")
    assert "CustomLog /var/log/httpd/prep.access.log prepcast_combined" in text
    assert "ErrorLog /var/log/httpd/prep.error.log" in text
    # Debian has no /var/log/httpd (RHEL's httpd package makes it): the same folder elsewhere
    (tmp_path / "httpd-logs").mkdir()
    site.write_text(text.replace("/var/log/httpd/", f"{tmp_path}/httpd-logs/"))
    r = _apache_test(tmp_path, site, {})
    assert r.returncode == 0, r.stderr
    out = tmp_path / "httpd.conf"
    state = tmp_path / "run" / "httpd"
    r2 = _webconf("apache", "--layout", "rhel", "--standalone", "--root", "/srv/prep/www",
                  "--server-name", "x", "--state-dir", str(state), "--out", str(out))
    assert r2.returncode == 0, r2.stderr
    assert state.is_dir()  # created, or the server would not start
    standalone = out.read_text()
    assert "LoadModule ssl_module /etc/httpd/modules/mod_ssl.so" in standalone
    assert "User apache\n" in standalone and "Group apache\n" in standalone


def test_standalone_creates_its_state_dir_and_passes(tmp_path: Path,
                                                     cleanup_logs: list[Path]) -> None:
    cert, key = make_cert(tmp_path)
    state = tmp_path / "estado" / "nginx"
    out = tmp_path / "nginx-main.conf"
    logs = tmp_path / "logs-nuevos"
    r = _webconf("nginx", "--standalone", "--root", "/srv/prep/www", "--server-name", "x",
                 "--cert", str(cert), "--key", str(key), "--state-dir", str(state),
                 "--access-log", str(logs / "a.log"), "--error-log", str(logs / "e.log"),
                 "--https-listen", "127.0.0.1:8443", "--http-listen", "127.0.0.1:8080",
                 "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert state.is_dir() and logs.is_dir()
    checked = subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(out)], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_iis_web_config_has_what_iis_needs(tmp_path: Path) -> None:
    out = tmp_path / "web.config"
    r = _webconf("iis", "--root", "C:/prep/www", "--server-name", "prep.example.mx",
                 "--out", str(out))
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "configuration"
    web = root.find("system.webServer")
    assert web is not None
    mimes = {m.get("fileExtension"): m.get("mimeType") for m in web.iter("mimeMap")}
    for ext in (".json", ".js", ".css", ".svg", ".csv", ".zip", ".html"):
        assert ext in mimes, ext
        # IIS refuses a duplicate mimeMap: each is removed first
        assert any(r.get("fileExtension") == ext for r in web.iter("remove")), ext
    assert mimes[".json"] == "application/json"
    headers = {h.get("name"): h.get("value") for h in web.iter("add") if h.get("name")}
    assert headers["Content-Security-Policy"] == "frame-ancestors *"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in headers
    assert "Cache-Control" not in headers  # set per response by the outbound rules below
    rules = {r.get("name"): r for r in web.iter("rule")}
    errors = rules["prepcast-no-store-on-errors"]
    action = errors.find("action")
    assert action is not None and action.get("value") == CACHE_CONTROL_ERROR
    cond = errors.find("conditions/add")
    assert cond is not None and cond.get("input") == "{RESPONSE_STATUS}"
    assert cond.get("negate") == "true" and "200" in (cond.get("pattern") or "")
    mutable = rules["prepcast-mutable"]
    assert mutable.find("action").get("value") == CACHE_CONTROL_MUTABLE  # type: ignore[union-attr]
    pattern = mutable.find("conditions/add").get("pattern")  # type: ignore[union-attr]
    import re
    for uri in ("/", "/index.html", "/json/main.json", "/json/main.json?t=1"):
        assert re.match(pattern or "", uri), uri
    for uri in ("/assets/app.0a1b.js", "/json/main.json.bak", "/data/x.json"):
        assert not re.match(pattern or "", uri), uri
    assert rules["prepcast-immutable"].find("action").get("value") == CACHE_CONTROL_IMMUTABLE  # type: ignore[union-attr]
    # errors first, then the mutable pointer, then everything else
    order = [r.get("name") for r in web.iter("rule")]
    assert order.index("prepcast-no-store-on-errors") < order.index("prepcast-mutable") < order.index(
        "prepcast-immutable")
    assert [s.get("segment") for s in web.iter("add") if s.get("segment")] == ["releases",
                                                                                "web.config"]


def test_names_and_paths_a_server_would_misread_are_refused(tmp_path: Path) -> None:
    """Regression: a root with a space (nginx -t: invalid number of arguments) and a
    server name carrying directives were written, exit 0; now exit 2, one line each, no file."""
    out = tmp_path / "site.conf"
    cases = [
        (["--root", "/srv/prep/my www", "--server-name", "prep.example.mx"],
         "prepcast: --root: '/srv/prep/my www': a path the web server would misread"),
        (["--root", "/srv/prep/www", "--server-name",
          "prep.example.mx; location / { return 200 pwned; }"],
         "prepcast: --server-name: 'prep.example.mx; location / { return 200 pwned; }' is not a "
         "host name"),
        (["--root", "/srv/prep/www", "--server-name", "prep.example.mx", "--https-listen",
          "443; include /etc/passwd"], "prepcast: --https-listen: "),
        (["--root", "/srv/prep/www", "--server-name", "prep.example.mx", "--access-log",
          "/var/log/x.log;"], "prepcast: --access-log: "),
    ]
    for server in ("nginx", "apache"):
        for args, says in cases:
            r = _webconf(server, *args, "--out", str(out))
            assert r.returncode == 2, (server, args, r.stderr)
            assert r.stderr.startswith(says) and len(r.stderr.splitlines()) == 1, r.stderr
            assert "Traceback" not in r.stderr and not out.exists()
            assert [p.name for p in tmp_path.iterdir()] == []
    ok = _webconf("apache", "--root", "/srv/prep/www", "--server-name", "*.example.mx",
                  "--https-listen", "127.0.0.1:8443", "--access-log",
                  "${APACHE_LOG_DIR}/prep.log", "--out", str(out))
    assert ok.returncode == 0, ok.stderr
