"""SFTP to one difusor with asyncssh: one connection kept open across cuts, safe uploads.

Every upload goes to a temporary name beside its target (``.<name>.part``) and is renamed into
place with ``posix-rename@openssh.com`` once complete, so a reader never sees a half-written
file. A ``.part`` left by a dropped connection is continued from its size on the next attempt
(resume). Every failure of the peer becomes a typed
:class:`~prepcast.distribution.transport.PeerError` naming the difusor.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asyncssh

from prepcast.distribution._asyncssh_logging import quiet_asyncssh_logging
from prepcast.distribution._sftp_errors import describe, error_type
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import (
    READ_LIMIT,
    AuthenticationFailed,
    HostKeyRefused,
    KeyUnreadable,
    PeerError,
    Progress,
    RemoteFailure,
    Unreachable,
)
from prepcast.errors import InputError

log = logging.getLogger(__name__)
quiet_asyncssh_logging()

# OpenSSH advertises 261,120 bytes per write; asyncssh's default block size stays below it.
CONNECT_TIMEOUT = 15.0
_WRITE_NEW = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC
ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr",
                   "chacha20-poly1305@openssh.com")


#: What a server that authenticates us and then closes before SFTP starts usually means.
CLOSED_AFTER_AUTH = (
    "el servidor cerró la conexión justo después de autenticarnos: en una cuenta solo-SFTP suele "
    "ser la carpeta chroot (cada carpeta del camino debe ser de root y no escribible por grupo "
    "ni otros) o el shell/Subsystem de la cuenta; en el difusor, `prepcast difusor check "
    "--root CARPETA` lo revisa y sshd lo dice en su bitácora")


def part_name(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.part")


def unreadable_key(difusor: Difusor) -> str | None:
    """Why ``difusor``'s ``key_file`` cannot be used (a public key, garbage, unreadable), in
    the institute's words; None when it is a private key prepcast can read."""
    if difusor.auth != "key" or difusor.key_file is None:
        return None
    try:
        asyncssh.read_private_key(str(difusor.key_file))
    except (asyncssh.KeyImportError, ValueError, OSError) as exc:
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return (f"no se pudo leer la llave privada del instituto (key_file) {difusor.key_file}"
                f" (original: «{text}»)")
    return None


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
        d = self.difusor
        return f"{d.name} ({d.user}@{d.host}:{d.port})"

    def _host_keys(self) -> Any:
        d = self.difusor
        if d.host_key:
            try:
                return ([asyncssh.import_public_key(d.host_key)], [], [])
            except (asyncssh.KeyImportError, ValueError) as exc:
                raise HostKeyRefused(f"{self.where}: unreadable host_key: {exc}") from None
        if self.known_hosts is not None:
            return str(self.known_hosts)
        raise HostKeyRefused(
            f"{self.where}: unknown host key; pin it with host_key in the registry "
            "(ssh-keyscan) or list it in known_hosts"
        )

    async def sftp(self) -> asyncssh.SFTPClient:
        """The open SFTP client, connecting (again) if needed."""
        if self._sftp is not None and self._conn is not None and not self._conn.is_closed():
            return self._sftp
        await self.close()
        d = self.difusor
        options: dict[str, Any] = {
            "username": d.user,
            "known_hosts": self._host_keys(),
            "connect_timeout": self.connect_timeout,
            "keepalive_interval": 15,
            "agent_path": None,
            "config": None,
            # AES-GCM runs in hardware; asyncssh's chacha20 costs a Python call per packet
            "encryption_algs": ENCRYPTION_ALGS,
        }
        if d.auth == "key":
            why = unreadable_key(d)
            if why is not None:
                raise KeyUnreadable(f"{self.where}: {why}")
            options["client_keys"] = [str(d.key_file)]
            options["password"] = None
            options["preferred_auth"] = "publickey"
        else:
            options["client_keys"] = None
            options["password"] = d.password
            options["preferred_auth"] = "password,keyboard-interactive"
            options["kbdint_auth"] = True
        try:
            self._conn = await asyncssh.connect(d.host, d.port, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise HostKeyRefused(f"{self.where}: host key refused: {exc}") from None
        except asyncssh.PermissionDenied:
            raise AuthenticationFailed(
                f"{self.where}: authentication failed ({'key' if d.auth == 'key' else 'password'})"
            ) from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            raise Unreachable(f"{self.where}: cannot connect: {describe(exc)}") from None
        try:
            self._sftp = await self._conn.start_sftp_client()
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            raise Unreachable(f"{self.where}: cannot connect: {describe(exc)}; {CLOSED_AFTER_AUTH}"
                              ) from None
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
        """Send ``local`` to ``remote`` via its ``.part`` name; return the bytes actually sent.

        With ``resume``, a ``.part`` left by an earlier attempt is continued from its size (and
        read back to check it before the rename). Sizes are checked by the caller's listing."""
        sftp = await self.sftp()
        tmp = part_name(remote)
        offset = 0
        if resume:
            try:
                offset = int((await sftp.stat(tmp)).size or 0)
            except asyncssh.SFTPNoSuchFile:
                offset = 0
            except asyncssh.Error as exc:
                raise self.error(f"stat {tmp}", exc) from None
            if offset > size:
                offset = 0
        data = local.read_bytes()
        if len(data) != size:
            raise InputError.at(local, "changed while it was being sent")
        try:
            async with sftp.open(tmp, "r+b" if offset else "wb") as f:
                if offset < size:
                    await f.write(data[offset:], offset)
            if offset and not await self._same(sftp, tmp, data):
                # the interrupted attempt left something else than our prefix: send it whole
                log.warning("%s: %s: resumed file differs; sending it whole", self.where, remote)
                async with sftp.open(tmp, "wb") as f:
                    await f.write(data, 0)
                offset = 0
            if progress is not None:
                progress(size - offset)
            await sftp.posix_rename(tmp, remote)
        except (OSError, asyncssh.Error) as exc:
            raise self.error(f"writing {remote}", exc) from None
        return size - offset

    async def write_into(self, local: Path, remote: str, size: int, *, offset: int = 0,
                         progress: Progress | None = None) -> int:
        """Write ``local`` straight to ``remote`` inside a folder no one serves yet (a release's
        ``.partial``, whose rename is the atomic step), continuing from ``offset`` bytes an
        interrupted attempt left (read back and checked). Returns the bytes sent."""
        sftp = await self.sftp()
        data = local.read_bytes()
        if len(data) != size:
            raise InputError.at(local, "changed while it was being sent")
        if not 0 <= offset < size:
            offset = 0
        if offset == 0 and await self._write_small(sftp, remote, data):
            if progress is not None:
                progress(size)
            return size
        try:
            async with sftp.open(remote, "r+b" if offset else "wb") as f:
                await f.write(data[offset:], offset)
            if offset and not await self._same(sftp, remote, data):
                log.warning("%s: %s: resumed file differs; sending it whole", self.where, remote)
                async with sftp.open(remote, "wb") as f:
                    await f.write(data, 0)
                offset = 0
        except (OSError, asyncssh.Error) as exc:
            raise self.error(f"writing {remote}", exc) from None
        if progress is not None:
            progress(size - offset)
        return size - offset

    async def _write_small(self, sftp: asyncssh.SFTPClient, remote: str, data: bytes) -> bool:
        """One open, one write, one close for a file that fits one write request, without
        asyncssh's file object and parallel writer (most of the pusher's CPU per small file).
        False when this asyncssh has no such handler or the file is too large."""
        handler = getattr(sftp, "_handler", None)
        limits = getattr(sftp, "limits", None)
        if handler is None or limits is None or len(data) > int(limits.max_write_len):
            return False
        try:
            handle = await handler.open(remote.encode(), _WRITE_NEW, asyncssh.SFTPAttrs())
            try:
                if data:
                    await handler.write(handle, 0, data)
            finally:
                await handler.close(handle)
        except (OSError, asyncssh.Error) as exc:
            raise self.error(f"writing {remote}", exc) from None
        return True

    @staticmethod
    async def _same(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> bool:
        """Whether the remote file holds exactly ``data`` (read back after a resume)."""
        async with sftp.open(path, "rb") as f:
            got: bytes | str = await f.read()
        remote = got.encode() if isinstance(got, str) else got
        return hashlib.sha256(remote).digest() == hashlib.sha256(data).digest()

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
        sftp = await self.sftp()
        found: dict[str, int] = {}

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
                    found[child] = int(e.attrs.size or 0)
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
