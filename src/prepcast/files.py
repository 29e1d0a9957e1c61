"""Reading a file the user gave, so that whatever goes wrong is one message naming it; writing a
file so that nobody ever reads half of it: a temporary name beside it, fsync, rename; and the lock
file that keeps a second process off a folder (the daemon's root, the runner's state).

One home for the idioms the readers of catalogs, registries, configurations and keys, the
registry's secrets, the runner's and the monitor's state use.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from prepcast.errors import InputError


def read_bytes(path: Path, *, what: str = "", field: str | None = None) -> bytes:
    """The bytes of a file the user gave; a system refusal (missing, a folder, no permission) is
    one :class:`InputError` naming ``path``: "cannot read[ what]: <the system's reason>"."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _refused(path, exc, what, field) from None


def decode_utf8(data: bytes, path: Path | str, *, encoding: str = "utf-8",
                not_text: str = "", field: str | None = None) -> str:
    """``data`` (read from ``path``) as text in ``encoding`` (``utf-8``, or ``utf-8-sig`` to drop
    a byte order mark); bytes that are not are one :class:`InputError` naming ``path``:
    ``not_text``, or "not UTF-8 (<reason> at byte N)"."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError.at(path, not_text or f"not UTF-8 ({exc.reason} at byte {exc.start})",
                            field=field) from None


def read_text(path: Path, *, what: str = "", encoding: str = "utf-8", not_text: str = "",
              missing: str = "", field: str | None = None) -> str:
    """The text of a file the user gave, in ``encoding``; whatever goes wrong is one
    :class:`InputError` naming ``path``: ``missing`` for a file that does not exist (when
    given), "cannot read[ what]: <reason>" for any other refusal, and for bytes that are not
    text ``not_text`` or "not UTF-8 (<reason> at byte N)"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise (InputError.at(path, missing, field=field) if missing
               else _refused(path, exc, what, field)) from None
    except OSError as exc:
        raise _refused(path, exc, what, field) from None
    return decode_utf8(data, path, encoding=encoding, not_text=not_text, field=field)


def _refused(path: Path, exc: OSError, what: str, field: str | None) -> InputError:
    return InputError.at(path, f"cannot read{' ' + what if what else ''}: {exc.strerror or exc}",
                         field=field)


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
