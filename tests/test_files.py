"""One way to write a file that is never seen half-written."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from prepcast.files import write_atomic


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
