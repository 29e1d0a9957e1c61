"""``prepcast difusor run`` as a process: who may run it, and how it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.difusor.difusor_helpers import daemon_config


def _start(conf: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "prepcast", "difusor", "run", *extra,
                             "--config", str(conf)], stderr=subprocess.PIPE, text=True)


def test_root_is_refused_unless_allowed(tmp_path: Path, keydir: Path) -> None:
    assert os.geteuid() == 0, "the tests run as root (they make users)"
    """The daemon ran as root without a word: it unpacked the network's archives as root and left
    a root-owned status.json in the institute's inbox. As root it now refuses, one line, exit 2,
    and touches nothing; ``--allow-root`` is the explicit way round."""
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "run", "--config",
                        str(conf)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        "prepcast: refusing to run as root: the daemon unpacks archives that come from the "
        "network; run it as its own user (docs/difusor-setup.md §3: User= in its systemd unit), "
        "or pass --allow-root"]
    assert not (tmp_path / "events.jsonl").exists()
    assert not (tmp_path / "inbox" / "status.json").exists()


@pytest.mark.parametrize(("sig", "rc"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)],
                         ids=["SIGINT", "SIGTERM"])
def test_interrupted_exits_130_stopped_exits_0(tmp_path: Path, keydir: Path,
                                               sig: signal.Signals, rc: int) -> None:
    """Ctrl-C (SIGINT) ended the daemon with status 0, though 130 means interrupted for every
    command; systemd's stop (SIGTERM) stays a clean 0. Both log ``stopped``."""
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    proc = _start(conf, "--allow-root")
    log = tmp_path / "events.jsonl"
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and '"started"' in log.read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
            time.sleep(0.1)
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == rc, err
    assert '"stopped"' in log.read_text()
    assert "Traceback" not in err
