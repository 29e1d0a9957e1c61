"""The drill hook: one difusor misbehaves in turn (stale cut, injected script, changed number,
wrong header, down); each is caught within one round, put right it closes, and the honest
difusores are never flagged."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prepcast.monitor import Monitor, MonitorOptions, ProbeSettings
from prepcast.monitor.drill import KINDS, misbehave
from prepcast.package.layout import CACHE_CONTROL_MUTABLE
from tests.monitor.monitor_lab import Lab, make_lab
from tests.registry.check_servers import Nginx

pytestmark = pytest.mark.server
HONEST = ["honesto-a", "honesto-b"]
EXPECTED = {"stale": "lag", "script": "integrity", "number": "integrity", "header": "integrity",
            "down": "down"}


class NginxControl:
    def __init__(self, web: Nginx) -> None:
        self.web = web
        self.text = web.conf_file.read_text()

    def stop(self) -> None:
        self.web.stop()

    def start(self) -> None:
        self.web.start()

    def set_cache_control(self, value: str | None) -> None:
        text = self.text if value is None else self.text.replace(CACHE_CONTROL_MUTABLE, value)
        self.web.conf_file.write_text(text)
        assert self.web.proc is not None
        self.web.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)  # the old worker finishes, the new one answers


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("drill"), cuts=2)
    try:
        lab.advance(1, [])
        lab.advance(2, [])
        for name in [*HONEST, "victima"]:
            lab.add(name, upto=2)
        yield lab
    finally:
        lab.stop()


def test_each_misbehaviour_in_turn_caught_within_one_round(lab: Lab, tmp_path: Path) -> None:
    reg = lab.registry(path=tmp_path / "difusores.toml")
    opts = MonitorOptions(reg, lab.trust, lab.reference, tmp_path / "state",
                          probe=ProbeSettings(round_s=0.1, lag_bound_s=0))
    site = NginxControl(lab.servers["victima"])

    async def drill() -> None:
        mon = Monitor(opts)
        try:
            await mon.round()
            assert mon.incidents.items == []
            for kind in KINDS:
                undo = misbehave(kind, lab.roots["victima"], site)
                try:
                    rows = {r.name: r for r in await mon.round()}
                finally:
                    undo()
                assert {(i.difusor, i.kind) for i in mon.incidents.open()} == {
                    ("victima", EXPECTED[kind])}, kind
                assert all(rows[n].up and not rows[n].integrity for n in HONEST)
                rows = {r.name: r for r in await mon.round()}
                assert mon.incidents.open() == [], (kind, mon.incidents.open())
                assert rows["victima"].up and not rows["victima"].integrity, kind
        finally:
            await mon.close()

    asyncio.run(drill())
    incs = json.loads((tmp_path / "state" / "incidents.json").read_text())["incidents"]
    assert [i["kind"] for i in incs] == [EXPECTED[k] for k in KINDS]
    assert all(i["closed"] for i in incs)


def test_misbehave_refuses_what_it_cannot_do(lab: Lab) -> None:
    with pytest.raises(ValueError, match="unknown misbehaviour"):
        misbehave("eclipse", lab.roots["victima"])
    with pytest.raises(ValueError, match="needs control of the difusor's web server"):
        misbehave("down", lab.roots["victima"])
