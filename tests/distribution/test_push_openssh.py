"""Pushing to a real OpenSSH sshd with chrooted internal-sftp users (as docs/difusor-setup.md)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from prepcast.package import CutId
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import Sshd, entry, live


def jornada(n: int) -> CutId:
    return CutId.of("jornada", n)

pytestmark = pytest.mark.server


def test_key_and_password_difusores_get_every_cut_with_deltas(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    a, b = sshd.add_user(), sshd.add_user()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[passwords]\nclave = "{b.password}"\n')
    secrets.chmod(0o600)
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, a, "llave"), entry(sshd, b, "clave", auth="password")],
                                 keep=2, secrets="secrets.toml"))
    registry = load_registry(reg)
    state = DeliveryState(tmp_path / "state.sqlite")
    pkgs = []
    for cut in (1, 2, 3):
        pkgs.append(make_package(tmp_path / f"p{cut}", keydir, cut,
                                 previous=pkgs[-1] if pkgs else None))

    async def night() -> list[int]:
        pusher = Pusher(registry, state)
        sent = []
        try:
            for p in pkgs:
                report = await pusher.push(read_package(p))
                assert report.failed == [], report
                sent.append(report.staged["llave"].nbytes)
            assert all(peer.connects == 1 for peer in pusher.peers.values())  # kept open
        finally:
            await pusher.close()
        return sent

    sent = asyncio.run(night())
    for user in (a, b):
        assert live(user) == "releases/jornada-0003"
        served = user.www / "current"
        for rel, (_sha, size) in read_package(pkgs[-1]).files.items():
            assert (served / rel).stat().st_size == size
        # cut 2's data still there for a reader who read cut 2's main.json an instant before
        for rel in read_package(pkgs[1]).immutable():
            assert (served / rel).exists(), rel
        assert sorted(os.listdir(user.www / "releases")) == ["jornada-0002", "jornada-0003"]  # keep_releases = 2
    # later cuts send only what changed: the shared assets are hard-linked, not sent again
    assert sent[1] < sent[0] and sent[2] < sent[0]
    app = next(p for p in read_package(pkgs[-1]).files if p.startswith("assets/app"))
    assert (a.www / "releases/jornada-0003" / app).stat().st_nlink >= 2
    rows = state.deliveries("llave")
    assert [(r.cut, r.phase, r.result) for r in rows] == [
        (c, ph, "ok") for c in (1, 2, 3) for ph in ("stage", "activate")]
    assert rows[0].bytes > 0 and rows[0].throughput


def test_daemon_difusor_behind_openssh(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """A difusor that runs the daemon with its existing OpenSSH: the chrooted user's folder is
    the daemon's inbox."""
    from prepcast.difusor.config import DaemonConfig
    from prepcast.difusor.daemon import Daemon

    user = sshd.add_user()
    daemon = Daemon(DaemonConfig(root=tmp_path / "www", inbox=user.www,
                                 trusted_root=keydir / "root.pub", name="con-openssh",
                                 event_log=tmp_path / "events.jsonl", syslog=False,
                                 poll_interval=0.05))
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, user, "con-openssh", mode="daemon")]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)

    async def night() -> None:
        task = asyncio.create_task(daemon.run())
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"))
        try:
            for cut, pkg in ((1, p1), (2, p2)):
                assert (await pusher.push(read_package(pkg))).failed == []
                for _ in range(200):
                    if daemon.store.live_cut() == jornada(cut):
                        break
                    await asyncio.sleep(0.05)
        finally:
            await pusher.close()
            daemon.stop()
            await task

    asyncio.run(night())
    assert daemon.store.live_cut() == jornada(2)
    assert os.readlink(tmp_path / "www" / "current") == "releases/jornada-0002"
    assert not [n for n in os.listdir(user.www) if n.endswith(".tar")]


def test_staging_at_once_activation_at_the_embargo(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    a, b = sshd.add_user(), sshd.add_user()
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, a, "uno"), entry(sshd, b, "dos")]))
    embargo = datetime.now(UTC) + timedelta(seconds=2)
    pkg = make_package(tmp_path / "p1", keydir, 1, not_before=embargo)
    state = DeliveryState(tmp_path / "state.sqlite")

    async def go() -> None:
        pusher = Pusher(load_registry(reg), state)
        try:
            report = await pusher.push(read_package(pkg))
            assert report.failed == []
        finally:
            await pusher.close()

    asyncio.run(go())
    for name in ("uno", "dos"):
        stage, activate = state.deliveries(name)
        assert stage.ended is not None and stage.ended < embargo  # staged before 20:00
        assert activate.started >= embargo                         # shown from 20:00, never before
    starts = [state.deliveries(n)[1].started for n in ("uno", "dos")]
    assert abs((starts[0] - starts[1]).total_seconds()) < 0.5     # together


def test_a_pusher_with_a_fresh_state_builds_complete_releases(sshd: Sshd, keydir: Path,
                                                              tmp_path: Path) -> None:
    """Issue 15 item 9 through OpenSSH: the release carries over what the live one holds
    (read from its manifest on the server), whatever the pusher's state remembers."""
    user = sshd.add_user()
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, user, "uno")]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)

    async def push(pkg: Path, state: str) -> None:
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / state))
        try:
            assert (await pusher.push(read_package(pkg))).failed == []
        finally:
            await pusher.close()

    asyncio.run(push(p1, "first.sqlite"))
    asyncio.run(push(p2, "fresh.sqlite"))
    served = user.www / "current"
    assert live(user) == "releases/jornada-0002"
    for rel in read_package(p1).immutable():   # a reader of cut 1's main.json finds it all
        assert (served / rel).is_file(), rel
    app = next(p for p in read_package(p2).files if p.startswith("assets/app"))
    assert (served / app).stat().st_nlink >= 2   # linked from the live release, not resent


def test_flat_mode_through_openssh_replaces_the_entry_points_atomically(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """A flat difusor on an ordinary OpenSSH server: no symlink made, the site served from the
    folder itself, index.html and main.json renamed into place (posix-rename is there)."""
    user = sshd.add_user()
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, user, "plana", mode="flat")]))
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)

    async def night() -> set[str]:
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"))
        try:
            for pkg in (p1, p2):
                assert (await pusher.push(read_package(pkg))).failed == []
            return set(pusher.modes["flat"]._no_rename)  # type: ignore[attr-defined]
        finally:
            await pusher.close()

    assert asyncio.run(night()) == set()   # OpenSSH renames over a file: atomic replacement
    assert not [p for p in user.www.rglob("*") if p.is_symlink()]
    for rel in read_package(p2).files:
        assert (user.www / rel).read_bytes() == (p2 / rel).read_bytes(), rel
    for rel in read_package(p1).immutable():
        assert (user.www / rel).is_file(), rel
    assert not [p for p in user.www.rglob(".*.part")]
