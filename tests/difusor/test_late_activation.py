"""Late activation is judged against when the cut could be activated: its embargo, or the
moment its archive landed in the inbox when that came later.

An accelerated drill (``--speed max``) gives every cut the drill's start as its embargo and
pushes them one after another: measured against the embargo alone, each activation looked
later than the one before (62 s by the 54th cut) and the informe listed late publications that
did not happen. A cut that waits in the inbox while the daemon is not running is still late."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prepcast.analytics import read_events
from prepcast.cli import main
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from tests.difusor.difusor_helpers import daemon_config


def _activated(tmp_path: Path, small_election: Path, landed_ago: float) -> tuple[dict[str, object], Path]:
    """A cut whose embargo passed 5 minutes ago (the drill's start), its archive landed
    ``landed_ago`` seconds ago; the daemon's activation event and its event log."""
    keys = tmp_path / "keys"
    assert main(["keys", "init", "--out", str(keys)]) == 0
    embargo = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    out = tmp_path / "c1"
    assert main(["cut", "build", str(small_election), "--at", "2024-06-02T20:05-06:00",
                 "--keys", str(keys), "--out", str(out), "--ejercicio", "simulacro-1",
                 "--not-before", embargo.isoformat()]) == 0
    conf, _, _ = daemon_config(tmp_path / "d", keys, sftp=False)
    daemon = Daemon(load_config(conf))
    pkg = read_package(out)
    archive = tmp_path / "d" / "inbox" / f"{pkg.cut_id.tag}.tar"
    write_delta_archive(pkg, list(pkg.files), archive)
    landed = time.time() - landed_ago
    os.utime(archive, (landed, landed))
    asyncio.run(daemon.step())
    log = tmp_path / "d" / "events.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    return next(e for e in events if e["event"] == "activated"), log


def test_a_cut_activated_as_soon_as_it_landed_is_not_late(tmp_path: Path, small_election: Path) -> None:
    activated, log = _activated(tmp_path, small_election, landed_ago=0)
    assert isinstance(activated["late_seconds"], float) and 0 <= activated["late_seconds"] < 30
    assert read_events(log).incidents == []


def test_a_cut_left_waiting_in_the_inbox_is_late(tmp_path: Path, small_election: Path) -> None:
    activated, log = _activated(tmp_path, small_election, landed_ago=200)
    late = activated["late_seconds"]
    assert isinstance(late, float) and 199 <= late < 230
    incidents = read_events(log).incidents
    assert len(incidents) == 1 and "El corte 1 se publicó con retraso" in incidents[0].impact
