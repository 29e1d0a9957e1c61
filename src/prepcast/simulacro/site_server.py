"""One local difusor's folder served on loopback for the drill: the live cut of ``current`` (and
an immutable file also from the releases kept, as a CDN keeps serving it), over HTTPS with a
certificate of the drill's CA or plain HTTP, with the exact ``Cache-Control`` of the package
layout; it stops, starts and sends a wrong header for ``json/main.json`` when the drill asks
(:class:`prepcast.monitor.drill.SiteControl`).
"""

from __future__ import annotations

import contextlib
import mimetypes
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, MAIN_PATH, cache_control_for
from prepcast.simulacro.tls import TLSHTTPServer


class SiteServer:
    """One difusor's folder over HTTP on loopback; stop, start and a wrong ``Cache-Control``
    for ``json/main.json`` (the drill's :class:`prepcast.monitor.drill.SiteControl`)."""

    def __init__(self, root: Path, tls: ssl.SSLContext | None = None) -> None:
        self.root = root
        self.tls = tls
        self.cache_override: str | None = None
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()  # kept-alive connections, closed on stop

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                site._conns.add(self.connection)

            def finish(self) -> None:
                site._conns.discard(self.connection)
                super().finish()

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                rel = unquote(urlsplit(self.path).path).lstrip("/") or "index.html"
                data = site.read(rel)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    return
                cc = cache_control_for(rel)
                if rel == MAIN_PATH and site.cache_override is not None:
                    cc = site.cache_override
                self.send_response(200)
                self.send_header("Content-Type",
                                 mimetypes.guess_type(rel)[0] or "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", cc)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        httpd = (TLSHTTPServer(("127.0.0.1", self.port), Handler, self.tls) if self.tls
                 else ThreadingHTTPServer(("127.0.0.1", self.port), Handler))
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"simulacro-site-{self.port}", daemon=True)
        self._thread.start()

    def read(self, rel: str) -> bytes | None:
        """``rel`` of the live cut; an immutable file (named by its cut or content) also from
        the releases kept, as a CDN in front of a difusor keeps serving it, so a reader (or the
        monitor) that loaded ``json/main.json`` just before a switch still finds its files."""
        if ".." in rel.split("/"):
            return None
        data = self._read_in(self.root / "current", rel)
        if data is not None or cache_control_for(rel) != CACHE_CONTROL_IMMUTABLE:
            return data
        for folder in sorted((self.root / "releases").glob("[!.]*"), reverse=True):
            data = self._read_in(folder, rel)
            if data is not None:
                return data
        return None

    @staticmethod
    def _read_in(folder: Path, rel: str) -> bytes | None:
        base = folder.resolve()
        path = (base / rel).resolve()
        if path.is_relative_to(base) and path.is_file():
            try:
                return path.read_bytes()
            except OSError:
                return None
        return None

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for conn in list(self._conns):  # a stopped server answers nobody, kept alive or not
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def set_cache_control(self, value: str | None) -> None:
        self.cache_override = value
