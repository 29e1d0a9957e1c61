"""The runner against real difusores: SFTP-only ones on OpenSSH, daemons behind OpenSSH.

A drill and then the jornada to the same difusores; the runner killed at random points and
started again; a daemon's refusal in ``night status``."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from prepcast.difusor.activate import release_problems
from prepcast.package import CutId, load_manifest, verify_package
from prepcast.package.keys import ROOT_PUB
from prepcast.publish.state import NightState
from tests.distribution.dist_servers import Sshd
from tests.night.night_run import by_name, night_args, run_night, status
from tests.night.night_servers import (
    NightDifusor,
    daemon_difusor,
    registry,
    sftp_difusor,
    stop,
    wait_live,
)

pytestmark = pytest.mark.server


@pytest.fixture
def difusores(sshd: Sshd, night_keys: Path, tmp_path: Path) -> Iterator[list[NightDifusor]]:
    made = [sftp_difusor(sshd, "solo-sftp"),
            daemon_difusor(sshd, "con-demonio", tmp_path / "demonio", night_keys / ROOT_PUB)]
    yield made
    stop(made)


def served_ejercicio(d: NightDifusor) -> str:
    main = json.loads((d.root / "current" / "json" / "main.json").read_bytes())
    return str(main["signed"]["ejercicio"])


def test_a_drill_then_the_jornada_to_the_same_difusores(
        sshd: Sshd, night_keys: Path, small_election: Path, tmp_path: Path,
        difusores: list[NightDifusor]) -> None:
    reg = registry(tmp_path / "registry.toml", sshd, difusores)
    institute = tmp_path / "instituto"
    drill = run_night(small_election, night_keys, tmp_path / "estado-simulacro-1", institute,
                      registry=reg, ejercicio="simulacro-1", until="2024-06-02T20:40")
    assert drill.returncode == 0, drill.stderr
    wait_live(difusores, CutId.of("simulacro-1", 3))
    assert {d["estado"] for d in status(tmp_path / "estado-simulacro-1")["difusores"]} == {"al día"}
    assert [served_ejercicio(d) for d in difusores] == ["simulacro-1", "simulacro-1"]

    night = run_night(small_election, night_keys, tmp_path / "estado-jornada", institute,
                      registry=reg, ejercicio="jornada", until="2024-06-02T21:00")
    assert night.returncode == 0, night.stderr
    wait_live(difusores, CutId.of("jornada", 4))
    assert [served_ejercicio(d) for d in difusores] == ["jornada", "jornada"]
    view = status(tmp_path / "estado-jornada")
    assert view["ejercicio"] == "jornada" and view["corte_actual"]["numero"] == 4
    for d in view["difusores"]:
        assert (d["estado"], d["corte_vigente"], d["atraso_cortes"]) == (
            "al día", "jornada-0004", 0), d
    # the institute's own root went from the drill to the jornada too
    assert (institute / "current").resolve().name == "jornada-0004"
    # and the jornada never goes back: a drill run over it refuses to start
    again = run_night(small_election, night_keys, tmp_path / "estado-simulacro-2", institute,
                      registry=reg, ejercicio="simulacro-2")
    assert again.returncode == 3 and "never published over it" in again.stderr
    assert [served_ejercicio(d) for d in difusores] == ["jornada", "jornada"]


def test_killed_at_random_points_the_night_still_ends_right(
        sshd: Sshd, night_keys: Path, small_election: Path, tmp_path: Path,
        difusores: list[NightDifusor]) -> None:
    reg = registry(tmp_path / "registry.toml", sshd, difusores)
    state, root = tmp_path / "estado", tmp_path / "instituto"
    rng = random.Random(9)
    last_cut = 10   # the night is stretched (--until later) whenever it ends before 20 kills

    def args() -> list[str]:
        until = (datetime(2024, 6, 2, 20, 0) + timedelta(minutes=20 * (last_cut - 1))).isoformat()
        return night_args(small_election, night_keys, state, root, registry=reg, until=until)

    kills = 0
    while kills < 20:
        proc = subprocess.Popen(args(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
            last_cut += 3
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    final = subprocess.run(args(), capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr
    last = CutId.of("jornada", last_cut)
    wait_live(difusores, last)
    # no cut built twice with different bytes (from the same predecessor)
    seen: dict[tuple[int, str | None], str] = {}
    for b in NightState.read(state).builds():
        assert seen.setdefault((b["cut"], b["previous"]), b["digest"]) == b["digest"], b
    # every published cut chains to the one published before it
    published = [c for c in NightState.read(state).cuts() if "publish" in c["steps"]]
    assert published[-1]["number"] == last_cut
    for before, after in itertools.pairwise(published):
        assert after["steps"]["build"]["previous"] == before["steps"]["build"]["digest"]
    releases = sorted(p for p in (root / "releases").iterdir() if not p.name.startswith("."))
    for before, after in itertools.pairwise(releases):  # releases also carry the files before
        assert release_problems(after) == []
        m, prev = load_manifest(after), load_manifest(before)
        assert (m.previous_cut, m.previous) == (prev.cut, prev.digest)
    verify_package(state / "paquetes" / last.tag, night_keys / ROOT_PUB,
                   last=load_manifest(releases[-2]))
    assert {d["estado"] for d in status(state)["difusores"]} == {"al día"}


def test_a_daemon_refusal_shows_as_a_failure_in_status(
        sshd: Sshd, night_keys: Path, small_election: Path, tmp_path: Path,
        difusores: list[NightDifusor]) -> None:
    daemon = [d for d in difusores if d.mode == "daemon"]
    reg = registry(tmp_path / "registry.toml", sshd, daemon)
    first = run_night(small_election, night_keys, tmp_path / "estado-jornada",
                      tmp_path / "instituto-a", registry=reg, until="2024-06-02T20:20")
    assert first.returncode == 0, first.stderr
    wait_live(daemon, CutId.of("jornada", 2))
    # a drill from another machine reaches the daemon, which holds the jornada: refused
    drill = run_night(small_election, night_keys, tmp_path / "estado-simulacro",
                      tmp_path / "instituto-b", registry=reg, ejercicio="simulacro-3",
                      until="2024-06-02T20:00")
    assert drill.returncode == 4, drill.stderr
    assert "con-demonio" in drill.stderr
    row = by_name(status(tmp_path / "estado-simulacro"))["con-demonio"]
    assert row["estado"] == "falla: rechazó un corte", row
    assert row["corte_vigente"] == "jornada-0002"
    assert row["ultimo_rechazo"] is not None
    assert "cut 1 of simulacro-3 in but did not activate it" in row["ultimo_rechazo"]["error"]
    assert daemon[0].live() == CutId.of("jornada", 2)


def test_a_failed_push_is_tried_again_before_the_next_cut(
        sshd: Sshd, night_keys: Path, small_election: Path, tmp_path: Path,
        difusores: list[NightDifusor]) -> None:
    sftp = [d for d in difusores if d.mode == "sftp"]
    reg = registry(tmp_path / "registry.toml", sshd, sftp)
    good = reg.read_text()
    reg.write_text(good.replace(f"port = {sshd.port}", "port = 9"))  # nobody listens there
    state = tmp_path / "estado"
    proc = subprocess.Popen(night_args(small_election, night_keys, state, tmp_path / "instituto",
                                       "--retry-every", "1", registry=reg, speed="30",
                                       until="2024-06-02T20:20"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = by_name(status(state)).get("solo-sftp") if (state / "night.json").exists() else None
            if row and row["estado"].startswith("falla"):
                break
            time.sleep(0.3)
        assert row is not None and row["estado"] == "falla: error de entrega", row
        reg.write_text(good)  # the difusor fixed: the next retry reads the registry again
        wait_live(sftp, CutId.of("jornada", 1), timeout=30)
        # before cut 2 was due (40 s at speed 30, from the start)
        assert NightState.read(state).published() == 1
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert sftp[0].live() == CutId.of("jornada", 2)
