"""A daemon's refusals reach the institute (issue 9 item 2): read back from its status, they are
failures for that difusor, in the same round or the next one, never ok."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from prepcast.difusor.config import DaemonConfig
from prepcast.difusor.daemon import Daemon
from prepcast.distribution import DeliveryState, Difusor, LocalPeer, Pusher, Registry, read_package
from prepcast.package import CutId
from tests.difusor.difusor_helpers import FakeNtp
from tests.distribution.dist_packages import make_package


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory, keydir: Path) -> list[Path]:
    base = tmp_path_factory.mktemp("cuts")
    pkgs: list[Path] = []
    for cut in (1, 2, 3):
        pkgs.append(make_package(base / f"p{cut}", keydir, cut, previous=pkgs[-1] if pkgs else None))
    return pkgs


def with_daemon(tmp: Path, keydir: Path, body: Callable[[Pusher, Daemon], Awaitable[None]],
                **conf: Any) -> None:
    d = Difusor(name="diario", host="local", port=22, user="prep", auth="key", remote_root="/",
                mode="daemon")
    daemon = Daemon(DaemonConfig(root=tmp / "www", inbox=tmp / "inbox",
                                 trusted_root=keydir / "root.pub", name="diario",
                                 event_log=tmp / "events.jsonl", syslog=False, poll_interval=0.05,
                                 **conf))

    async def go() -> None:
        task = asyncio.create_task(daemon.run())
        pusher = Pusher(Registry(tmp / "r.toml", (d,)), DeliveryState(tmp / "state.sqlite"),
                        peer_factory=lambda d: LocalPeer(d, tmp / "inbox"), confirm_timeout=10,
                        work_dir=tmp / "outbox")
        try:
            await body(pusher, daemon)
        finally:
            await pusher.close()
            daemon.stop()
            await task

    asyncio.run(go())


@pytest.mark.waits
def test_a_refused_cut_is_a_failure_in_the_same_round(tmp_path: Path, keydir: Path,
                                                      cuts: list[Path]) -> None:
    async def body(pusher: Pusher, daemon: Daemon) -> None:
        for pkg in cuts[:2]:
            report = await pusher.push(read_package(pkg), wait_for_embargo=False)
            assert report.failed == [], report
            assert report.activated["diario"].note == "the daemon serves it"
        # the daemon serves cut 2; cut 1 again is refused (not newer) and must not read as ok
        report = await pusher.push(read_package(cuts[0]), wait_for_embargo=False)
        assert report.failed == ["diario"]
        error = str(report.activated["diario"].error)
        assert "did not activate" in error and "serves cut 2" in error
        assert daemon.store.live_cut() == CutId.of("jornada", 2)

    with_daemon(tmp_path, keydir, body)
    state = DeliveryState(tmp_path / "state.sqlite")
    [status] = state.status()   # what a status view shows for the difusor
    assert status.difusor == "diario" and status.failing
    assert status.live is not None and status.live.tag == "jornada-0002"
    assert status.last_refusal is not None and "did not activate" in str(status.last_refusal.error)
    refusal = state.last_refusal("diario")
    assert refusal is not None and refusal.cut == 1 and refusal.result == "refused"


def test_a_refusal_of_an_earlier_round_is_reported_on_the_next(tmp_path: Path, keydir: Path,
                                                               cuts: list[Path]) -> None:
    async def body(pusher: Pusher, daemon: Daemon) -> None:
        assert (await pusher.push(read_package(cuts[1]), wait_for_embargo=False)).failed == []
        # stage only (as `push --stage-only`, or a pusher that stopped before confirming)
        staged = await pusher.stage_all(read_package(cuts[0]))
        assert staged["diario"].ok
        for _ in range(100):   # the daemon takes it in and refuses it
            if not (tmp_path / "inbox" / "jornada-0001.tar").exists():
                break
            await asyncio.sleep(0.05)
        report = await pusher.push(read_package(cuts[2]), wait_for_embargo=False)
        assert report.staged["diario"].ok and report.activated["diario"].ok
        assert daemon.store.live_cut() == CutId.of("jornada", 3)
        # cut 3 went well, but the refusal of cut 1 is reported, not swallowed
        assert report.failed == ["diario"]
        assert "took cut 1 in but did not activate it" in str(report.refused["diario"].error)
        # reported once
        again = await pusher.push(read_package(cuts[2]), wait_for_embargo=False)
        assert again.failed == [] and again.staged["diario"].note == "already serving this cut"

    with_daemon(tmp_path, keydir, body)


def test_archives_of_older_cuts_leave_the_outbox(tmp_path: Path, keydir: Path,
                                                 cuts: list[Path]) -> None:
    """A night of large archives never fills the institute's disk: making a cut's archive
    removes those of older cuts (left by this pusher or an earlier one), nothing else."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / ".jornada-0001-aaaaaaaaaaaa-full.tar.tmp").write_bytes(b"a crash's leftover")
    (outbox / "notas.txt").write_text("no es un archivo del envío")

    async def body(pusher: Pusher, daemon: Daemon) -> None:
        for pkg in cuts:
            report = await pusher.push(read_package(pkg), wait_for_embargo=False)
            assert report.failed == [], report
            tags = {p.name.split("-", 2)[1] for p in outbox.glob("*.tar")}
            assert tags == {f"{read_package(pkg).cut:04d}"}, sorted(outbox.iterdir())

    with_daemon(tmp_path, keydir, body)
    assert sorted(p.name for p in outbox.iterdir() if not p.name.endswith(".tar")) == ["notas.txt"]


