"""The embedded web server (``prepcast difusor serve``) for laptops and the simulacro.

The live release is small (hundreds of files, tens of MB), so it is held in memory with a
gzip copy of every compressible file and the response headers built once
(:mod:`prepcast.difusor.live_cut`); activation swaps the whole map in one assignment, so a
response is always wholly of one cut. The previous cut's immutable files stay reachable (the
release keeps them), exactly as with nginx. Headers are those of the nginx/Apache configs
(:mod:`prepcast.difusor.webconf`). Served by uvicorn with uvloop and httptools; the access log
is combined format followed by the request time, every field escaped as nginx escapes it (``"``,
``\\``, control and non-ASCII bytes as ``\\xHH``, the request target as it was sent, never
percent-decoded) so no request can write a line of its own.

Limits (:mod:`prepcast.difusor._serve_limits`): a request's headers at most 32 KiB (else 431),
10 s to send them and 10 s of idleness between requests (then the connection is closed), 4,096
connections at once (one more is answered 503). Behind a CDN or proxy, the reader's address is
taken from ``X-Forwarded-For`` only for requests from a trusted proxy, walking the header from
the right past trusted proxies, and only when the entry parses as an address.

``root`` is a difusor root (``current`` names the live release), a flat root (the package's
files laid out in the root itself, as the ``flat`` delivery mode leaves them: reloaded whenever
its ``json/main.json`` changes), or an empty folder: a difusor freshly set up, before its first
cut, answers every request with a Spanish placeholder (503, never cached) until a cut arrives.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from prepcast.difusor._serve_limits import (
    HEADER_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
    limited_protocol,
)
from prepcast.difusor.layout import CURRENT, QUARANTINE, RELEASES, cut_of_release
from prepcast.difusor.live_cut import LiveCut, load_release
from prepcast.difusor.webconf_base import CACHE_CONTROL_ERROR
from prepcast.errors import InputError
from prepcast.package.layout import CACHE_CONTROL_MUTABLE, MAIN_PATH, MUTABLE_PATHS

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_MUTABLE = MUTABLE_PATHS | {""}
# nginx's escaping of logged variables: '"', '\\', bytes below 0x20 and from 0x7f as \\xHH
_LOG_ESCAPE = {b: (f"\\x{b:02X}" if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) else chr(b))
               for b in range(256)}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def log_escape(value: bytes) -> str:
    """A logged field as nginx writes it: nothing in it can end a field or a line."""
    return "".join([_LOG_ESCAPE[b] for b in value])


# what a fresh difusor root may hold before its first cut (a daemon's lock, its quarantine)
_FRESH = {RELEASES, QUARANTINE}
PLACEHOLDER = ("<!doctype html><html lang=\"es-MX\"><head><meta charset=\"utf-8\">"
               "<title>PREP: aún sin publicar</title></head><body><h1>Programa de Resultados "
               "Electorales Preliminares</h1><p>Este sitio de difusión aún no publica ningún "
               "corte. Los resultados aparecerán aquí en cuanto el Instituto envíe el primero."
               "</p></body></html>\n").encode()


def serving_problem(root: Path) -> str | None:
    """Why ``root`` cannot be served, or None: a difusor root, a flat root or package folder,
    or an empty one (a difusor before its first cut)."""
    if not root.is_dir():
        return "not a directory"
    if (root / CURRENT).is_symlink() or (root / RELEASES).is_dir() or (root / MAIN_PATH).is_file():
        return None
    if all(e.name.startswith(".") or e.name in _FRESH for e in os.scandir(root)):
        return None  # nothing yet: the placeholder until the first cut
    return (f"expected a difusor root (with {CURRENT}/ or {RELEASES}/, as the daemon or the "
            f"pusher builds it), a package or flat root (with {MAIN_PATH}), or an empty folder")


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

    def _look(self) -> str | None:
        """What is live now: ``current``'s target; for a flat root or a package folder (no
        ``current``), its ``json/main.json`` by inode, size and time, so a new cut reloads it;
        None before the first cut."""
        try:
            return os.readlink(self.root / CURRENT)
        except OSError:
            pass
        try:
            st = os.stat(self.root / MAIN_PATH)
        except OSError:
            return None
        return f"./{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"

    def reload(self) -> bool:
        """Load the release ``current`` names (or the flat root), if it changed; True when it
        did."""
        target = self._look()
        if target == self._target:
            return False
        flat = target is not None and target.startswith("./")
        release = self.root if flat else (self.root / target) if target else None
        live = load_release(release, cut_of_release(target) if target and not flat else None,
                            reuse=self.live.entries, flat=flat)
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
            if entry is None and not self.live.entries:  # before the first cut
                status, body = 503, PLACEHOLDER
                hdrs = [(b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", CACHE_CONTROL_MUTABLE.encode()),
                        (b"retry-after", b"60")]
            elif entry is None:
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
        address = self.reader_address(str(client[0]), headers.get(b"x-forwarded-for"))
        t = time.localtime()
        off = t.tm_gmtoff // 60
        stamp = (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:"
                 f"{t.tm_min:02d}:{t.tm_sec:02d} {'+' if off >= 0 else '-'}{abs(off) // 60:02d}{abs(off) % 60:02d}")
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        query = scope.get("query_string") or b""
        target = log_escape(raw + (b"?" + query if query else b""))
        method = log_escape(scope["method"].encode("latin-1"))
        ref = log_escape(headers.get(b"referer", b"-"))
        ua = log_escape(headers.get(b"user-agent", b"-"))
        self._log.write(f'{address} - - [{stamp}] "{method} {target} HTTP/'
                        f'{scope.get("http_version", "1.1")}" {status} {size} "{ref}" "{ua}" '
                        f"{seconds:.3f}\n")

    def reader_address(self, peer: str, forwarded: bytes | None) -> str:
        """The reader's address: the peer's, or behind trusted proxies the right-most address of
        ``X-Forwarded-For`` that is not itself a trusted proxy (as nginx's ``real_ip_recursive``).
        An entry that does not parse as an address stops the walk: what a client wrote itself
        into the header is never taken."""
        if not forwarded or not self._trusted(peer):
            return peer
        address = peer
        for part in reversed(forwarded.split(b",")):
            try:
                ip = ipaddress.ip_address(part.strip().decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                break
            address = str(ip)
            if not any(ip in net for net in self.trusted_proxies):
                break
        return address

    def _trusted(self, address: str) -> bool:
        if not self.trusted_proxies:
            return False
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
                 key: Path | None = None, trusted_proxies: Sequence[str] = (),
                 max_header_bytes: int = MAX_HEADER_BYTES, header_timeout: float = HEADER_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        import uvicorn

        self.site = EmbeddedSite(root, access_log=access_log, trusted_proxies=trusted_proxies)
        self.host = host
        self.requested_port = port
        protocol = limited_protocol(max_header_bytes=max_header_bytes,
                                    header_timeout=header_timeout, max_connections=max_connections)
        self.config = uvicorn.Config(
            self.site, host=host, port=port, loop="uvloop", http=protocol, lifespan="on",
            access_log=False, log_level="warning", server_header=False, date_header=True,
            proxy_headers=False,  # X-Forwarded-For is read only from trusted_proxies (above)
            ssl_certfile=str(cert) if cert else None, ssl_keyfile=str(key) if key else None,
            timeout_keep_alive=max(1, int(header_timeout)), backlog=4096,
        )
        try:
            self.config.load()  # the certificate and key, now, as one clear error
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"--cert {cert} / --key {key}: cannot use them: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def bind(self) -> socket.socket:
        """The listening socket, bound here so that a port taken or refused is one clear error."""
        if self._socket is None:
            where = f"{self.host}:{self.requested_port}"
            try:
                family, kind, proto, _, address = socket.getaddrinfo(
                    self.host, self.requested_port, type=socket.SOCK_STREAM,
                    flags=socket.AI_PASSIVE)[0]
                sock = socket.socket(family, kind, proto)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(address)
                except OSError:
                    sock.close()
                    raise
            except OverflowError:
                raise InputError(f"cannot listen on {where}: the port must be 0-65535") from None
            except OSError as exc:
                raise InputError(f"cannot listen on {where}: {exc.strerror or exc}") from None
            sock.set_inheritable(True)
            self._socket = sock
        return self._socket

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for s in servers:
            for sock in s.sockets:
                return int(sock.getsockname()[1])
        return int(self.config.port)

    def run(self) -> None:
        self.server.run(sockets=[self.bind()])

    def start(self) -> None:
        sock = self.bind()
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                        name="prepcast-serve", daemon=True)
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
