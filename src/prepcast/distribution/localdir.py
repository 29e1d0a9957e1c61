"""A :class:`~prepcast.distribution.transport.Peer` on this machine's disk, for fast tests.

``LocalPeer(difusor, base)`` treats ``base`` as the server's ``/`` (as a chrooted SFTP user
sees it). It can play a server that lacks symlinks, atomic rename or hard links (a cloud
gateway), raising :class:`~prepcast.distribution.transport.Unsupported` as SFTP would, and can
be told to fail (``fail_next``) to exercise retries.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
from collections.abc import Iterable
from pathlib import Path

from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import (
    READ_LIMIT,
    ConnectionLost,
    Listed,
    NoSpace,
    PeerError,
    PermissionDenied,
    Progress,
    RemoteFailure,
    Unsupported,
)
from prepcast.errors import InputError


class LocalPeer:
    """A difusor's folder on local disk, reached without a network."""

    def __init__(self, difusor: Difusor, base: Path, *, symlinks: bool = True,
                 atomic_rename: bool = True, hardlinks: bool = True) -> None:
        self.difusor = difusor
        self.base = Path(base)
        self.symlinks = symlinks
        self.atomic_rename = atomic_rename
        self.hardlinks = hardlinks
        self.fail_next: list[PeerError] = []   # raised, one per operation, before doing it
        self.connects = 0
        self._open = False

    @property
    def where(self) -> str:
        return f"{self.difusor.name} (local {self.base})"

    def _path(self, remote: str) -> Path:
        parts = [p for p in posixpath.normpath("/" + remote).split("/") if p]
        return self.base.joinpath(*parts)

    def _check(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        if not self._open:
            self._open = True
            self.connects += 1

    def _err(self, what: str, exc: OSError) -> PeerError:
        kind: type[PeerError] = RemoteFailure
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            kind = NoSpace
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            kind = PermissionDenied
        elif exc.errno in (errno.ECONNRESET, errno.EPIPE):
            kind = ConnectionLost
        return kind(f"{self.where}: {what}: {exc.strerror or exc}")

    async def connect(self) -> None:
        self._check()

    async def close(self) -> None:
        self._open = False

    async def makedirs(self, dirs: Iterable[str]) -> None:
        self._check()
        for d in dirs:
            try:
                self._path(d).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._err(f"cannot create {d}", exc) from None

    def _data(self, local: Path, size: int) -> bytes:
        data = local.read_bytes()
        if len(data) != size:
            raise InputError.at(local, "changed while it was being sent")
        return data

    async def upload(self, local: Path, remote: str, size: int, *, resume: bool = True,
                     progress: Progress | None = None) -> int:
        self._check()
        if not self.atomic_rename:
            raise Unsupported(f"{self.where}: posix-rename {remote}: not supported")
        dest = self._path(remote)
        tmp = dest.with_name(f".{dest.name}.part")
        data = self._data(local, size)
        try:
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        except OSError as exc:
            raise self._err(f"writing {remote}", exc) from None
        if progress is not None:
            progress(size)
        return size

    async def write_into(self, local: Path, remote: str, size: int, *, offset: int = 0,
                         progress: Progress | None = None) -> int:
        self._check()
        data = self._data(local, size)
        dest = self._path(remote)
        try:
            tmp = dest.with_name(f".{dest.name}.w")
            tmp.write_bytes(data)
            os.replace(tmp, dest)   # a local "server" that commits on close, as object stores do
        except OSError as exc:
            raise self._err(f"writing {remote}", exc) from None
        if progress is not None:
            progress(size)
        return size

    async def link(self, existing: str, new: str) -> bool:
        self._check()
        if not self.hardlinks:
            return False
        try:
            os.link(self._path(existing), self._path(new))
        except OSError:
            return False
        return True

    async def swap_symlink(self, link: str, target: str) -> None:
        self._check()
        if not self.symlinks:
            raise Unsupported(f"{self.where}: symlink {link}: not supported")
        dest = self._path(link)
        tmp = dest.with_name(f".{dest.name}.new")
        try:
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            raise self._err(f"activate {link}", exc) from None

    async def read_link(self, link: str) -> str | None:
        self._check()
        try:
            return os.readlink(self._path(link))
        except OSError:
            return None

    async def list_files(self, top: str) -> dict[str, int]:
        return {p: f.size for p, f in (await self.list_stats(top)).items()}

    async def list_stats(self, top: str) -> dict[str, Listed]:
        """As an SFTP v3 server lists them: the mtime in whole seconds."""
        self._check()
        root = self._path(top)
        found: dict[str, Listed] = {}
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                if full.is_file() and not full.is_symlink():
                    st = full.stat()
                    found[full.relative_to(root).as_posix()] = Listed(st.st_size,
                                                                      int(st.st_mtime))
        return found

    async def listdir(self, path: str) -> list[str]:
        self._check()
        try:
            return sorted(os.listdir(self._path(path)))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._err(f"list {path}", exc) from None

    async def rmtree(self, path: str) -> None:
        self._check()
        shutil.rmtree(self._path(path), ignore_errors=True)

    async def remove(self, path: str) -> None:
        self._check()
        try:
            self._path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise self._err(f"remove {path}", exc) from None

    async def free_bytes(self, path: str) -> int | None:
        self._check()
        try:
            st = os.statvfs(self._path(path))
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    async def size_of(self, path: str) -> int | None:
        self._check()
        try:
            return self._path(path).stat().st_size
        except FileNotFoundError:
            return None

    async def exists(self, path: str) -> bool:
        self._check()
        return os.path.lexists(self._path(path))

    async def rename(self, old: str, new: str) -> None:
        self._check()
        dest = self._path(new)
        if os.path.lexists(dest):
            raise RemoteFailure(f"{self.where}: rename {old}: {new} exists")
        try:
            os.rename(self._path(old), dest)
        except OSError as exc:
            raise self._err(f"rename {old}", exc) from None

    async def read_bytes(self, path: str, limit: int = READ_LIMIT) -> bytes | None:
        self._check()
        p = self._path(path)
        try:
            if p.stat().st_size > limit:
                return None
            return p.read_bytes()
        except OSError:
            return None
