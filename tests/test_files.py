"""One way to write a file that is never seen half-written."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import prepcast.files as files
from prepcast.errors import InputError
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


def test_a_file_read_as_text_comes_back_decoded(tmp_path: Path) -> None:
    given = tmp_path / "casillas.csv"
    given.write_bytes("\ufeffSECCION,MUNICIPIO\n1,Toluca de Lerdo\n".encode())
    assert files.read_text(given, encoding="utf-8-sig") == "SECCION,MUNICIPIO\n1,Toluca de Lerdo\n"
    assert files.read_bytes(given).startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(("make", "kwargs", "says"), [
    (lambda p: None, {}, "cannot read: No such file or directory"),
    (lambda p: None, {"missing": "missing (the election's description)"},
     "missing (the election's description)"),
    (lambda p: p.mkdir(), {"what": "registry"}, "cannot read registry: Is a directory"),
    (lambda p: p.mkdir(), {"missing": "missing"}, "cannot read: Is a directory"),
    (lambda p: p.write_bytes(b"nombre = \"M\xe9xico\"\n"), {},
     "not UTF-8 (invalid continuation byte at byte 11)"),
    (lambda p: p.write_bytes(b"\x7fELF\x00\xff"), {"not_text": "not a text file (TOML in UTF-8)"},
     "not a text file (TOML in UTF-8)"),
])
def test_a_file_that_cannot_be_read_as_text_is_one_message_naming_it(
        make: Any, kwargs: dict[str, str], says: str, tmp_path: Path) -> None:
    given = tmp_path / "election.toml"
    make(given)
    with pytest.raises(InputError) as err:
        files.read_text(given, **kwargs)
    assert str(err.value) == f"{given}: {says}"


def test_an_unreadable_file_names_its_option(tmp_path: Path) -> None:
    given = tmp_path / "eventos.jsonl"
    given.write_bytes(b"\xff\n")
    with pytest.raises(InputError) as err:
        files.read_text(given, what="event log", field="--events")
    assert str(err.value) == f"{given}: --events: not UTF-8 (invalid start byte at byte 0)"
    with pytest.raises(InputError) as err:
        files.read_bytes(tmp_path / "nada", what="event log", field="--events")
    assert str(err.value) == f"{tmp_path / 'nada'}: --events: cannot read event log: " \
                             "No such file or directory"
