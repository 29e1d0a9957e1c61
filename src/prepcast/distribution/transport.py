"""The pusher's view of one difusor's server: a :class:`Peer`, and the errors a peer raises.

A peer is a remote folder tree reached somehow: :class:`~prepcast.distribution.sftp.SftpPeer`
over SSH, :class:`~prepcast.distribution.localdir.LocalPeer` on this machine's disk (fast
tests). The delivery strategies (:mod:`prepcast.distribution.modes`) only speak to this
interface, as httpx's client speaks to a transport.

Errors, one tree below :class:`~prepcast.errors.TransportError`; whether another attempt is
worth it is a property of the error, never a search in its message::

    PeerError (retryable)               something failed at this difusor
    ├── Unreachable (retryable)         no connection: refused, timed out, name unknown
    ├── ConnectionLost (retryable)      the connection dropped during an operation
    ├── IncompleteTransfer (retryable)  files did not arrive whole
    ├── RemoteFailure (retryable)       the server failed an operation without saying why
    ├── HostKeyRefused                  the server's host key is not the pinned one
    ├── AuthenticationFailed            the key or password was refused (no retries: lock-outs)
    ├── KeyUnreadable                   the registry's key_file is not a private key we can read
    ├── PermissionDenied                the server refuses to let us write there
    ├── NoSpace                         the difusor's disk or quota is full
    ├── Unsupported                     the server lacks what this mode needs (symlinks,
    │                                   posix-rename, hard links): choose another mode
    ├── DifusorRefused                  the difusor's daemon refused or did not activate a cut
    └── Rollback                        the difusor serves a newer cut (or a later ejercicio)
                                        than the one to send, or this cut as another
                                        package: never sent
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple, Protocol

from prepcast.errors import TransportError

Progress = Callable[[int], None]

#: The largest file the pusher reads back from a difusor (a manifest, a status file).
READ_LIMIT = 64 * 1024 * 1024


class Listed(NamedTuple):
    """A regular file as the server lists it: its size and its modification time in whole
    seconds (what SFTP v3 carries; None when the server does not say)."""

    size: int
    mtime: int | None


class PeerError(TransportError):
    """Something failed at one difusor; :attr:`retryable` says whether to try again."""

    _retryable = True

    @property
    def retryable(self) -> bool:
        return self._retryable


class Unreachable(PeerError):
    """No connection to the server (refused, timed out, unknown name)."""


class ConnectionLost(PeerError):
    """The connection dropped in the middle of an operation."""


class IncompleteTransfer(PeerError):
    """What arrived is not what was sent (sizes differ)."""


class RemoteFailure(PeerError):
    """The server failed an operation without a more precise reason."""


class HostKeyRefused(PeerError):
    """The server's host key is unknown or not the pinned one."""

    _retryable = False


class AuthenticationFailed(PeerError):
    """The server refused the credential; never retried (the difusor might lock us out)."""

    _retryable = False


class KeyUnreadable(PeerError):
    """The difusor's ``key_file`` is not a private key prepcast can read (a ``.pub``, garbage,
    a passphrase); never retried: nothing was sent, the registry must be fixed."""

    _retryable = False


class PermissionDenied(PeerError):
    """The server refuses to let us read or write there."""

    _retryable = False


class NoSpace(PeerError):
    """The difusor's disk or quota is full."""

    _retryable = False


class Unsupported(PeerError):
    """The server lacks an operation this delivery mode needs (symlink, posix-rename, link)."""

    _retryable = False


class DifusorRefused(PeerError):
    """The difusor's daemon refused a cut, or holds it without activating it."""

    _retryable = False


class Rollback(PeerError):
    """The difusor serves a newer cut than the one to send (a drill after the jornada), or
    serves this very cut as another package (one cut's tag is one package)."""

    _retryable = False


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed: only a :class:`PeerError` that says so."""
    return isinstance(exc, PeerError) and exc.retryable


class Peer(Protocol):
    """One difusor's remote folder tree. Paths are POSIX paths on the server.

    Every method raises a :class:`PeerError` subclass naming the difusor (``where``)."""

    @property
    def where(self) -> str:
        """The difusor and its address, for messages."""
        ...

    async def connect(self) -> None:
        """Open the session now (it is otherwise opened by the first operation)."""
        ...

    async def close(self) -> None: ...

    async def makedirs(self, dirs: Iterable[str]) -> None:
        """Create every directory (and its parents)."""
        ...

    async def upload(self, local: Path, remote: str, size: int, *, resume: bool = True,
                     progress: Progress | None = None) -> int:
        """Send ``local`` to a temporary name and rename it over ``remote`` atomically
        (:class:`Unsupported` when the server cannot replace atomically). Returns bytes sent."""
        ...

    async def write_into(self, local: Path, remote: str, size: int, *, offset: int = 0,
                         progress: Progress | None = None) -> int:
        """Write ``local`` straight to ``remote`` (continuing from ``offset``, checked)."""
        ...

    async def link(self, existing: str, new: str) -> bool:
        """Hard-link ``existing`` to ``new``; False when the server cannot."""
        ...

    async def swap_symlink(self, link: str, target: str) -> None:
        """Point ``link`` at ``target`` atomically (:class:`Unsupported` without symlinks)."""
        ...

    async def read_link(self, link: str) -> str | None: ...

    async def list_files(self, top: str) -> dict[str, int]:
        """Every regular file below ``top`` (relative path -> size); empty when absent."""
        ...

    async def list_stats(self, top: str) -> dict[str, Listed]:
        """Every regular file below ``top`` (relative path -> size and mtime as listed);
        empty when absent."""
        ...

    async def listdir(self, path: str) -> list[str]: ...

    async def rmtree(self, path: str) -> None: ...

    async def remove(self, path: str) -> None:
        """Remove one file; nothing when it is not there."""
        ...

    async def size_of(self, path: str) -> int | None: ...

    async def exists(self, path: str) -> bool: ...

    async def free_bytes(self, path: str) -> int | None:
        """The bytes we may still write on ``path``'s filesystem (statvfs), or None when the
        server cannot say."""
        ...

    async def rename(self, old: str, new: str) -> None:
        """Rename to a name not yet taken (plain SFTP rename)."""
        ...

    async def read_bytes(self, path: str, limit: int = READ_LIMIT) -> bytes | None:
        """A small remote file's bytes, or None when it is not there or larger than ``limit``."""
        ...
