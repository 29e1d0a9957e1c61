"""Where ``difusores logo`` and ``difusores public`` write: never over a device, a folder or
anything that is not a regular file, never into a folder they had to invent, and an error names
the user's path, not a temporary one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from prepcast.errors import InputError
from prepcast.files import write_atomic
from tests.cli.in_process import prepcast

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>'


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return prepcast("difusores", *args)


def test_logo_out_refuses_a_fifo_a_folder_and_a_missing_folder(tmp_path: Path) -> None:
    good = tmp_path / "good.svg"
    good.write_text(LOGO)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for out in (fifo, tmp_path, tmp_path / "nope" / "c.svg", good / "x.svg"):
        r = run("logo", str(good), "--out", str(out))
        assert r.returncode == 2, (out, r.stderr)
        assert str(out) in r.stderr and "Traceback" not in r.stderr and ".tmp" not in r.stderr
        assert "accepted" not in r.stdout
    assert stat_is_fifo(fifo) and not (tmp_path / "nope").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.svg", "pipe"]


def stat_is_fifo(p: Path) -> bool:
    import stat
    return stat.S_ISFIFO(p.lstat().st_mode)


def test_logo_out_writes_a_regular_file_world_readable(tmp_path: Path) -> None:
    good = tmp_path / "good.svg"
    good.write_text(LOGO)
    out = tmp_path / "clean.svg"
    out.write_text("old")
    r = run("logo", str(good), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "<svg" in out.read_text() and out.stat().st_mode & 0o777 == 0o644


def test_public_out_refuses_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "public.json"
    r = run("public", "--registry", str(tmp_path / "registry.toml"), "--out", str(out))
    assert r.returncode == 2 and str(out) in r.stderr and not out.parent.exists()


def test_write_atomic_never_replaces_a_non_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        write_atomic(fifo, b"x")
    with pytest.raises(InputError, match="does not exist"):
        write_atomic(tmp_path / "a" / "b", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_refused_write_names_the_users_path(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        # root writes anywhere: then a path the kernel refuses
        target = Path("/proc/x.svg") if os.access(folder, os.W_OK) else folder / "x.svg"
        with pytest.raises(OSError) as caught:
            write_atomic(target, b"x")
        assert caught.value.filename == str(target)
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("value", ["-5", "0", "ten"])
def test_logo_max_bytes_must_be_positive(tmp_path: Path, value: str) -> None:
    good = tmp_path / "good.svg"
    good.write_text(LOGO)
    r = run("logo", str(good), "--max-bytes", value)
    assert r.returncode == 2 and "--max-bytes" in r.stderr and "Traceback" not in r.stderr


def test_logo_too_large_says_bytes(tmp_path: Path) -> None:
    good = tmp_path / "good.svg"
    good.write_text(LOGO)
    r = run("logo", str(good), "--max-bytes", "10")
    assert r.returncode == 2 and "larger than 10 bytes" in r.stderr, r.stderr


def test_logo_out_the_system_refuses_is_exit_2_with_the_users_path(tmp_path: Path) -> None:
    good = tmp_path / "good.svg"
    good.write_text(LOGO)
    r = run("logo", str(good), "--out", "/proc/x.svg")
    assert r.returncode == 1 and "/proc/x.svg: --out: cannot write" in r.stderr, r.stderr
    assert ".tmp" not in r.stderr and "accepted" not in r.stdout
