"""`prepcast difusores block NAME` during a running `prepcast night run`: the runner reads the
registry before every push and every cut, so the blocked difusor receives no cut pushed after
the block and the next cut's public list no longer names it, while the other goes on to the
last cut. Real OpenSSH, SFTP-only difusores, the runner as a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from prepcast.package import CutId
from prepcast.publish.state import NightState
from prepcast.registry import add_difusores, set_status
from tests.distribution.dist_servers import Sshd
from tests.night.night_run import night_args
from tests.night.night_servers import NightDifusor, sftp_difusor, wait_live

pytestmark = pytest.mark.server

LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 2"><rect width="4" height="2"/></svg>'


def _registry(path: Path, sshd: Sshd, difusores: list[NightDifusor]) -> Path:
    (path.parent / "logo.svg").write_text(LOGO)
    add_difusores(path, [({"name": d.name, "host": "127.0.0.1", "port": sshd.port,
                           "user": d.user.name, "auth": "key", "key_file": str(d.user.key_file),
                           "remote_root": "/www", "mode": "sftp", "host_key": sshd.host_key,
                           "nombre": d.name.title(), "url": f"https://prep2024.{d.name}.mx",
                           "logo": "logo.svg"}, None, [])
                         for d in difusores], "uie", "registro")
    for d in difusores:
        set_status(str(path), d.name, "validado", "pruebas", "uie")
        set_status(str(path), d.name, "activo", "lista", "uie")
    return path


def _listed(release: Path) -> list[str]:
    main = json.loads((release / "json" / "main.json").read_bytes())
    listing = json.loads((release / main["signed"]["data"]["difusores_oficiales"]).read_bytes())
    return [d["id"] for d in listing["difusores"]]


def test_a_block_during_the_night_takes_effect_at_the_next_push(
        sshd: Sshd, night_keys: Path, small_election: Path, tmp_path: Path) -> None:
    sol, luna = sftp_difusor(sshd, "sol"), sftp_difusor(sshd, "luna")
    reg = _registry(tmp_path / "registry.toml", sshd, [sol, luna])
    state, root = tmp_path / "estado", tmp_path / "instituto"
    # 20 minutes of the schedule in 3 s: the block lands between two cuts of a running night
    runner = subprocess.Popen(night_args(small_election, night_keys, state, root, registry=reg,
                                         speed="400", until="2024-06-02T21:40"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_live([sol, luna], CutId.of("jornada", 2), timeout=60)
        assert _listed(root / "current") == ["luna", "sol"]
        blocked = subprocess.run([sys.executable, "-m", "prepcast", "difusores", "block", "luna",
                                  "--reason", "ataque DDoS al sitio", "--registry", str(reg)],
                                 capture_output=True, text=True)
        assert blocked.returncode == 0, blocked.stderr
        at = datetime.now().astimezone()
        assert runner.wait(120) == 0, runner.stderr.read() if runner.stderr else ""
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    wait_live([sol], CutId.of("jornada", 6))
    cuts = {c["number"]: c for c in NightState.read(state).cuts() if "push" in c["steps"]}
    after = [n for n, c in cuts.items()
             if datetime.fromisoformat(c["steps"]["push"]["started"]) > at]
    assert after and max(after) == 6
    for n in after:  # every push begun after the block: to sol only
        assert set(cuts[n]["steps"]["push"]["difusores"]) == {"sol"}, cuts[n]
    live = luna.live()
    assert live is not None and live.cut < min(after)  # luna received none of them
    assert _listed(root / "current") == ["sol"]  # and the last cut no longer lists it
