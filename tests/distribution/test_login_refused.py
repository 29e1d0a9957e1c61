"""A refused password or key is not tried again, at the next cut either, until the registry
entry (its password or key file) changes: a difusor's server that counts failed logins
(fail2ban, account lock-outs) never sees the institute knock every cut. Real OpenSSH."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher, PushReport
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from prepcast.publish.state import DELIVERIES, SCHEMA, STATE_FILE
from prepcast.publish.status import night_status
from tests.distribution.dist_packages import make_package, registry_toml
from tests.distribution.dist_servers import Sshd, entry, live

pytestmark = pytest.mark.server


def _push(reg: Path, state: Path, pkg: Path) -> PushReport:
    async def go() -> PushReport:
        pusher = Pusher(load_registry(reg), DeliveryState(state), retry_delay=0.1)
        try:
            return await pusher.push(read_package(pkg), wait_for_embargo=False)
        finally:
            await pusher.close()

    return asyncio.run(go())


def test_a_refused_password_is_not_tried_again_until_the_entry_changes(
        sshd: Sshd, keydir: Path, tmp_path: Path) -> None:
    """Regression: a refused login was not retried within a cut but was tried again at every
    cut (72 failed logins in 7 minutes, enough for fail2ban to ban the institute). Now the next
    cuts do not connect at all (even once the server would take that password), say why, and
    `night status` shows it; a new password in the registry's secrets is tried at once."""
    user = sshd.add_user()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[passwords]\nportal = "not-the-password"\n')
    secrets.chmod(0o600)
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([entry(sshd, user, "portal", auth="password")],
                                 secrets="secrets.toml"))
    night = tmp_path / "estado"
    night.mkdir()
    state = night / DELIVERIES
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
