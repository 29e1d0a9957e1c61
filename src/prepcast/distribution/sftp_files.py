"""Writing one file over SFTP so that no reader sees it half-written, and resuming.

:func:`upload` writes beside its target (``.<name>.part``) and renames it into place with
``posix-rename@openssh.com``; :func:`write_into` writes straight into a folder no one serves
yet. Both continue from what an interrupted attempt left, and read it back before trusting it.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
from collections.abc import Callable
from pathlib import Path

import asyncssh

from prepcast.distribution.transport import PeerError, Progress
from prepcast.errors import InputError

log = logging.getLogger(__name__)

WRITE_NEW = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC

#: How a failed operation becomes the typed error naming the peer (``SftpPeer.error``).
ErrorOf = Callable[[str, BaseException], PeerError]


def part_name(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.part")


def read_whole(local: Path, size: int) -> bytes:
    data = local.read_bytes()
    if len(data) != size:
        raise InputError.at(local, "changed while it was being sent")
    return data


async def upload(sftp: asyncssh.SFTPClient, local: Path, remote: str, size: int, *,
                 error: ErrorOf, where: str, resume: bool = True,
                 progress: Progress | None = None) -> int:
    """Send ``local`` to ``remote`` via its ``.part`` name; return the bytes actually sent.

    With ``resume``, a ``.part`` left by an earlier attempt is continued from its size (and
    read back to check it before the rename). Sizes are checked by the caller's listing."""
    tmp = part_name(remote)
    offset = 0
    if resume:
        try:
            offset = int((await sftp.stat(tmp)).size or 0)
        except asyncssh.SFTPNoSuchFile:
            offset = 0
        except asyncssh.Error as exc:
            raise error(f"stat {tmp}", exc) from None
        if offset > size:
            offset = 0
    data = read_whole(local, size)
    try:
        offset = await _write_from(sftp, tmp, data, offset, where=where, remote=remote)
        if progress is not None:
            progress(size - offset)
        await sftp.posix_rename(tmp, remote)
    except (OSError, asyncssh.Error) as exc:
        raise error(f"writing {remote}", exc) from None
    return size - offset


async def write_into(sftp: asyncssh.SFTPClient, local: Path, remote: str, size: int, *,
                     error: ErrorOf, where: str, offset: int = 0,
                     progress: Progress | None = None) -> int:
    """Write ``local`` straight to ``remote`` inside a folder no one serves yet (a release's
    ``.partial``, whose rename is the atomic step), continuing from ``offset`` bytes an
    interrupted attempt left (read back and checked). Returns the bytes sent."""
    data = read_whole(local, size)
    if not 0 <= offset < size:
        offset = 0
    if offset == 0 and await write_small(sftp, remote, data, error=error):
        if progress is not None:
            progress(size)
        return size
    try:
        offset = await _write_from(sftp, remote, data, offset, where=where, remote=remote)
    except (OSError, asyncssh.Error) as exc:
        raise error(f"writing {remote}", exc) from None
    if progress is not None:
        progress(size - offset)
    return size - offset


async def _write_from(sftp: asyncssh.SFTPClient, path: str, data: bytes, offset: int, *,
                      where: str, remote: str) -> int:
    """Write ``data`` into ``path`` from ``offset`` on (what an interrupted attempt left before
    it), then read a resumed file back: one holding something else than our prefix is sent
    whole. Returns the offset the bytes were actually sent from."""
    async with sftp.open(path, "r+b" if offset else "wb") as f:
        if offset < len(data):
            await f.write(data[offset:], offset)
    if offset and not await same_bytes(sftp, path, data):
        log.warning("%s: %s: resumed file differs; sending it whole", where, remote)
        async with sftp.open(path, "wb") as f:
            await f.write(data, 0)
        offset = 0
    return offset


async def write_small(sftp: asyncssh.SFTPClient, remote: str, data: bytes, *,
                      error: ErrorOf) -> bool:
    """One open, one write, one close for a file that fits one write request, without
    asyncssh's file object and parallel writer (most of the pusher's CPU per small file).
    False when this asyncssh has no such handler or the file is too large."""
    handler = getattr(sftp, "_handler", None)
    limits = getattr(sftp, "limits", None)
    if handler is None or limits is None or len(data) > int(limits.max_write_len):
        return False
    try:
        handle = await handler.open(remote.encode(), WRITE_NEW, asyncssh.SFTPAttrs())
        try:
            if data:
                await handler.write(handle, 0, data)
        finally:
            await handler.close(handle)
    except (OSError, asyncssh.Error) as exc:
        raise error(f"writing {remote}", exc) from None
    return True


async def same_bytes(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> bool:
    """Whether the remote file holds exactly ``data`` (read back after a resume)."""
    async with sftp.open(path, "rb") as f:
        got: bytes | str = await f.read()
    remote = got.encode() if isinstance(got, str) else got
    return hashlib.sha256(remote).digest() == hashlib.sha256(data).digest()
