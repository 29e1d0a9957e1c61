"""A drill of a past election with a near-future embargo (``cut build --not-before``): the
daemon waits for it and activates it at that real time, so the informe shows a punctual
activation instead of one 20,000 hours late."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from prepcast.package import load_manifest
from tests.difusor.difusor_helpers import daemon_config


@pytest.mark.waits
def test_a_drill_activates_at_its_near_future_embargo(tmp_path: Path, small_election: Path) -> None:
    keys = tmp_path / "keys"
    assert main(["keys", "init", "--out", str(keys)]) == 0
    embargo = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    out = tmp_path / "c1"
    assert main(["cut", "build", str(small_election), "--at", "2024-06-02T20:05-06:00",
                 "--keys", str(keys), "--out", str(out), "--ejercicio", "simulacro-1",
                 "--not-before", embargo.isoformat()]) == 0
    manifest = load_manifest(out)
    assert manifest.not_before == embargo
    assert manifest.expires > embargo  # a 2024 election rehearsed today has not expired
    conf, _, _ = daemon_config(tmp_path / "d", keys, sftp=False)
    daemon = Daemon(load_config(conf))
    pkg = read_package(out)
    write_delta_archive(pkg, list(pkg.files), tmp_path / "d" / "inbox" / f"{pkg.cut_id.tag}.tar")

    async def night() -> None:
        await daemon.step()
        assert daemon.store.live_cut() is None  # verified, waiting for its time
        while daemon.store.live_cut() is None:
            assert datetime.now(UTC) < embargo + timedelta(seconds=20)
            await asyncio.sleep(0.1)
            await daemon.step()

    asyncio.run(night())
    assert datetime.now(UTC) >= embargo
    events = [json.loads(line) for line in (tmp_path / "d" / "events.jsonl").read_text().splitlines()]
    names = [e["event"] for e in events]
    assert "waiting" in names and "activated" in names
    activated = next(e for e in events if e["event"] == "activated")
    assert 0 <= activated["late_seconds"] < 5
