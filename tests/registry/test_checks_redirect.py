"""``http.redirect`` passes only a redirect to the difusor's own registered site over HTTPS: a
redirect to any ``https://`` address (another difusor's site, another port) used to pass. A plain
HTTP server on loopback answers with the redirect under test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from prepcast.registry import load_registry
from prepcast.registry.checks import CheckReport
from prepcast.registry.checks.http import check_site
from tests.distribution.dist_servers import free_port

SITE_PORT = free_port()      # nothing answers there: only the redirect is looked at


class _Redirect(BaseHTTPRequestHandler):
    location = ""

    def do_GET(self) -> None:
        self.send_response(301)
        self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _redirect(tmp: Path, server: ThreadingHTTPServer, location: str) -> tuple[bool | None, str]:
    _Redirect.location = location
    key = tmp / "k"
    key.write_text("not used")
    reg_file = tmp / "registry.toml"
    reg_file.write_text(
        "[checks]\ntimeout_s = 5\n\n[[difusor]]\nname = \"nuevo\"\nhost = \"127.0.0.1\"\n"
        f'user = "prep"\nkey_file = "{key}"\nnombre = "Nuevo"\n'
        f'url = "https://127.0.0.1:{SITE_PORT}/"\n'
        f'http_url = "http://127.0.0.1:{server.server_address[1]}/"\n')
    reg = load_registry(reg_file)
    report = CheckReport("nuevo", "Nuevo", datetime.now(UTC))
    asyncio.run(check_site(reg.difusores[0], reg.checks, report, None))
    f = next(f for f in report.findings if f.key == "http.redirect")
    return f.ok, f.detalle


def test_a_redirect_to_another_site_fails(tmp_path: Path, plain: ThreadingHTTPServer) -> None:
    ok, detail = _redirect(tmp_path, plain, f"https://127.0.0.1:{free_port()}/")
    assert ok is False and "otro sitio" in detail
    ok, detail = _redirect(tmp_path, plain, "https://otro-difusor.example/")
    assert ok is False and "otro sitio" in detail


def test_a_redirect_that_stays_on_plain_http_or_changes_the_path_fails(
        tmp_path: Path, plain: ThreadingHTTPServer) -> None:
    assert _redirect(tmp_path, plain, "/")[0] is False
    ok, detail = _redirect(tmp_path, plain, f"https://127.0.0.1:{SITE_PORT}/promociones/")
    assert ok is False and "ruta" in detail


def test_a_redirect_to_the_registered_site_passes(tmp_path: Path,
                                                  plain: ThreadingHTTPServer) -> None:
    assert _redirect(tmp_path, plain, f"https://127.0.0.1:{SITE_PORT}/") == (
        True, f"http://127.0.0.1:{plain.server_address[1]}/ → 301 https://127.0.0.1:{SITE_PORT}/")
    assert _redirect(tmp_path, plain, f"https://127.0.0.1:{SITE_PORT}")[0] is True
