"""A refused password or key is not tried again, at the next cut either, until the registry
entry (its password or key file) changes: a difusor's server that counts failed logins
(fail2ban, account lock-outs) never sees the institute knock every cut. Real OpenSSH."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from prepcast.distribution.contents import read_package
from prepcast.distribution.outcome import Outcome
from prepcast.distribution.push import Pusher, PushReport
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from prepcast.package.ejercicio import CutId
from prepcast.publish.state import DELIVERIES, SCHEMA, STATE_FILE
from prepcast.publish.status import night_status
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import SftpUser, Sshd, entry, live

pytestmark = pytest.mark.server


def _push(reg: Path, state: Path, pkg: Path) -> PushReport:
    async def go() -> PushReport:
        pusher = Pusher(load_registry(reg), DeliveryState(state), retry_delay=0.1)
        try:
            return await pusher.push(read_package(pkg), wait_for_embargo=False)
        finally:
            await pusher.close()

    return asyncio.run(go())


def _phase(reg: Path, state: Path, pkg: Path, phase: str) -> Outcome:
    """``prepcast push --stage-only`` / ``--activate-only`` of ``pkg`` to the one difusor."""
    async def go() -> Outcome:
        pusher = Pusher(load_registry(reg), DeliveryState(state), retry_delay=0.1)
        try:
            if phase == "stage":
                return (await pusher.stage_all(read_package(pkg)))["portal"]
            return (await pusher.activate_all(read_package(pkg), ["portal"]))["portal"]
        finally:
            await pusher.close()

    return asyncio.run(go())


def _refused_setup(sshd: Sshd, tmp_path: Path) -> tuple[Path, Path, Path, SftpUser]:
    """A registry whose one difusor has a password its server refuses: (registry, secrets,
    delivery state, the server's user)."""
    user = sshd.add_user()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[passwords]\nportal = "not-the-password"\n')
    secrets.chmod(0o600)
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, user, "portal", auth="password")],
                                 secrets="secrets.toml"))
    night = tmp_path / "estado"
    night.mkdir()
    return reg, secrets, night / DELIVERIES, user


