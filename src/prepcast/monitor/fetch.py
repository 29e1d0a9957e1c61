"""The monitor's HTTP client of difusores' public sites: a bounded pool of kept-alive connections
per difusor, TLS checked (each connection's certificate expiry noted), answers decoded (gzip or
brotli), redirects never followed, and a fetch failure described in one line.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from prepcast.monitor.settings import ProbeSettings

ACCEPT_ENCODING = "gzip, br"
_COMPRESSED = {"Accept-Encoding": ACCEPT_ENCODING}
_IDENTITY = {"Accept-Encoding": "identity"}


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(ca_file)
    return ctx


@dataclass(frozen=True)
class Fetched:
    """One answer of a difusor: status, the headers the checks read, the decoded body."""

    status_code: int
    cache_control: str | None
    content: bytes
    tls_expires: datetime | None


FETCH_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError, OSError)
_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


def _not_after(transport: asyncio.BaseTransport) -> datetime | None:
    obj = transport.get_extra_info("ssl_object")
    cert = obj.getpeercert() if isinstance(obj, ssl.SSLObject | ssl.SSLSocket) else None
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)


class _Connector(aiohttp.TCPConnector):
    """The pool of one difusor, noting the certificate of every TLS connection it opens (a
    small answer may release its kept-alive connection before the caller sees it)."""

    tls_expires: datetime | None = None

    async def _wrap_create_connection(self, *args: Any, **kwargs: Any
                                      ) -> tuple[asyncio.Transport, Any]:
        transport, proto = await super()._wrap_create_connection(*args, **kwargs)
        self.tls_expires = _not_after(transport)
        return transport, proto


def describe(exc: BaseException) -> str:
    """A failed fetch in one line of at most 300 characters."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer in time ({type(exc).__name__})"
    return text[:300]


def make_session(tls: ssl.SSLContext, settings: ProbeSettings) -> aiohttp.ClientSession:
    """One difusor's HTTP/1.1 client: a bounded pool of kept-alive connections (a few more than
    the requests at once), TLS checked against ``tls``, no redirects followed by the probes."""
    t = settings.timeout_s
    return aiohttp.ClientSession(
        connector=_Connector(ssl=tls, limit=settings.per_difusor + 2,
                                       keepalive_timeout=max(settings.round_s * 2, 60.0)),
        timeout=aiohttp.ClientTimeout(total=None, connect=t, sock_connect=t, sock_read=t),
        auto_decompress=True, skip_auto_headers=("User-Agent",))


class Clients:
    """An HTTP client (and its connections) of each difusor's own, made by ``make_client``: one
    shared pool over many origins closes one difusor's connections to open another's, and
    spends its time choosing among them."""

    def __init__(self, make_client: Callable[[], aiohttp.ClientSession]) -> None:
        self.make_client = make_client
        self._clients: dict[str, aiohttp.ClientSession] = {}

    async def get(self, url: str, *, compressed: bool = True, retry: bool = False
                  ) -> tuple[Fetched, float]:
        """``url``'s answer and how long it took (ms); ``retry``: once more on a new connection
        when a kept-alive one was closed by the server meanwhile."""
        headers = _COMPRESSED if compressed else _IDENTITY
        origin = "/".join(url.split("/", 3)[:3])
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = self.make_client()
        t0 = time.monotonic()
        try:
            got = await self._fetch(client, url, headers)
        except _STALE:
            if not retry:
                raise
            # a kept-alive connection the server closed meanwhile: once more on a new one
            t0 = time.monotonic()
            got = await self._fetch(client, url, headers)
        return got, (time.monotonic() - t0) * 1000

    @staticmethod
    async def _fetch(client: aiohttp.ClientSession, url: str, headers: dict[str, str]
                     ) -> Fetched:
        async with client.get(url, headers=headers, allow_redirects=False) as resp:
            body = await resp.read()
            tls = getattr(client.connector, "tls_expires", None)
            cc = resp.headers.getall("Cache-Control", [])
            return Fetched(resp.status, ", ".join(cc) if cc else None, body, tls)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
