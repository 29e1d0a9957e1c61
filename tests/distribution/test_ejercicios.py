"""Issue 9's scenario: four cuts of a simulacro pushed to an SFTP-only and a daemon difusor, then
the jornada's cuts to the same difusores: both serve the jornada (nothing skipped because a
release of the same number was there), and neither ever goes back to the drill."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from prepcast.distribution import LocalNetwork
from prepcast.distribution.state import DeliveryState
from tests.distribution.dist_packages import make_package


def chain(base: Path, keydir: Path, ejercicio: str, cuts: range) -> list[Path]:
    pkgs: list[Path] = []
    for cut in cuts:
        pkgs.append(make_package(base / f"{ejercicio}-{cut}", keydir, cut, ejercicio=ejercicio,
                                 previous=pkgs[-1] if pkgs else None))
    return pkgs


@pytest.mark.waits
def test_a_drill_then_the_jornada_to_the_same_difusores(tmp_path: Path, keydir: Path) -> None:
    drill = chain(tmp_path, keydir, "simulacro-1", range(1, 5))
    jornada = chain(tmp_path, keydir, "jornada", range(1, 5))
    late_drill = chain(tmp_path / "late", keydir, "simulacro-1", range(5, 6))
    net = LocalNetwork(tmp_path / "net", trusted_root=keydir / "root.pub", sftp_only=1, daemons=1,
                       serve_http=False)
    net.start()
    try:
        for i, pkg in enumerate(drill + jornada):
            report = net.push(pkg)
            assert report.failed == [], report
            if i:   # what the live release holds is linked, not sent again (also across ejercicios)
                # the shared assets (app.js, style.css) at least
                assert report.staged["local-sftp-01"].files <= len(_read(pkg).files) - 2
            assert not any("already" in o.note for o in report.staged.values()), report
            for name, root in net.roots.items():
                served = (root / "current" / "json/main.json").read_bytes()
                assert served == (pkg / "json/main.json").read_bytes(), (name, pkg.name)
        assert os.readlink(net.roots["local-sftp-01"] / "current") == "releases/jornada-0004"
        # a drill's cut after the jornada: refused at both, the jornada stays
        assert net.pusher is not None
        report = asyncio.run_coroutine_threadsafe(
            net.pusher.push(_read(late_drill[0]), wait_for_embargo=False), net._loop).result()
        assert report.failed == ["local-daemon-01", "local-sftp-01"], report
        assert "older" in str(report.staged["local-sftp-01"].error)
        for root in net.roots.values():
            served = (root / "current" / "json/main.json").read_bytes()
            assert served == (jornada[-1] / "json/main.json").read_bytes()
    finally:
        net.stop()
    rows = DeliveryState(tmp_path / "net" / "deliveries.sqlite").deliveries("local-sftp-01")
    tags = [r.tag for r in rows if r.phase == "activate" and r.result == "ok"]
    assert tags == [f"simulacro-1-{c:04d}" for c in range(1, 5)] + [f"jornada-{c:04d}" for c in range(1, 5)]


def _read(pkg: Path):  # type: ignore[no-untyped-def]
    from prepcast.distribution import read_package

    return read_package(pkg)
