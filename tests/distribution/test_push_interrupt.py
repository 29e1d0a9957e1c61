"""`prepcast push` and Ctrl-C, and two pushes at once, against the test sshd."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import SftpUser, Sshd, entry, live

pytestmark = pytest.mark.server


def _start(tmp_path: Path, keydir: Path, pkg: Path, *, state: str = "d.sqlite",
           registry: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "prepcast", "push",
         "--registry", str(registry or tmp_path / "registry.toml"),
         "--trust", str(keydir / "root.pub"), "--package", str(pkg),
         "--state", str(tmp_path / state), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(state: Path, cut: int) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(state)
    try:
        return db.execute("SELECT phase, result, ended FROM deliveries WHERE cut = ? ORDER BY id",
                          (cut,)).fetchall()
    finally:
        db.close()


def _interrupt(proc: subprocess.Popen[str]) -> tuple[str, float]:
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    return err, time.monotonic() - sent


def _first_cut_live(tmp_path: Path, keydir: Path, users: list[SftpUser]) -> Path:
    p1 = make_package(tmp_path / "p1", keydir, 1)
    first = _start(tmp_path, keydir, p1)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert all(live(u) == "releases/jornada-0001" for u in users)
    return p1


def test_one_ctrl_c_mid_transfer_stops_the_push_and_ends_every_attempt(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: after one Ctrl-C the push's attempts stayed ``running`` in the delivery
    state for ever (and the push could hang until a second Ctrl-C); now it stops at the first,
    exit 130, every attempt ended as ``interrupted``, the live cut untouched."""
    users = [sshd.add_user() for _ in range(2)]
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}") for i, u in enumerate(users)]))
    p1 = _first_cut_live(tmp_path, keydir, users)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1, big=120_000_000)
    proc = _start(tmp_path, keydir, p2)
    deadline = time.monotonic() + 60
    while not any((u.www / "releases" / ".jornada-0002.partial").exists() for u in users):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.3)
    err, took = _interrupt(proc)
    assert proc.returncode == 130 and err == "prepcast: interrupted\n", err
    assert took < 8, f"{took:.1f} s to stop after Ctrl-C"
    rows = _results(tmp_path / "d.sqlite", 2)
    assert rows and all(result == "interrupted" and ended for _, result, ended in rows), rows
    assert all(live(u) == "releases/jornada-0001" for u in users)


def test_ctrl_c_while_waiting_for_the_embargo_and_a_second_push_is_refused(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: a second `prepcast push` on the same --state while one ran was not refused
    (both ran to the end); and Ctrl-C during the wait for a cut's embargo left it ``running``.
    Now the second one names the running push's pid (exit 2) and the first stops at Ctrl-C."""
    users = [sshd.add_user() for _ in range(2)]
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}") for i, u in enumerate(users)]))
    p1 = _first_cut_live(tmp_path, keydir, users)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1,
                      not_before=datetime.now(UTC) + timedelta(minutes=10))
    proc = _start(tmp_path, keydir, p2)
    deadline = time.monotonic() + 60
    while [r for _, r, _ in _results(tmp_path / "d.sqlite", 2)] != ["ok", "ok"]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    second = _start(tmp_path, keydir, p2)
    _, err2 = second.communicate(timeout=60)
    assert second.returncode == 2, err2
    assert err2.strip().splitlines() == [
        f"prepcast: {tmp_path / 'registry.toml'}: a push (pid {proc.pid}) is already running "
        "with this registry; wait for it to end"], err2
    err, took = _interrupt(proc)
    assert proc.returncode == 130 and err.endswith("prepcast: interrupted\n"), err
    assert took < 8, f"{took:.1f} s to stop after Ctrl-C"
    assert [r for _, r, _ in _results(tmp_path / "d.sqlite", 2)] == ["ok", "ok"]
    assert all(live(u) == "releases/jornada-0001" for u in users)
    assert os.path.isdir(users[0].www / "releases" / "jornada-0002")


