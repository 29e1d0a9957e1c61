"""A difusor that took part in a drill moves on to the jornada, and never goes back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from prepcast.difusor import Daemon, load_config
from prepcast.difusor.layout import inbox_name
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from prepcast.package import CutId
from tests.difusor.difusor_helpers import daemon_config, make_package


def _deliver(pkg: Path, inbox: Path) -> None:
    contents = read_package(pkg)
    write_delta_archive(contents, list(contents.files), inbox / inbox_name(contents.cut_id))


def _events(tmp: Path, kind: str) -> list[dict[str, object]]:
    lines = (tmp / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == kind]


def test_drill_then_jornada_then_no_drill_again(tmp_path: Path, keydir: Path) -> None:
    conf, _, _ = daemon_config(tmp_path / "d", keydir, sftp=False)
    daemon = Daemon(load_config(conf))
    inbox = tmp_path / "d" / "inbox"
    drill: list[Path] = []
    for cut in range(1, 5):
        drill.append(make_package(tmp_path / f"s{cut}", keydir, cut,
                                  previous=drill[-1] if drill else None, ejercicio="simulacro-1"))
        _deliver(drill[-1], inbox)
        asyncio.run(daemon.step())
    assert daemon.store.live_cut() == CutId.of("simulacro-1", 4)
    # the jornada's cut 1 comes after the drill's cut 4
    jornada = [make_package(tmp_path / "j1", keydir, 1)]
    jornada.append(make_package(tmp_path / "j2", keydir, 2, previous=jornada[0]))
    for pkg in jornada:
        _deliver(pkg, inbox)
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == read_package(pkg).cut_id
    live = daemon.store.live_dir()
    assert live is not None and live.name == "jornada-0002"
    main = json.loads((live / "json/main.json").read_bytes())["signed"]
    assert (main["ejercicio"], main["cut"]) == ("jornada", 2)
    # a drill package after the jornada (a stale pusher, a mistake) is refused; jornada stays
    late = make_package(tmp_path / "s5", keydir, 5, previous=drill[-1], ejercicio="simulacro-1")
    _deliver(late, inbox)
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == CutId.of("jornada", 2)
    rejected = _events(tmp_path / "d", "rejected")
    assert rejected[-1]["ejercicio"] == "simulacro-1" and rejected[-1]["cut"] == 5
    assert "not newer than cut 2 already held" in str(rejected[-1]["failures"])
    status = json.loads((inbox / "status.json").read_text())
    assert status["live_tag"] == "jornada-0002"
