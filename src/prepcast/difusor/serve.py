"""The embedded web server (``prepcast difusor serve``) for laptops and the simulacro.

The live release is small (hundreds of files, tens of MB), so it is held in memory with a
gzip copy of every compressible file and the response headers built once; activation swaps the
whole map in one assignment, so a response is always wholly of one cut. The previous cut's
immutable files stay reachable (the release keeps them), exactly as with nginx. Headers are
those of the nginx/Apache configs (:mod:`prepcast.difusor.webconf`). Served by uvicorn with
uvloop and httptools; the access log is combined format followed by the request time.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import mimetypes
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepcast.difusor.layout import CURRENT, cut_of_release
from prepcast.difusor.webconf import CACHE_CONTROL_ERROR, GZIP_TYPES, SECURITY_HEADERS
from prepcast.package.layout import MUTABLE_PATHS, cache_control_for

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_MUTABLE = MUTABLE_PATHS | {""}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Entry:
    body: bytes
    gz: bytes | None
    headers: list[tuple[bytes, bytes]]
    gz_headers: list[tuple[bytes, bytes]] | None
    etag: bytes


class LiveCut:
    """One release in memory: path -> Entry."""

    def __init__(self, cut: int | None, entries: dict[str, Entry]) -> None:
        self.cut = cut
        self.entries = entries
        self.previous: dict[str, Entry] = {}

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path) or self.previous.get(path)


def load_release(release: Path | None, cut: int | None,
                 reuse: dict[str, Entry] | None = None) -> LiveCut:
    """The release in memory. An entry of ``reuse`` (the cut served until now) with the same
    content is taken as it is, so unchanged files are not compressed again at every cut."""
    entries: dict[str, Entry] = {}
    reuse = reuse or {}
    if release is None:
        return LiveCut(None, entries)
    security = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
    for dirpath, _, names in os.walk(release):
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(release).as_posix()
            body = full.read_bytes()
            ctype = _content_type(rel)
            etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
            same = reuse.get(rel)
            if same is not None and same.etag == etag and same.body == body:
                entries[rel] = same
                continue
            base = [(b"content-type", ctype.encode()), (b"cache-control", cache_control_for(rel).encode()), (b"etag", etag), (b"vary", b"Accept-Encoding"), *security]
            gz = None
            gz_headers = None
            if ctype.split(";")[0] in (*GZIP_TYPES, "text/html") and len(body) >= 256:
                gz = gzip.compress(body, compresslevel=6, mtime=0)
                gz_headers = [*base, (b"content-encoding", b"gzip"), (b"content-length", str(len(gz)).encode())]
            entries[rel] = Entry(body, gz, [*base, (b"content-length", str(len(body)).encode())],
                                 gz_headers, etag)
    if "index.html" in entries:
        entries[""] = entries["index.html"]
    return LiveCut(cut, entries)


def _content_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    if path.endswith(".js"):
        return "application/javascript"
    guess = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{guess}; charset=utf-8" if guess.startswith("text/") else guess


class EmbeddedSite:
    """The ASGI application; ``reload()`` swaps in the release ``current`` points at."""

    def __init__(self, root: Path, *, access_log: Path | None = None,
                 poll_interval: float = 0.2, trusted_proxies: Sequence[str] = ()) -> None:
        self.root = Path(root)
        # behind a CDN or proxy at these addresses, the log names the reader from X-Forwarded-For
        self.trusted_proxies = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]
        self.poll_interval = poll_interval
        self.access_log = access_log
        # held open for the server's life, flushed every poll_interval and at shutdown
        self._log = (open(access_log, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
                     if access_log else None)
        self._target: str | None = None
        self.live = LiveCut(None, {})
        self.reload()

    def reload(self) -> bool:
        """Load the release ``current`` names, if it changed; True when it did."""
        try:
            target = os.readlink(self.root / CURRENT)
        except OSError:
            target = None
        if target == self._target:
            return False
        release = (self.root / target) if target else None
        live = load_release(release, cut_of_release(target) if target else None,
                            reuse=self.live.entries)
        # the cut served until now stays reachable for the immutable files its main.json names,
        # even when the switch skipped a cut between two looks at `current`
        live.previous = {p: e for p, e in self.live.entries.items() if p not in _MUTABLE}
        self.live = live
        self._target = target
        return True

    def flush(self) -> None:
        if self._log is not None:
            self._log.flush()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            self.reload()
            self.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        headers = dict(scope["headers"])
        if method not in ("GET", "HEAD"):
            status, body, hdrs = 405, b"", [(b"allow", b"GET, HEAD"), (b"content-length", b"0")]
        else:
            entry = self.live.get(path.lstrip("/"))
            if entry is None:
                status, body = 404, b"no encontrado\n"
                hdrs = [(b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", CACHE_CONTROL_ERROR.encode())]
            elif headers.get(b"if-none-match") == entry.etag:
                status, body, hdrs = 304, b"", [(b"etag", entry.etag)]
            elif entry.gz is not None and b"gzip" in headers.get(b"accept-encoding", b""):
                status, body, hdrs = 200, entry.gz, entry.gz_headers or []
            else:
                status, body, hdrs = 200, entry.body, entry.headers
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        if self._log is not None:
            self._write_log(scope, headers, status, len(body), time.perf_counter() - started)

    def _write_log(self, scope: Scope, headers: dict[bytes, bytes], status: int, size: int,
                   seconds: float) -> None:
        assert self._log is not None
        client = scope.get("client") or ("-", 0)
        address = str(client[0])
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded and self.trusted_proxies and self._trusted(address):
            address = forwarded.split(b",")[0].strip().decode("latin-1") or address
        t = time.localtime()
        off = t.tm_gmtoff // 60
        stamp = (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:"
                 f"{t.tm_min:02d}:{t.tm_sec:02d} {'+' if off >= 0 else '-'}{abs(off) // 60:02d}{abs(off) % 60:02d}")
        target = scope["path"] + (("?" + scope["query_string"].decode("latin-1"))
                                  if scope.get("query_string") else "")
        ref = headers.get(b"referer", b"-").decode("latin-1").replace('"', "%22")
        ua = headers.get(b"user-agent", b"-").decode("latin-1").replace('"', "%22")
        self._log.write(f'{address} - - [{stamp}] "{scope["method"]} {target} HTTP/'
                        f'{scope.get("http_version", "1.1")}" {status} {size} "{ref}" "{ua}" '
                        f"{seconds:.3f}\n")

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_proxies)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        watcher: asyncio.Task[None] | None = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                watcher = asyncio.create_task(self._watch())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if watcher is not None:
                    watcher.cancel()
                self.flush()
                await send({"type": "lifespan.shutdown.complete"})
                return


class EmbeddedServer:
    """uvicorn serving an :class:`EmbeddedSite`, in this thread (``run``) or another (``start``)."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 8080,
                 access_log: Path | None = None, cert: Path | None = None,
                 key: Path | None = None, trusted_proxies: Sequence[str] = ()) -> None:
        import uvicorn

        self.site = EmbeddedSite(root, access_log=access_log, trusted_proxies=trusted_proxies)
        self.config = uvicorn.Config(
            self.site, host=host, port=port, loop="uvloop", http="httptools", lifespan="on",
            access_log=False, log_level="warning", server_header=False, date_header=True,
            proxy_headers=False,  # X-Forwarded-For is read only from trusted_proxies (above)
            ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None,
            timeout_keep_alive=30, backlog=4096,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for s in servers:
            for sock in s.sockets:
                return int(sock.getsockname()[1])
        return int(self.config.port)

    def run(self) -> None:
        self.server.run()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.run, name="prepcast-serve", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("embedded server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.site.flush()
