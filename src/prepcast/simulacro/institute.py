"""The institute's own web server in a drill: the current cut's site and the acta images.

Serves the package of the latest cut from a directory it is told about (swapped atomically
between cuts), with each path's ``Cache-Control`` from the package rules, and
``/actas/<CODIGO_INTEGRIDAD>.png``: the generated image of each captured acta, made again on
request from the capture feed, so its SHA-256 is the acta's CODIGO_INTEGRIDAD.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from prepcast.election import Casilla, ElectionDir, Status
from prepcast.election.acta_image import acta_png
from prepcast.package import cache_control_for

IMMUTABLE = "public, max-age=31536000, immutable"


class ActaImages:
    """CODIGO_INTEGRIDAD -> the image of that acta, rendered on request. Given a function that
    reads the election, it is read at the first request (a national election's actas on rows
    take tens of seconds and gigabytes; a drill's readers never ask for an image)."""

    def __init__(self, ed: ElectionDir | Callable[[], ElectionDir]) -> None:
        self._source = ed
        self._lock = threading.Lock()
        self._loaded: tuple[ElectionDir, dict[str, Casilla],
                            dict[str, tuple[str, str, tuple[object, ...]]]] | None = None

    def _load(self) -> tuple[ElectionDir, dict[str, Casilla],
                             dict[str, tuple[str, str, tuple[object, ...]]]]:
        with self._lock:
            if self._loaded is None:
                ed = self._source() if callable(self._source) else self._source
                by_key = {c.clave: c for c in ed.casillas}
                index: dict[str, tuple[str, str, tuple[object, ...]]] = {}
                for e in ed.proceso.elections:
                    for a in ed.feeds.get(e.id, ()):
                        key = a.casilla_clave(ed.proceso.entidad_id)
                        if a.status is Status.CAPTURADA and a.codigo_integridad and key in by_key:
                            index[a.codigo_integridad] = (e.id, key, a.votes)
                self._loaded = (ed, by_key, index)
            return self._loaded

    def __len__(self) -> int:
        return len(self._load()[2])

    def png(self, sha: str) -> bytes | None:
        ed, casillas, index = self._load()
        hit = index.get(sha)
        if hit is None:
            return None
        eid, key, votes = hit
        data = acta_png(ed.proceso, ed.proceso.election(eid), casillas[key],
                        votes)  # type: ignore[arg-type]
        return data if hashlib.sha256(data).hexdigest() == sha else None


class InstituteServer:
    """A small threaded HTTP server on loopback; ``publish(pkg_dir)`` switches the live cut."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.images: ActaImages | None = None
        self.root: Path | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "prepcast-institute"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                server._serve(self, head=False)

            def do_HEAD(self) -> None:
                server._serve(self, head=True)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="institute-http",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def publish(self, package: Path) -> None:
        self.root = package

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _serve(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = unquote(urlsplit(h.path).path)
        if path.startswith("/actas/") and path.endswith(".png"):
            sha = path[len("/actas/"):-len(".png")]
            data = self.images.png(sha) if self.images is not None else None
            self._send(h, data, "image/png", IMMUTABLE, head)
            return
        rel = path.lstrip("/") or "index.html"
        root = self.root
        parts = PurePosixPath(rel).parts
        if root is None or ".." in parts or rel.startswith("/"):
            self._send(h, None, "", "", head)
            return
        file = root / rel
        try:
            data = file.read_bytes() if file.is_file() else None
        except OSError:
            data = None
        ctype = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "application/javascript"):
            ctype += "; charset=utf-8"
        self._send(h, data, ctype, cache_control_for(rel), head)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, data: bytes | None, ctype: str, cache: str,
              head: bool) -> None:
        if data is None:
            h.send_error(HTTPStatus.NOT_FOUND)
            return
        h.send_response(HTTPStatus.OK)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Cache-Control", cache)
        h.send_header("Access-Control-Allow-Origin", "*")
        h.end_headers()
        if not head:
            h.wfile.write(data)
