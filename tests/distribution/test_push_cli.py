"""`prepcast push` end to end against the test sshd: progress, summary, exit status, state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from prepcast.distribution.state import DeliveryState
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import Sshd, entry

pytestmark = pytest.mark.server


def test_push_command_sends_two_cuts_and_names_the_failing_difusor(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    good, other = sshd.add_user(), sshd.add_user()
    bad = entry(sshd, other, "sin-llave", key_file=str(good.key_file))
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, good, "buena"), bad]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    state = tmp_path / "deliveries.sqlite"
    r = subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry",
                        str(tmp_path / "registry.toml"), "--package", str(p1), "--package", str(p2),
                        "--state", str(state), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 4, r.stderr
    assert "1 difusores failed: sin-llave" in r.stderr
    assert "authentication failed" in r.stderr and "Traceback" not in r.stderr
    assert os.readlink(good.www / "current") == "releases/jornada-0002"
    results = [(d.cut, d.phase, d.result) for d in DeliveryState(state).deliveries("buena")]
    assert results == [(1, "stage", "ok"), (1, "activate", "ok"), (2, "stage", "ok"),
                       (2, "activate", "ok")]


def test_difusor_run_refuses_a_bad_config(tmp_path: Path) -> None:
    conf = tmp_path / "d.toml"
    conf.write_text('root = "www"\nkeep_releases = 1\n[sftp]\nport = 2222\n')
    r = subprocess.run([sys.executable, "-m", "prepcast", "difusor", "run", "--config", str(conf)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for field in ("inbox: required", "trusted_root: required", "keep_releases:",
                  "sftp.host_key: required"):
        assert field in r.stderr, field


def test_push_command_fails_when_the_daemon_refuses_the_cut(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Issue 9 item 2: a daemon that takes a cut in and goes on serving another one makes
    `prepcast push` fail for that difusor (exit 4), never report ok."""
    import asyncio
    import threading

    from prepcast.difusor.config import DaemonConfig
    from prepcast.difusor.daemon import Daemon

    user = sshd.add_user()
    daemon = Daemon(DaemonConfig(root=tmp_path / "www", inbox=user.www,
                                 trusted_root=keydir / "root.pub", name="diario",
                                 event_log=tmp_path / "events.jsonl", syslog=False,
                                 poll_interval=0.05))
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(daemon.run(),), daemon=True)
    runner.start()
    (tmp_path / "registry.toml").write_text(registry_toml([entry(sshd, user, "diario",
                                                                 mode="daemon")]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    state = tmp_path / "deliveries.sqlite"

    def push(pkg: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry",
                               str(tmp_path / "registry.toml"), "--package", str(pkg),
                               "--state", str(state), "--quiet"], capture_output=True, text=True)

    try:
        ok = push(p2)
        assert ok.returncode == 0, ok.stderr
        refused = push(p1)   # older than what the daemon serves: it refuses it
    finally:
        loop.call_soon_threadsafe(daemon.stop)
        runner.join(10)
    assert refused.returncode == 4, refused.stderr
    assert "1 difusores failed: diario" in refused.stderr
    assert "did not activate" in refused.stdout + refused.stderr
    live = daemon.store.live_cut()
    assert live is not None and live.tag == "jornada-0002"
    last = DeliveryState(state).last_refusal("diario")
    assert last is not None and last.cut == 1
