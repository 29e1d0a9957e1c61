"""The embedded server's limits, at the HTTP connection (below the ASGI application).

uvicorn's httptools protocol reads headers of any size, waits forever for a request that never
completes and keeps every idle connection open. On a public address on election night that
lets a handful of clients hold the server. This protocol adds, per connection:

* a cap on the bytes of a request's header block (``431 Request Header Fields Too Large``),
* a deadline from the connection's start, or from the previous request, to the end of the next
  request's headers: slow headers (slowloris) and idle keep-alive connections are closed,
* a cap on open connections: one over it is answered ``503`` and closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 32 * 1024    # nginx: large_client_header_buffers 4 8k
HEADER_TIMEOUT = 10.0           # seconds for a request's headers, and for an idle connection
MAX_CONNECTIONS = 4096          # open connections at once


def _response(status: bytes) -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"cache-control: no-store\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    header_timeout = HEADER_TIMEOUT
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._in_headers = True
        self._refused = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refuse(b"503 Service Unavailable")
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped until the close, so the client gets the answer, not a reset
        if self._in_headers:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(b"431 Request Header Fields Too Large")
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers = True
        self._header_bytes = 0
        self._arm()

    # --- internals ----------------------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._in_headers:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # still answering the previous request: its own pace, not the client's
            return
        self.transport.close()

    def _refuse(self, status: bytes) -> None:
        self._refused = True
        self._disarm()
        self.transport.write(_response(status))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(1.0, self.transport.close)


def limited_protocol(*, max_header_bytes: int = MAX_HEADER_BYTES,
                     header_timeout: float = HEADER_TIMEOUT,
                     max_connections: int = MAX_CONNECTIONS) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` with these limits."""
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {
        "max_header_bytes": max_header_bytes, "header_timeout": header_timeout,
        "max_connections": max_connections})
