"""SFTP to one difusor with asyncssh: one connection kept open across cuts, safe uploads.

Every upload goes to a temporary name beside its target (``.<name>.part``) and is renamed into
place with ``posix-rename@openssh.com`` once complete, so a reader never sees a half-written
file. A ``.part`` left by a dropped connection is continued from its size on the next attempt
(resume). Every failure of the peer becomes a typed
:class:`~prepcast.distribution.transport.PeerError` naming the difusor.

How a session opens is :mod:`prepcast.distribution.sftp_connect`; how one file is written,
:mod:`prepcast.distribution.sftp_files`.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asyncssh

from prepcast.distribution._asyncssh_logging import quiet_asyncssh_logging
from prepcast.distribution._sftp_errors import describe, error_type
from prepcast.distribution.registry import Difusor
from prepcast.distribution.sftp_connect import (
    CONNECT_TIMEOUT,
    open_session,
    unreadable_key,
    where,
)
from prepcast.distribution.sftp_files import part_name, upload, write_into
from prepcast.distribution.transport import (
    READ_LIMIT,
    Listed,
    PeerError,
    Progress,
    RemoteFailure,
)

__all__ = ["CONNECT_TIMEOUT", "SftpPeer", "part_name", "unreadable_key"]

quiet_asyncssh_logging()


class SftpPeer:
    """The SFTP session with one difusor (a :class:`~prepcast.distribution.transport.Peer`);
    reconnects when the previous connection dropped."""

    def __init__(self, difusor: Difusor, *, known_hosts: Path | None = None,
                 file_concurrency: int = 32, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.difusor = difusor
        self.connect_timeout = connect_timeout
        self.known_hosts = known_hosts
        self.file_concurrency = file_concurrency
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self.connects = 0

    @property
    def where(self) -> str:
        return where(self.difusor)

    async def sftp(self) -> asyncssh.SFTPClient:
        """The open SFTP client, connecting (again) if needed."""
        if self._sftp is not None and self._conn is not None and not self._conn.is_closed():
            return self._sftp
        await self.close()
        self._conn, self._sftp = await open_session(self.difusor, known_hosts=self.known_hosts,
                                                    connect_timeout=self.connect_timeout)
        self.connects += 1
        return self._sftp

    async def connect(self) -> None:
        await self.sftp()

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(TimeoutError, OSError, asyncssh.Error):
                await asyncio.wait_for(self._conn.wait_closed(), 5)
        self._conn = None
        self._sftp = None

    async def call(self, what: str, coro: Any) -> Any:
        """Await an SFTP operation, turning its failure into a PeerError naming the peer."""
        try:
            return await coro
        except (OSError, asyncssh.Error) as exc:
            raise self.error(what, exc) from None

    def error(self, what: str, exc: BaseException) -> PeerError:
        """The typed error for a failed operation (what the SFTP status code says)."""
        return error_type(exc)(f"{self.where}: {what}: {describe(exc)}")

    async def makedirs(self, dirs: Iterable[str]) -> None:
        """Create every directory (and its parents), shallow ones first."""
        sftp = await self.sftp()
        wanted: set[str] = set()
        for d in dirs:
            while d not in ("", "/", "."):
                wanted.add(d)
                d = posixpath.dirname(d)
        by_depth: dict[int, list[str]] = {}
        for d in wanted:
            by_depth.setdefault(d.count("/"), []).append(d)
        for depth in sorted(by_depth):
            await asyncio.gather(*(self._mkdir(sftp, d) for d in by_depth[depth]))

    async def _mkdir(self, sftp: asyncssh.SFTPClient, path: str) -> None:
        try:
            await sftp.mkdir(path)
        except asyncssh.SFTPFailure:
            if not await sftp.isdir(path):
                raise RemoteFailure(f"{self.where}: cannot create {path}") from None
        except asyncssh.SFTPError as exc:
            if not await sftp.isdir(path):
                raise self.error(f"cannot create {path}", exc) from None

    async def upload(self, local: Path, remote: str, size: int, *, resume: bool = True,
                     progress: Progress | None = None) -> int:
        """Send ``local`` to ``remote`` via its ``.part`` name; return the bytes actually sent
        (:func:`prepcast.distribution.sftp_files.upload`)."""
        return await upload(await self.sftp(), local, remote, size, error=self.error,
                            where=self.where, resume=resume, progress=progress)

    async def write_into(self, local: Path, remote: str, size: int, *, offset: int = 0,
                         progress: Progress | None = None) -> int:
        """Write ``local`` straight to ``remote`` in a folder no one serves yet, continuing
        from ``offset``; return the bytes sent
        (:func:`prepcast.distribution.sftp_files.write_into`)."""
        return await write_into(await self.sftp(), local, remote, size, error=self.error,
                                where=self.where, offset=offset, progress=progress)

    async def link(self, existing: str, new: str) -> bool:
        """Hard-link ``existing`` to ``new`` (``hardlink@openssh.com``); False when not possible."""
        sftp = await self.sftp()
        try:
            await sftp.link(existing, new)
        except asyncssh.SFTPError:
            return False
        return True

    async def swap_symlink(self, link: str, target: str) -> None:
        """Point ``link`` at ``target`` atomically: a new symlink renamed over the old one."""
        sftp = await self.sftp()
        tmp = posixpath.join(posixpath.dirname(link), f".{posixpath.basename(link)}.new")
        with contextlib.suppress(asyncssh.SFTPError):
            await sftp.remove(tmp)
        await self.call(f"symlink {tmp}", sftp.symlink(target, tmp))
        await self.call(f"activate {link}", sftp.posix_rename(tmp, link))

    async def read_link(self, link: str) -> str | None:
        """Where ``link`` points; for servers whose readlink fails on a relative target (the
        chrooted asyncssh server resolves it against its own working folder), the path the
        server resolves it to."""
        sftp = await self.sftp()
        try:
            return str(await sftp.readlink(link))
        except asyncssh.SFTPError:
            pass
        try:
            if not await sftp.islink(link):
                return None
            resolved = str(await sftp.realpath(link))
        except asyncssh.SFTPError:
            return None
        return resolved if posixpath.normpath(resolved) != posixpath.normpath(link) else None

    async def list_files(self, top: str) -> dict[str, int]:
        """Every regular file below ``top`` (relative path -> size); empty when ``top`` is absent."""
        return {p: f.size for p, f in (await self.list_stats(top)).items()}

    async def list_stats(self, top: str) -> dict[str, Listed]:
        """Every regular file below ``top`` (relative path -> size and mtime, from the same
        directory listing); empty when ``top`` is absent."""
        sftp = await self.sftp()
        found: dict[str, Listed] = {}

        async def walk(rel: str) -> None:
            path = posixpath.join(top, rel) if rel else top
            try:
                entries = await sftp.readdir(path)
            except asyncssh.SFTPError:
                return
            subdirs = []
            for e in entries:
                name = e.filename if isinstance(e.filename, str) else e.filename.decode()
                if name in (".", ".."):
                    continue
                child = posixpath.join(rel, name) if rel else name
                if e.attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY:
                    subdirs.append(child)
                elif e.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR:
                    mtime = e.attrs.mtime
                    found[child] = Listed(int(e.attrs.size or 0),
                                          int(mtime) if mtime is not None else None)
            await asyncio.gather(*(walk(s) for s in subdirs))

        await walk("")
        return found

    async def rmtree(self, path: str) -> None:
        sftp = await self.sftp()
        await self.call(f"remove {path}", sftp.rmtree(path, ignore_errors=True))

    async def listdir(self, path: str) -> list[str]:
        sftp = await self.sftp()
        try:
            names = await sftp.listdir(path)
        except asyncssh.SFTPNoSuchFile:
            return []
        except asyncssh.Error as exc:
            raise self.error(f"list {path}", exc) from None
        return [n for n in names if n not in (".", "..")]

    async def free_bytes(self, path: str) -> int | None:
        """Bytes free for us at ``path`` (``statvfs@openssh.com``); None without the extension."""
        sftp = await self.sftp()
        try:
            st = await sftp.statvfs(path)
        except (OSError, asyncssh.Error):
            return None
        return int(st.bavail * st.frsize)

    async def size_of(self, path: str) -> int | None:
        """The size of a remote file, or None when it is not there."""
        sftp = await self.sftp()
        try:
            return int((await sftp.stat(path)).size or 0)
        except asyncssh.SFTPNoSuchFile:
            return None
        except asyncssh.Error as exc:
            raise self.error(f"stat {path}", exc) from None

    async def exists(self, path: str) -> bool:
        sftp = await self.sftp()
        return bool(await self.call(f"stat {path}", sftp.exists(path)))

    async def rename(self, old: str, new: str) -> None:
        sftp = await self.sftp()
        await self.call(f"rename {old}", sftp.rename(old, new))

    async def remove(self, path: str) -> None:
        sftp = await self.sftp()
        try:
            await sftp.remove(path)
        except asyncssh.SFTPNoSuchFile:
            return
        except (OSError, asyncssh.Error) as exc:
            raise self.error(f"remove {path}", exc) from None

    async def read_bytes(self, path: str, limit: int = READ_LIMIT) -> bytes | None:
        sftp = await self.sftp()
        try:
            async with sftp.open(path, "rb") as f:
                size = int((await f.stat()).size or 0)
                if size > limit:
                    return None
                data = await f.read(size) if size else b""
        except asyncssh.SFTPError:
            return None
        except (OSError, asyncssh.Error) as exc:
            raise self.error(f"read {path}", exc) from None
        raw = data if isinstance(data, bytes) else data.encode()
        return raw if len(raw) <= limit else None
