"""One way to write a file that is never seen half-written."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest

import prepcast.files as files
from prepcast.files import LockHeld, hold_lock, write_atomic


def test_written_whole_with_its_mode_and_nothing_left_beside(tmp_path: Path) -> None:
    target = tmp_path / "secreto.toml"
    target.write_bytes(b"old")
    write_atomic(target, b"new contents", mode=0o600, sync_dir=True)
    assert target.read_bytes() == b"new contents"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secreto.toml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "estado.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estado.json"]


def test_a_lock_file_removed_by_its_holder_meanwhile_is_not_taken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a runner refused before anything removes the lock file it holds; a process
    that had opened that file just before took its lock once released, on a file no longer at
    the path, while the next process took the new file's: two holders. Now the lock is taken
    only on the file at the path, which the next process is refused."""
    lock = tmp_path / "runner.lock"
    real = fcntl.flock
    removed: list[int] = []

    def flock(fd: int, op: int) -> None:
        if not removed:  # its holder removed it between this process's open and flock
            removed.append(fd)
            lock.unlink()
        real(fd, op)

    monkeypatch.setattr(files.fcntl, "flock", flock)
    fd = hold_lock(lock, "primero")
    monkeypatch.setattr(files.fcntl, "flock", real)
    try:
        assert os.fstat(fd).st_ino == lock.stat().st_ino
        with pytest.raises(LockHeld):
            os.close(hold_lock(lock, "segundo"))
    finally:
        os.close(fd)
