"""SIGKILL the daemon at random moments while it receives and activates: one whole cut is live."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prepcast.difusor.activate import ReleaseStore, release_problems
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from prepcast.package import CutId
from tests.difusor.difusor_helpers import daemon_config


def jornada(n: int) -> CutId:
    return CutId.of("jornada", n)

pytestmark = pytest.mark.server

PREPCAST = [sys.executable, "-m", "prepcast"]


def check_one_whole_cut_live(root: Path) -> CutId | None:
    store = ReleaseStore(root)
    cut = store.live_cut()
    if cut is None:
        assert not (root / "current").exists()
        return None
    assert store.path(cut).is_dir(), f"current names a missing release {cut}"
    assert release_problems(store.path(cut)) == []
    return cut


def test_sigkill_during_receive_and_activation_leaves_one_whole_cut(
        tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    root = tmp_path / "www"
    rng = random.Random(5)
    lives = []
    for pkg_dir in packages:
        pkg = read_package(pkg_dir)
        write_delta_archive(pkg, list(pkg.files), tmp_path / "inbox" / f"{pkg.cut_id.tag}.tar")
        for _ in range(3):  # killed at a different moment each time: start, unpack, verify, switch
            proc = subprocess.Popen([*PREPCAST, "difusor", "run", "--allow-root", "--config", str(conf)],
                                    cwd=tmp_path, stderr=subprocess.DEVNULL)
            try:
                time.sleep(rng.uniform(0.1, 1.2))
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            lives.append(check_one_whole_cut_live(root))
    # restarted, it recovers (removes half-built releases) and reaches the last cut
    proc = subprocess.Popen([*PREPCAST, "difusor", "run", "--allow-root", "--config", str(conf)], cwd=tmp_path,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while ReleaseStore(root).live_cut() != jornada(4) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert check_one_whole_cut_live(root) == jornada(4)
    assert not [n for n in os.listdir(root / "releases") if n.endswith(".partial")]
    print("live cut after each SIGKILL:", lives)