def test_a_refused_login_is_not_tried_again_by_stage_only_or_activate_only(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: ``prepcast push --stage-only`` and ``--activate-only`` never looked at the
    refused login on record: each run logged in again with the password the server had refused
    (every cut, in a night staged and activated by hand), until fail2ban banned the institute.
    Now every phase holds the difusor back the same way, until its registry entry changes."""
    reg, _, state, user = _refused_setup(sshd, tmp_path)
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    first = _phase(reg, state, p1, "stage")
    assert "authentication failed (password)" in str(first.error), first
    # the server would now take that password: were it tried, the cut would be staged there
    subprocess.run(["chpasswd"], input=f"{user.name}:not-the-password\n".encode(), check=True)
    for pkg, phase in ((p2, "stage"), (p2, "stage"), (p1, "activate")):
        again = _phase(reg, state, pkg, phase)
        assert not again.ok and again.phase == phase, again
        assert str(again.error).startswith(
            "portal: not tried: its server refused the login at jornada-0001"), again
    assert not (user.www / "releases").exists() or not any((user.www / "releases").iterdir())
    assert not (user.www / "current").exists()
    phases = [(d.phase, d.result) for d in DeliveryState(state).deliveries("portal")]
    assert phases[-3:] == [("stage", "failed"), ("stage", "failed"), ("activate", "failed")]


def test_the_delivery_state_holds_no_digest_a_password_can_be_checked_against(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: the refused login was recorded with a plain SHA-256 of the registry entry
    and its password; every other field of it is in the registry (not secret), so whoever read
    ``deliveries.sqlite`` could guess the difusor's password offline. Now the digest is keyed
    (HMAC) with a random key kept 0600 beside the state: no plain digest is stored, and a
    changed password is still tried at once."""
    reg, secrets, state, user = _refused_setup(sshd, tmp_path)
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    first = _push(reg, state, p1)
    assert "authentication failed (password)" in str(first.staged["portal"].error)
    (d,) = load_registry(reg).difusores
    plain = hashlib.sha256(json.dumps(
        [d.host, d.port, d.user, d.auth, str(d.key_file), d.password, d.host_key,
         hashlib.sha256(b"").hexdigest()]).encode()).hexdigest()
    guessable = {plain, hashlib.sha256(b"not-the-password").hexdigest(), "not-the-password"}
    refused = DeliveryState(state).login_refused("portal")
    assert refused is not None and refused.access not in guessable
    key = state.with_suffix(".key")
    assert key.stat().st_mode & 0o777 == 0o600
    for f in state.parent.iterdir():  # the database, its journal, the key
        raw = f.read_bytes()
        assert not any(g.encode() in raw for g in guessable), f
    secrets.write_text(f'[passwords]\nportal = "{user.password}"\n')
    second = _push(reg, state, p2)
    assert second.failed == [], second
    assert DeliveryState(state).login_refused("portal") is None


def test_a_refusal_recorded_with_a_plain_digest_is_erased(tmp_path: Path) -> None:
    """A delivery state written before its login digests were keyed holds plain digests: they
    are erased when the key is made (the difusor is then tried once)."""
    state = DeliveryState(tmp_path / DELIVERIES)
    state.refuse_login("portal", "0" * 64, CutId.of("jornada", 1), "authentication failed")
    assert state.login_refused("portal") is not None
    state.access_key()
    assert state.login_refused("portal") is None
    state.close()
    assert b"0" * 64 not in (tmp_path / DELIVERIES).read_bytes()


def test_a_refused_password_is_not_tried_again_until_the_entry_changes(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: a refused login was not retried within a cut but was tried again at every
    cut (72 failed logins in 7 minutes, enough for fail2ban to ban the institute). Now the next
    cuts do not connect at all (even once the server would take that password), say why, and
    `night status` shows it; a new password in the registry's secrets is tried at once."""
    reg, secrets, state, user = _refused_setup(sshd, tmp_path)
    night = state.parent
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    p3 = make_package(tmp_path / "p3", keydir, 3, previous=p2)
    first = _push(reg, state, p1)
    assert "authentication failed (password)" in str(first.staged["portal"].error)
    # the server would now take that password: were it tried, cut 2 would go live
    subprocess.run(["chpasswd"], input=f"{user.name}:not-the-password\n".encode(), check=True)
    second = _push(reg, state, p2)
    error = str(second.staged["portal"].error)
    assert error.startswith("portal: not tried: its server refused the login at jornada-0001"), \
        error
    assert "until its registry entry, password or key file changes" in error
    assert not (user.www / "current").exists()  # no login, nothing sent
    (night / STATE_FILE).write_text(json.dumps({
        "schema": SCHEMA, "ejercicio": "jornada", "proceso": "IEEM", "registry": str(reg),
        "cut_times": {"1": "2024-06-02T20:00:00-06:00"}, "cuts": {}, "log": []}))
    (row,) = night_status(night)["difusores"]
    assert row["estado"] == "falla: autenticación rechazada (no se reintenta)", row
    assert row["ultimo_error"]["error"].startswith(
        "portal: no se intenta: su servidor rechazó el acceso en jornada-0001"), row
    # the registry's secrets now hold a new password: tried, and the cut goes out
    secrets.write_text(f'[passwords]\nportal = "{user.password}"\n')
    subprocess.run(["chpasswd"], input=f"{user.name}:{user.password}\n".encode(), check=True)
    third = _push(reg, state, p3)
    assert third.failed == [], third
    assert live(user) == "releases/jornada-0003"
    assert DeliveryState(state).login_refused("portal") is None
    assert night_status(night)["difusores"][0]["estado"] != \
        "falla: autenticación rechazada (no se reintenta)"


def test_retry_login_tries_a_fixed_server_again_with_the_same_entry(
        sshd: Sshd, keydir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server fixed on its side (the account unlocked, the password set as registered) while
    the registry entry stays as it was: `prepcast night retry-login` forgets the refusal, so the
    next cut is tried and goes out; misuse is one clear message and a non-zero exit."""
    from prepcast.cli import main

    reg, _, state, user = _refused_setup(sshd, tmp_path)
    night = state.parent
    p1 = make_package(tmp_path / "p1", keydir, 1)
    p2 = make_package(tmp_path / "p2", keydir, 2, previous=p1)
    p3 = make_package(tmp_path / "p3", keydir, 3, previous=p2)
    assert "authentication failed" in str(_push(reg, state, p1).staged["portal"].error)
    subprocess.run(["chpasswd"], input=f"{user.name}:not-the-password\n".encode(), check=True)
    held = str(_push(reg, state, p2).staged["portal"].error)
    assert "prepcast night retry-login portal --state PATH" in held, held
    assert not (user.www / "current").exists()
    capsys.readouterr()
    # misuse: no state there, a difusor with no refusal on record; nothing is forgotten
    assert main(["night", "retry-login", "portal", "--state", str(tmp_path / "none")]) == 2
    assert "no delivery state here" in capsys.readouterr().err
    assert main(["night", "retry-login", "portal", "otro", "--state", str(night)]) == 2
    err = capsys.readouterr().err
    assert "no refused login on record for otro" in err and "Traceback" not in err, err
    assert DeliveryState(state).login_refused("portal") is not None
    assert not (tmp_path / "none").exists()
    # the runner's folder (above) and a push's delivery state file are both taken
    assert main(["night", "retry-login", "portal", "--state", str(state)]) == 0
    assert "se intentará de nuevo" in capsys.readouterr().out
    assert DeliveryState(state).login_refused("portal") is None
    third = _push(reg, state, p3)
    assert third.failed == [], third
    assert live(user) == "releases/jornada-0003"
