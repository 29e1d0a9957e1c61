"""How an SFTP or connection failure becomes a typed :class:`PeerError`, and how it reads."""

from __future__ import annotations

import errno

import asyncssh

from prepcast.distribution.transport import (
    ConnectionLost,
    NoSpace,
    PeerError,
    PermissionDenied,
    RemoteFailure,
    Unsupported,
)


def error_type(exc: BaseException) -> type[PeerError]:
    """Which :class:`PeerError` an SFTP or connection failure is."""
    if isinstance(exc, asyncssh.SFTPOpUnsupported):
        return Unsupported
    if isinstance(exc, asyncssh.SFTPNoSpaceOnFilesystem | asyncssh.SFTPQuotaExceeded):
        return NoSpace
    if isinstance(exc, asyncssh.SFTPPermissionDenied | asyncssh.SFTPWriteProtect):
        return PermissionDenied
    if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection
                  | asyncssh.DisconnectError | asyncssh.ConnectionLost | asyncssh.ChannelOpenError
                  | ConnectionError | TimeoutError):
        return ConnectionLost
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace
    return RemoteFailure


def describe(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.SFTPError):
        return f"{exc.reason or type(exc).__name__} (SFTP code {exc.code})"
    if isinstance(exc, asyncssh.DisconnectError):
        return f"connection lost: {exc.reason}"
    if isinstance(exc, asyncssh.ConnectionLost):
        return f"connection lost: {exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__