@pytest.mark.waits
def test_the_daemon_says_why_it_refused_a_cut_in_its_status(tmp_path: Path, keydir: Path,
                                                             cuts: list[Path]) -> None:
    """Regression: a refusal reached the institute only as "did not activate it … (its event
    log says why)"; the reason lived in the difusor's own event log. Now the daemon writes its
    last refusal into inbox/status.json (``last_rejected``) and the push prints it."""
    async def body(pusher: Pusher, daemon: Daemon) -> None:
        assert (await pusher.push(read_package(cuts[1]), wait_for_embargo=False)).failed == []
        report = await pusher.push(read_package(cuts[0]), wait_for_embargo=False)
        error = str(report.activated["diario"].error)
        assert "did not activate" in error and "its event log says why" not in error, error
        status = json.loads((tmp_path / "inbox" / "status.json").read_text())
        assert status["live_tag"] == "jornada-0002"
        refusal = status["last_rejected"]
        assert refusal["tag"] == "jornada-0001" and refusal["event"] == "rejected"
        assert refusal["failures"] and refusal["failures"][0] in error, (refusal, error)
        # a cut activated afterwards clears it
        assert (await pusher.push(read_package(cuts[2]), wait_for_embargo=False)).failed == []
        status = json.loads((tmp_path / "inbox" / "status.json").read_text())
        assert status["live_tag"] == "jornada-0003" and status["last_rejected"] is None

    with_daemon(tmp_path, keydir, body)


@pytest.mark.waits
def test_a_daemon_whose_clock_is_off_says_so_to_the_institute(tmp_path: Path, keydir: Path,
                                                              cuts: list[Path]) -> None:
    """Regression: a difusor whose clock was 300 s off held every cut back and the push said
    only "did not activate it … (its event log says why)"; now it says the clock is off."""
    ntp = FakeNtp(offset=300.0)

    async def body(pusher: Pusher, daemon: Daemon) -> None:
        report = await pusher.push(read_package(cuts[0]), wait_for_embargo=False)
        assert report.failed == ["diario"]
        error = str(report.activated["diario"].error)
        # +300 s measured over loopback: +299.996 on a loaded machine
        offset = re.search(r"el reloj del difusor difiere ([+-][0-9.]+) s", error)
        assert offset and abs(float(offset[1]) - 300) < 0.5, error
        assert daemon.store.live_cut() is None

    try:
        with_daemon(tmp_path, keydir, body, ntp_server="127.0.0.1", ntp_port=ntp.port,
                    max_clock_offset=1.0)
    finally:
        ntp.close()
