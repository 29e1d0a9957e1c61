"""Writing a file so that nobody ever reads half of it: a temporary name beside it, fsync, rename;
and the lock file that keeps a second process off a folder (the daemon's root, the runner's state).

One home for the idioms the keys, the registry's secrets, the runner's and the monitor's state use.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from prepcast.errors import InputError


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, sync_dir: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path`` (created with ``mode``), fsync it and
    rename it over ``path``; ``sync_dir`` also fsyncs the folder, so the rename survives a crash.

    Refuses (:class:`InputError`) a ``path`` that exists and is not a regular file (a device, a
    folder, a FIFO: never replaced) and a folder that does not exist (never created here); a
    system refusal names ``path``, not the temporary name."""
    check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def check_target(path: Path) -> None:
    """Refuse an output ``path`` that exists and is not a regular file, or whose folder does not
    exist; call it before any long work whose result goes to ``path``."""
    if path.exists() and not path.is_file():
        raise InputError.at(path, "exists and is not a regular file; refusing to replace it")
    if path.is_symlink() and not path.exists():
        raise InputError.at(path, "is a dangling symbolic link; refusing to replace it")
    if not path.parent.is_dir():
        raise InputError.at(path, f"the folder {path.parent} does not exist")


class LockHeld(Exception):
    """Another process holds the lock; ``pid`` as it wrote it in the lock file ("?" if unknown)
    and ``holder``, who it said it is (``""`` if it said nothing)."""

    def __init__(self, pid: str, holder: str = "") -> None:
        super().__init__(pid)
        self.pid = pid
        self.holder = holder


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino)


def hold_lock(path: Path, holder: str = "") -> int:
    """Take ``path``'s exclusive ``flock`` without waiting (the file is created if missing) and
    write this process's pid in it, then ``holder`` (one line: who holds it, for the message of
    the process refused); the descriptor to keep open while holding it (the kernel drops the
    lock when the process ends, however it ends). :class:`LockHeld` when another process holds
    it. A lock file its holder removed while this process was opening it is not taken (that
    lock would guard nothing): the file now at ``path`` is."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lines = os.pread(fd, 4096, 0).decode(errors="replace").splitlines()
            os.close(fd)
            pid = lines[0].strip() if lines and lines[0].strip() else "?"
            raise LockHeld(pid, lines[1].strip() if len(lines) > 1 else "") from None
        if _same_file(fd, path):
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    text = f"{os.getpid()}\n" + (f"{' '.join(holder.split())}\n" if holder else "")
    os.pwrite(fd, text.encode(), 0)
    return fd
