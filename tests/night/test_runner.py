"""The runner alone (no difusores): the clock check, cuts slower than their interval, SIGTERM,
and the timeline. The runner is a process of its own where that is the point (SIGTERM, a second
runner refused by the first one's lock); elsewhere the command runs in this process."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from prepcast.difusor.activate import read_pushed
from prepcast.difusor.clock import sntp_reply
from prepcast.election import cut_time, load_election_dir
from prepcast.package import load_manifest, load_signer
from prepcast.publish import build_cut
from prepcast.publish.state import LOCK_FILE, NightState, lock_state, now
from prepcast.publish.timeline import Timeline
from tests.cli.in_process import prepcast
from tests.night.night_run import night_args, night_here, run_night, status


class Ntp:
    """An SNTP server on loopback whose clock is ``offset`` seconds from ours."""

    def __init__(self, offset: float) -> None:
        self.offset = offset
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                continue
            self.sock.sendto(sntp_reply(data, self.offset), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def ntp_off() -> Iterator[Ntp]:
    server = Ntp(5.0)
    yield server
    server.close()


def test_a_clock_off_refuses_to_start(small_election: Path, night_keys: Path, tmp_path: Path,
                                      ntp_off: Ntp) -> None:
    r = night_here(small_election, night_keys, tmp_path / "estado", tmp_path / "instituto",
                   "--ntp", f"127.0.0.1:{ntp_off.port}", until="2024-06-02T20:00",
                   ejercicio="prueba-1")
    assert r.returncode == 1
    assert "clock is 5.0 s behind" in r.stderr and "refusing to start" in r.stderr
    assert r.stderr.count("\n") == 1
    assert not (tmp_path / "estado").exists() and not (tmp_path / "instituto").exists()
    ntp_off.offset = 0.0
    r = night_here(small_election, night_keys, tmp_path / "estado", tmp_path / "instituto",
                   "--ntp", f"127.0.0.1:{ntp_off.port}", until="2024-06-02T20:00",
                   ejercicio="prueba-1")
    assert r.returncode == 0, r.stderr


def test_cuts_slower_than_their_interval(small_election: Path, night_keys: Path,
                                         tmp_path: Path) -> None:
    """At 20,000 times the speed a cut is due every 60 ms: every build is slower than that. The
    cuts never overlap, the ones whose time passed are skipped for the newest one due, and each
    published cut is exactly the package of its time built on its own."""
    state, root = tmp_path / "estado", tmp_path / "instituto"
    r = night_here(small_election, night_keys, state, root, speed="20000",
                   until="2024-06-02T23:00")
    assert r.returncode == 0, r.stderr
    cuts = NightState.read(state).cuts()
    published = [c for c in cuts if "publish" in c["steps"]]
    assert published[-1]["number"] == 10
    assert any(c.get("skipped") for c in cuts)
    steps = [(c["steps"]["build"]["at"], c["steps"]["publish"]["at"]) for c in published]
    for (_, published_at), (built_at, _) in itertools.pairwise(steps):
        assert built_at > published_at  # the next cut starts after the one before is done
    ed = load_election_dir(small_election)
    signer = load_signer(night_keys)
    releases = sorted((root / "releases").iterdir())
    for before, after in itertools.pairwise(releases):
        number = int(after.name.rsplit("-", 1)[1])
        alone = build_cut(ed, cut_time(ed.proceso, number), signer, tmp_path / after.name,
                          previous=before, not_before=load_manifest(after).not_before)
        published_digest = next(c["steps"]["build"]["digest"] for c in published
                                if c["number"] == number)
        assert alone.digest == published_digest
    assert status(state)["omitidos"]
    # each release held says when its push ended (to nobody here), after it was published:
    # the monitor's reference (a release pruned while the last push travelled may linger there)
    pushed = read_pushed(root)
    assert pushed is not None and {r.name for r in releases} <= set(pushed)
    for c in published:
        if f"jornada-{c['number']:04d}" in pushed:
            assert pushed[f"jornada-{c['number']:04d}"] >= datetime.fromisoformat(
                c["steps"]["publish"]["at"])


def test_sigterm_stops_after_the_current_step(small_election: Path, night_keys: Path,
                                              tmp_path: Path) -> None:
    state = tmp_path / "estado"
    proc = subprocess.Popen(night_args(small_election, night_keys, state, tmp_path / "instituto",
                                       speed="600"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            if (state / "night.json").exists() and NightState.read(state).published():
                break
            threading.Event().wait(0.1)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # interrupted, not done
    assert "SIGTERM" in err
    view = status(state)
    assert view["ejecutor"]["en_marcha"] is False
    assert view["corte_actual"]["numero"] >= 1 and view["corte_siguiente"] is not None


def test_a_second_runner_on_the_same_state_is_refused(small_election: Path, night_keys: Path,
                                                      tmp_path: Path) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    fd = lock_state(state)  # a runner holds it (this process)
    try:
        r = run_night(small_election, night_keys, state, root, until="2024-06-02T20:00",
                      ejercicio="prueba-1")
    finally:
        os.close(fd)
    assert r.returncode == 2, r.stderr
    assert f"a runner (pid {os.getpid()}) is already using this --state" in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert sorted(p.name for p in state.iterdir()) == [LOCK_FILE] and not root.exists()
    # released (as the kernel does when a runner dies): the same command goes on
    r = run_night(small_election, night_keys, state, root, until="2024-06-02T20:00",
                  ejercicio="prueba-1")
    assert r.returncode == 0, r.stderr


def test_until_not_a_time_names_until(small_election: Path, night_keys: Path,
                                      tmp_path: Path) -> None:
    r = night_here(small_election, night_keys, tmp_path / "estado", tmp_path / "instituto",
                   until="yesterday")
    assert r.returncode == 2
    assert "--until 'yesterday' is not a date-time" in r.stderr and "--at" not in r.stderr


def test_a_drill_never_defaults_to_the_jornada(small_election: Path, night_keys: Path,
                                              tmp_path: Path) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    args = night_args(small_election, night_keys, state, root, until="2024-06-02T20:00")
    i = args.index("--ejercicio")
    del args[i:i + 2]
    r = prepcast(*args[3:])
    assert r.returncode == 2
    assert "name its --ejercicio" in r.stderr and r.stderr.count("\n") == 1
    assert not state.exists() and not root.exists()
    r = night_here(small_election, night_keys, state, root, until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr  # --ejercicio jornada on purpose: a warning
    assert "warning: the jornada played as a drill" in r.stderr


def test_a_bad_registry_leaves_nothing_behind(small_election: Path, night_keys: Path,
                                              tmp_path: Path) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    registry = tmp_path / "registry.toml"
    registry.write_text('secrets = "no-such-secrets.toml"\n', encoding="utf-8")
    r = night_here(small_election, night_keys, state, root, registry=registry,
                   ejercicio="prueba-1", until="2024-06-02T20:00")
    assert r.returncode == 2
    assert "secrets file not found" in r.stderr and "Traceback" not in r.stderr
    assert not state.exists() and not root.exists()
    # corrected, another ejercicio on the same --state starts
    registry.write_text("", encoding="utf-8")
    r = night_here(small_election, night_keys, state, root, registry=registry,
                   ejercicio="prueba-2", until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr


def test_a_corrupt_delivery_record_is_one_line(small_election: Path, night_keys: Path,
                                               tmp_path: Path) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    r = night_here(small_election, night_keys, state, root, ejercicio="prueba-1",
                   until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
    live = (root / "current").resolve()
    (state / "deliveries.sqlite").write_bytes(b"not a database at all, " * 100)
    for wal in state.glob("deliveries.sqlite-*"):
        wal.unlink()
    out = prepcast("night", "status", "--state", str(state))
    assert out.returncode == 2
    assert "deliveries.sqlite" in out.stderr and out.stderr.count("\n") == 1
    r = night_here(small_election, night_keys, state, root, ejercicio="prueba-1",
                   until="2024-06-02T21:00")
    assert r.returncode == 2
    assert "deliveries.sqlite" in r.stderr and r.stderr.count("\n") == 1
    assert (root / "current").resolve() == live  # nothing published


def test_status_after_until_shows_the_next_cut(small_election: Path, night_keys: Path,
                                               tmp_path: Path) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    r = night_here(small_election, night_keys, state, root, ejercicio="prueba-1",
                   until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
    view = status(state)
    nxt = view["corte_siguiente"]
    assert nxt is not None and nxt["numero"] == view["corte_actual"]["numero"] + 1
    assert nxt["detenido"].startswith("detenido en --until 2024-06-02T20:00")
    shown = prepcast("night", "status", "--state", str(state))
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "la noche terminó" not in out and "detenido en --until" in out


def test_timeline(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    t0 = now()
    tl = Timeline(ed.proceso, t0, 60.0)
    assert tl.total == 73
    assert tl.due(1) == t0 and tl.due(2) == t0 + timedelta(seconds=20)
    assert tl.next_cut(0, t0) == 1
    assert tl.next_cut(1, t0) == 2  # not due yet: the next one, waited for
    assert tl.next_cut(1, t0 + timedelta(seconds=65)) == 4  # 2 and 3 are past: skipped
    assert tl.next_cut(73, t0) is None
    fast = Timeline(ed.proceso, t0, None, cut_time(ed.proceso, 4))
    assert fast.total == 4 and fast.next_cut(2, t0) == 3 and fast.next_cut(4, t0) is None


def test_refusals_leave_nothing_and_the_publish_root_must_be_one(
        small_election: Path, night_keys: Path, tmp_path: Path) -> None:
    """Regression: a folder holding something else is no publish root (exit 2,
    untouched); a refused ejercicio leaves no runner.lock, and says its cut once."""
    state, root = tmp_path / "estado", tmp_path / "instituto"
    before = sorted(p.name for p in small_election.iterdir())
    r = night_here(small_election, night_keys, state / "p1", small_election,
                   ejercicio="prueba-1", until="2024-06-02T20:00")
    assert r.returncode == 2, r.stderr
    assert f"{small_election}: not a publish root (no releases/ folder) and not empty" in r.stderr
    assert sorted(p.name for p in small_election.iterdir()) == before
    assert not state.exists()
    r = night_here(small_election, night_keys, state / "p2", root, ejercicio="prueba-2",
                   until="2024-06-02T20:00")
    assert r.returncode == 0, r.stderr
    r = night_here(small_election, night_keys, state / "p1", root, ejercicio="prueba-1",
                   until="2024-06-02T20:00")
    assert r.returncode == 3, r.stderr
    assert f"{root} already shows cut 1 of prueba-2: prueba-1 comes before it" in r.stderr
    assert "of prueba-2 of prueba-2" not in r.stderr
    assert not (state / "p1").exists(), list((state / "p1").iterdir())
