"""The generated nginx and Apache configs, run for real on loopback, header by header."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, CACHE_CONTROL_MUTABLE
from tests.difusor.difusor_helpers import daemon_config
from tests.difusor.difusor_web_servers import WebServer, public_dir, remove

pytestmark = pytest.mark.server

LOG_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[[^\]]+\] "GET /json/main\.json HTTP/[\d.]+" 200 \d+ "-" "prepcast-test" '
    r"\d+(\.\d+)?$")


def install(daemon: Daemon, inbox: Path, pkg_dir: Path) -> None:
    pkg = read_package(pkg_dir)
    write_delta_archive(pkg, list(pkg.files), inbox / f"{pkg.cut_id.tag}.tar")
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == pkg.cut_id


@pytest.fixture(params=["nginx", "apache"])
def served(request: pytest.FixtureRequest, keydir: Path,
           packages: list[Path]) -> Iterator[tuple[WebServer, Daemon, Path]]:
    top = public_dir("prepcast-web-")
    try:
        conf, _, _ = daemon_config(top / "d", keydir, sftp=False)
        (top / "d").chmod(0o755)
        daemon = Daemon(load_config(conf))
        install(daemon, top / "d" / "inbox", packages[0])
        work = top / "srv"
        work.mkdir()
        server = WebServer(request.param, top / "d" / "www", work)
        server.start()
        try:
            yield server, daemon, top / "d" / "inbox"
        finally:
            server.stop()
    finally:
        remove(top)


def test_headers_redirect_gzip_and_log(served: tuple[WebServer, Daemon, Path],
                                       packages: list[Path]) -> None:
    server, daemon, inbox = served
    files = read_package(packages[0]).files
    asset = next(p for p in files if p.startswith("assets/app"))
    data = next(p for p in files if p.startswith("data/"))
    with httpx.Client(verify=False, headers={"User-Agent": "prepcast-test"}) as c:
        main = c.get(f"{server.base}/json/main.json", headers={"Accept-Encoding": "identity"})
        assert main.status_code == 200
        assert main.content == (packages[0] / "json/main.json").read_bytes()
        assert main.headers["content-type"].startswith("application/json")
        for path in ("/json/main.json", "/index.html", "/"):
            r = c.get(server.base + path)
            assert r.status_code == 200, path
            assert r.headers["cache-control"] == CACHE_CONTROL_MUTABLE, path
        for path in (asset, data):
            r = c.get(f"{server.base}/{path}")
            assert r.status_code == 200
            assert r.headers["cache-control"] == CACHE_CONTROL_IMMUTABLE
        r = c.get(f"{server.base}/{asset}", headers={"Accept-Encoding": "gzip"})
        assert r.headers.get("content-encoding") == "gzip"
        assert r.content == (packages[0] / asset).read_bytes()  # httpx decoded it
        for r in (main, c.get(f"{server.base}/{asset}")):
            assert "x-frame-options" not in r.headers  # pages may be embedded
            assert r.headers["content-security-policy"] == "frame-ancestors *"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["strict-transport-security"].startswith("max-age=")
            assert "referrer-policy" in r.headers
        # a path a reader (or an attacker) requests before its cut exists: never cached
        for path in ("/data/nada.json", "/db/0013/datos.zip", "/assets/", "/json/nada.json"):
            missing = c.get(server.base + path)
            assert missing.status_code in (403, 404), path
            assert missing.headers["cache-control"] == "no-store", path
            assert "immutable" not in missing.headers["cache-control"]
        # a revalidation of an immutable file keeps it cacheable
        plain_id = {"Accept-Encoding": "identity"}
        etag = c.get(f"{server.base}/{asset}", headers=plain_id).headers["etag"]
        again = c.get(f"{server.base}/{asset}", headers={**plain_id, "If-None-Match": etag})
        assert again.status_code == 304
        assert "no-store" not in again.headers.get("cache-control", "")
        plain = c.get(f"http://127.0.0.1:{server.http_port}/json/main.json?x=1",
                      follow_redirects=False)
        assert plain.status_code == 301
        assert plain.headers["location"] == f"https://localhost:{server.https_port}/json/main.json?x=1"
        # a switch of `current` is served at once (no open-file cache)
        install(daemon, inbox, packages[1])
        assert c.get(f"{server.base}/json/main.json").content == (
            packages[1] / "json/main.json").read_bytes()
    deadline = time.monotonic() + 5
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = server.access_log.read_text().splitlines()
        if any(LOG_LINE.match(line) for line in lines):
            break
        time.sleep(0.1)
    assert any(LOG_LINE.match(line) for line in lines), lines[:3]


def test_a_malformed_request_is_an_error_never_cached(served: tuple[WebServer, Daemon, Path]) -> None:
    """nginx refuses ``/../releases/`` and ``/%zz`` (400) before it picks a location, and those
    errors went out without ``Cache-Control: no-store``, which every error must carry (Apache
    sent it). The paths go as written (curl ``--path-as-is``; httpx would tidy them)."""
    import subprocess

    server = served[0]
    plain = f"http://127.0.0.1:{server.http_port}"
    for url in (server.base + "/../releases/", server.base + "/%zz", server.base + "/json/%zz",
                plain + "/../releases/", plain + "/%zz"):
        r = subprocess.run(["curl", "-sk", "--path-as-is", "-o", "/dev/null", "-D", "-", url],
                           capture_output=True, text=True, timeout=30, check=True)
        head = r.stdout.lower().splitlines()
        assert head and " 400" in head[0], (url, r.stdout)
        assert "cache-control: no-store" in head, (url, r.stdout)