def test_a_push_to_the_same_difusores_with_another_state_is_refused(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: the lock was per --state file, so two pushes of different cuts to the same
    difusores, each with its own state, ran at once and interleaved on every difusor. Now the
    registry is locked: the second is refused naming the first's pid (exit 2), through another
    path to the same registry too, records nothing, and the first goes on undisturbed."""
    users = [sshd.add_user() for _ in range(2)]
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}") for i, u in enumerate(users)]))
    (tmp_path / "same.toml").symlink_to(tmp_path / "registry.toml")
    p1 = _first_cut_live(tmp_path, keydir, users)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1,
                      not_before=datetime.now(UTC) + timedelta(minutes=10))
    p3 = make_package(tmp_path / "p3", keydir, 3, previous=p1)
    first = _start(tmp_path, keydir, p2)
    try:  # never left behind waiting for its embargo if an assertion fails
        deadline = time.monotonic() + 60
        while [r for _, r, _ in _results(tmp_path / "d.sqlite", 2)] != ["ok", "ok"]:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        for registry in (tmp_path / "registry.toml", tmp_path / "same.toml"):
            second = _start(tmp_path, keydir, p3, state="other.sqlite", registry=registry)
            _, err = second.communicate(timeout=60)
            assert second.returncode == 2, err
            assert err.strip().splitlines() == [
                f"prepcast: {registry}: a push (pid {first.pid}) is already running with this "
                "registry; wait for it to end"], err
        assert not (tmp_path / "other.sqlite").exists()
        assert not any((u.www / "releases" / ".jornada-0003.partial").exists()
                       or (u.www / "releases" / "jornada-0003").exists() for u in users)
        assert first.poll() is None  # still waiting for its embargo
        err, _ = _interrupt(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 130, err
    assert all(live(u) == "releases/jornada-0001" for u in users)
    # once the first has ended, the registry is free again
    third = _start(tmp_path, keydir, p3, state="other.sqlite")
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert all(live(u) == "releases/jornada-0003" for u in users)


# `prepcast push` in a process of its own whose SFTP transfers never stop when cancelled: every
# cancellation that reaches them is swallowed and they go on waiting
_STUCK_PUSH = """
import asyncio, os, sys
from prepcast.distribution.sftp import SftpPeer

async def stuck(self, *args, **kwargs):
    with open(os.environ["STUCK_MARKS"], "a") as marks:  # this difusor's transfer is stuck now
        marks.write(f"{id(self)}\\n")
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass

SftpPeer.upload = stuck
SftpPeer.write_into = stuck
from prepcast.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_transfer_that_ignores_ctrl_c_is_stopped_by_the_watchdog(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """The watchdog: a push whose transfers do not stop after Ctrl-C is ended INTERRUPT_GRACE
    (3 s) later, exit 130 and one line, every attempt recorded as ``interrupted``. Regression:
    the watchdog stopped the loop, then asyncio.run waited for the stuck transfers for ever."""
    users = [sshd.add_user() for _ in range(2)]
    (tmp_path / "registry.toml").write_text(registry_toml(
        [entry(sshd, u, f"d{i}") for i, u in enumerate(users)]))
    p1 = _first_cut_live(tmp_path, keydir, users)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    marks = tmp_path / "stuck"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STUCK_PUSH, "push", "--registry", str(tmp_path / "registry.toml"),
         "--trust", str(keydir / "root.pub"), "--package", str(p2),
         "--state", str(tmp_path / "d.sqlite"), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "STUCK_MARKS": str(marks)})
    deadline = time.monotonic() + 60
    while len(set(marks.read_text().split()) if marks.exists() else ()) < 2:  # both stuck
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((_results(tmp_path / "d.sqlite", 2), proc.communicate()))
        time.sleep(0.05)
    assert proc.poll() is None
    assert [r for _, r, _ in _results(tmp_path / "d.sqlite", 2)] == ["running", "running"]
    try:
        err, took = _interrupt(proc)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err == "prepcast: interrupted\n", err
    assert 2.5 < took < 6, f"{took:.1f} s to stop after Ctrl-C"
    rows = _results(tmp_path / "d.sqlite", 2)
    assert len(rows) == 2 and all(r == "interrupted" and ended for _, r, ended in rows), rows
    assert all(live(u) == "releases/jornada-0001" for u in users)
