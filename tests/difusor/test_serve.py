"""The embedded server: same headers as the nginx/Apache configs, served from memory."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, CACHE_CONTROL_MUTABLE
from tests.difusor.difusor_helpers import daemon_config, wait_port

pytestmark = pytest.mark.server


def install(daemon: Daemon, inbox: Path, pkg_dir: Path) -> None:
    pkg = read_package(pkg_dir)
    write_delta_archive(pkg, list(pkg.files), inbox / f"{pkg.cut_id.tag}.tar")
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == pkg.cut_id


def test_embedded_server_headers_and_switch(tmp_path: Path, keydir: Path,
                                            packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    daemon = Daemon(load_config(conf))
    install(daemon, tmp_path / "inbox", packages[0])
    server = EmbeddedServer(tmp_path / "www", port=0, access_log=tmp_path / "access.log")
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    files = read_package(packages[0]).files
    asset = next(p for p in files if p.startswith("assets/app"))
    try:
        with httpx.Client(headers={"User-Agent": "prepcast-test"}) as c:
            for path in ("/json/main.json", "/index.html", "/"):
                r = c.get(base + path)
                assert r.status_code == 200
                assert r.headers["cache-control"] == CACHE_CONTROL_MUTABLE
            r = c.get(f"{base}/{asset}", headers={"Accept-Encoding": "gzip"})
            assert r.headers["content-encoding"] == "gzip"
            assert r.headers["cache-control"] == CACHE_CONTROL_IMMUTABLE
            assert r.content == (packages[0] / asset).read_bytes()
            assert r.headers["content-security-policy"] == "frame-ancestors *"
            assert "x-frame-options" not in r.headers
            again = c.get(f"{base}/{asset}", headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304
            assert c.head(f"{base}/json/main.json").content == b""
            assert c.post(f"{base}/json/main.json").status_code == 405
            missing = c.get(f"{base}/db/0013/datos.zip")
            assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
            install(daemon, tmp_path / "inbox", packages[1])
            deadline = time.monotonic() + 5
            want = (packages[1] / "json/main.json").read_bytes()
            while c.get(f"{base}/json/main.json").content != want:
                assert time.monotonic() < deadline, "the switch was not picked up"
                time.sleep(0.05)
    finally:
        server.stop()
    line = (tmp_path / "access.log").read_text().splitlines()[0]
    assert re.match(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                    r'"GET /json/main\.json HTTP/1\.1" 200 \d+ "-" "prepcast-test" \d+\.\d{3}$', line)


def test_serve_command(tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    install(Daemon(load_config(conf)), tmp_path / "inbox", packages[0])
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "serve", "--root",
                             str(tmp_path / "www"), "--port", "0"], stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stderr is not None
        said = proc.stderr.readline()  # it says where it serves (port 0 too)
        found = re.match(rf"^prepcast: serving {re.escape(str(tmp_path / 'www'))} on "
                         r"http://127\.0\.0\.1:(\d+)/ \(Ctrl-C stops\)$", said)
        assert found, said
        port = int(found[1])
        wait_port(port)
        r = httpx.get(f"http://127.0.0.1:{port}/json/main.json")
        assert r.status_code == 200 and r.headers["cache-control"] == CACHE_CONTROL_MUTABLE
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_and_webconf_refuse_bad_input(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "serve", "--root",
                        str(tmp_path / "nada")], capture_output=True, text=True)
    assert r.returncode == 2 and "nada: not a directory" in r.stderr and "Traceback" not in r.stderr
    out = tmp_path / "site.conf"
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "webconf", "nginx", "--root",
                        "/srv/prep/www", "--server-name", "prep.example.mx", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "root /srv/prep/www/current;" in out.read_text()
    assert "listen 443 ssl http2;" in out.read_text()


def _lay_flat(pkg: Path, root: Path) -> None:
    """A cut as the flat delivery mode lays it: immutable files first, then the mutable ones
    (``index.html`` and ``json/main.json`` last), in the root itself."""
    import shutil

    files = sorted(p.relative_to(pkg).as_posix() for p in pkg.rglob("*") if p.is_file())
    mutable = ["index.html", "json/main.json"]
    for rel in [f for f in files if f not in mutable] + mutable:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        tmp = root / f"{rel}.tmp"
        shutil.copyfile(pkg / rel, tmp)
        tmp.replace(root / rel)


def test_serve_an_empty_root_then_its_first_cut_and_a_flat_root(
        tmp_path: Path, packages: list[Path]) -> None:
    """Regression: ``difusor serve`` refused a fresh, empty difusor root ("expected a difusor
    root …"), so a difusor could not have HTTPS up for its check before the first cut; and a
    flat root was held at the cut it found at start. An empty root answers a Spanish
    placeholder (503, never cached) until a cut arrives; a flat root follows its
    ``json/main.json``."""
    import os
    import shutil

    root = tmp_path / "www"
    root.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "serve", "--root",
                             str(root), "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        found = re.search(r":(\d+)/ \(Ctrl-C stops\)$", proc.stderr.readline())
        assert found, "no serving line"
        base = f"http://127.0.0.1:{found[1]}"
        wait_port(int(found[1]))
        for path in ("/", "/json/main.json"):
            r = httpx.get(base + path)
            assert r.status_code == 503 and r.headers["cache-control"] == CACHE_CONTROL_MUTABLE
            assert "aún no publica ningún corte" in r.text and r.headers["retry-after"] == "60"
        # the first cut arrives as the daemon or the SFTP pusher lays it
        (root / "releases").mkdir()
        shutil.copytree(packages[0], root / "releases" / "jornada-0001")
        os.symlink("releases/jornada-0001", root / "current")
        want = (packages[0] / "json/main.json").read_bytes()
        deadline = time.monotonic() + 5
        while (r := httpx.get(base + "/json/main.json")).content != want:
            assert time.monotonic() < deadline, r.status_code
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
    flat = tmp_path / "flat"
    flat.mkdir()
    _lay_flat(packages[0], flat)
    server = EmbeddedServer(flat, port=0)
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(base + "/json/main.json").content == want
        _lay_flat(packages[1], flat)
        want = (packages[1] / "json/main.json").read_bytes()
        deadline = time.monotonic() + 5
        while httpx.get(base + "/json/main.json").content != want:
            assert time.monotonic() < deadline, "the flat root's new cut was not picked up"
            time.sleep(0.05)
        data = next(p for p in read_package(packages[1]).files if p.startswith("data/"))
        assert httpx.get(f"{base}/{data}").content == (packages[1] / data).read_bytes()
    finally:
        server.stop()
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "serve", "--root",
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "or an empty folder" in r.stderr, r.stderr  # not a difusor's
