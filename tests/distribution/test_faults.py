"""Faults at one difusor: host keys, credentials, a full disk, a dropped connection."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from pathlib import Path

import asyncssh
import pytest

from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher, PushReport
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import DroppingProxy, SftpUser, Sshd, entry, live

pytestmark = pytest.mark.server


def push_once(reg_text: str, tmp_path: Path, pkg: Path, **kw: object) -> PushReport:
    reg = tmp_path / "registry.toml"
    reg.write_text(reg_text)

    async def go() -> PushReport:
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"),
                        retry_delay=0.1, **kw)  # type: ignore[arg-type]
        try:
            return await pusher.push(read_package(pkg))
        finally:
            await pusher.close()

    return asyncio.run(go())


def test_unknown_or_changed_host_key_is_refused_and_others_carry_on(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    ok, unknown, changed = sshd.add_user(), sshd.add_user(), sshd.add_user()
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    e_unknown = entry(sshd, unknown, "desconocida")
    del e_unknown["host_key"]
    text = registry_toml([entry(sshd, ok, "buena"), e_unknown,
                          entry(sshd, changed, "cambiada", host_key=other_key)])
    report = push_once(text, tmp_path, make_package(tmp_path / "p1", keydir, 1))
    assert report.staged["buena"].ok and report.activated["buena"].ok
    assert live(ok) == "releases/jornada-0001"
    assert "unknown host key" in str(report.staged["desconocida"].error)
    assert "host key refused" in str(report.staged["cambiada"].error)
    assert "cambiada" in str(report.staged["cambiada"].error)
    for user in (unknown, changed):
        assert os.listdir(user.www) == []  # not a byte sent to an unverified host
    assert report.failed == ["cambiada", "desconocida"]


def test_wrong_password_or_key_names_that_difusor_and_others_carry_on(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    ok, badpw, badkey = sshd.add_user(), sshd.add_user(), sshd.add_user()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[passwords]\nmala-clave = "not-the-password"\n')
    secrets.chmod(0o600)
    text = registry_toml([entry(sshd, ok, "buena"),
                          entry(sshd, badpw, "mala-clave", auth="password"),
                          entry(sshd, badkey, "mala-llave", key_file=str(ok.key_file))],
                         secrets="secrets.toml")
    report = push_once(text, tmp_path, make_package(tmp_path / "p1", keydir, 1))
    assert live(ok) == "releases/jornada-0001"
    for name in ("mala-clave", "mala-llave"):
        error = str(report.staged[name].error)
        assert name in error and "authentication failed" in error
    # a refused credential is not retried (no lock-outs at the difusor)
    state = DeliveryState(tmp_path / "state.sqlite")
    assert len(state.deliveries("mala-clave")) == 1


def _full_difusor(sshd: Sshd, keydir: Path, tmp_path: Path) -> tuple[SftpUser, str, Path]:
    user = sshd.add_user()
    uid = int(subprocess.run(["id", "-u", user.name], capture_output=True, check=True).stdout)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=400k,mode=755,uid={uid},gid={uid}",
                    "tmpfs", str(user.www)], check=True)
    text = registry_toml([entry(sshd, user, "llena")])
    p1 = make_package(tmp_path / "p1", keydir, 1)
    assert push_once(text, tmp_path, p1).failed == []
    return user, text, p1


def test_disk_full_keeps_the_previous_cut_live(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    user, text, p1 = _full_difusor(sshd, keydir, tmp_path)
    assert live(user) == "releases/jornada-0001"
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1, big=600_000)
    report = push_once(text, tmp_path, p2)
    assert report.failed == ["llena"]
    assert "llena" in str(report.staged["llena"].error)
    assert "activate" not in report.activated or not report.activated
    assert live(user) == "releases/jornada-0001"
    index = (user.www / "current/json/main.json").read_bytes()
    assert index == (p1 / "json/main.json").read_bytes()


@pytest.mark.parametrize("when", ["before staging", "after a write fails"])
def test_a_full_disk_is_named_never_retried_and_its_partial_folder_removed(
        sshd: Sshd, keydir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        when: str) -> None:
    """Regression: a full disk at an SFTP-only difusor came back as OpenSSH's bare
    ``Failure (SFTP code 4)``, retried 3 times, and ``releases/.<cut>.partial`` stayed behind
    filling the disk. Now statvfs (before staging, or after a write failed) names the full disk,
    one attempt, the partial folder is removed and the previous cut stays live."""
    from prepcast.distribution.sftp import SftpPeer

    user, text, p1 = _full_difusor(sshd, keydir, tmp_path)
    if when == "after a write fails":   # the server says nothing of its space before
        calls: list[str] = []
        real = SftpPeer.free_bytes

        async def free_bytes(self: SftpPeer, path: str) -> int | None:
            calls.append(path)
            return None if len(calls) == 1 else await real(self, path)

        monkeypatch.setattr(SftpPeer, "free_bytes", free_bytes)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1, big=600_000)
    report = push_once(text, tmp_path, p2)
    assert report.failed == ["llena"]
    error = str(report.staged["llena"].error)
    assert "el disco del difusor está lleno" in error, error
    if when == "after a write fails":
        assert "Failure" in error, error
    rows = DeliveryState(tmp_path / "state.sqlite").deliveries("llena")
    assert [(r.cut, r.phase, r.result) for r in rows if r.cut == 2] == [(2, "stage", "failed")]
    assert sorted(p.name for p in (user.www / "releases").iterdir()) == ["jornada-0001"]
    assert live(user) == "releases/jornada-0001"


def test_dropped_connection_resumes_on_the_next_attempt(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    user = sshd.add_user()
    pkg = make_package(tmp_path / "p1", keydir, 1, big=3_000_000)
    total = read_package(pkg).total_bytes

    async def go() -> tuple[PushReport, DroppingProxy]:
        proxy = DroppingProxy(sshd.port, drop_after=1_500_000)
        await proxy.start()
        reg = tmp_path / "registry.toml"
        reg.write_text(registry_toml([entry(sshd, user, "cortada", port=proxy.port)]))
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"),
                        retry_delay=0.1)
        try:
            return await pusher.push(read_package(pkg)), proxy
        finally:
            await pusher.close()
            await proxy.stop()

    report, proxy = asyncio.run(go())
    assert proxy.connections == 2
    assert report.failed == []
    rows = DeliveryState(tmp_path / "state.sqlite").deliveries("cortada")
    assert [r.result for r in rows if r.phase == "stage"] == ["failed", "ok"]
    assert "connection lost" in str(rows[0].error) or "cortada" in str(rows[0].error)
    # the second attempt continued the .part: it sent well under the whole package
    assert 0 < rows[1].bytes < total
    zip_rel = next(p for p in read_package(pkg).files if p.startswith("db/"))
    served = (user.www / "current" / zip_rel).read_bytes()
    assert hashlib.sha256(served).digest() == hashlib.sha256((pkg / zip_rel).read_bytes()).digest()


def test_host_key_from_known_hosts_file(sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    user = sshd.add_user()
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{sshd.port} {sshd.host_key}\n")
    e = entry(sshd, user, "conocida")
    del e["host_key"]
    text = 'known_hosts = "known_hosts"\n' + registry_toml([e])
    report = push_once(text, tmp_path, make_package(tmp_path / "p1", keydir, 1))
    assert report.failed == []
    assert live(user) == "releases/jornada-0001"


def test_a_silent_difusor_does_not_hold_back_the_others(sshd: Sshd, keydir: Path,
                                                        tmp_path: Path) -> None:
    """A server that accepts TCP and never answers: the others are served at once."""
    import socket

    user = sshd.add_user()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        text = registry_toml([entry(sshd, user, "buena"),
                              entry(sshd, user, "muda", port=silent.getsockname()[1])])
        report = push_once(text, tmp_path, make_package(tmp_path / "p1", keydir, 1),
                           connect_timeout=1.0)
    finally:
        silent.close()
    assert report.failed == ["muda"] and "muda" in str(report.staged["muda"].error)
    state = DeliveryState(tmp_path / "state.sqlite")
    served = next(d for d in state.deliveries("buena") if d.phase == "activate")
    muda = state.deliveries("muda")
    assert len(muda) == 3  # retried
    assert served.ended is not None and muda[0].ended is not None
    assert served.ended < muda[0].ended  # activated while the silent one was still being tried
