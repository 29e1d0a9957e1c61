"""The compliance check makes a test package live on a difusor that already serves a site, and
must put the site back as it was (``current`` where it pointed), on a chrooted SFTP server of
either kind: the embedded one (whose ``readlink`` of a relative target fails inside the chroot)
and OpenSSH's internal-sftp. A site it cannot read, or cannot put back, fails the check loudly;
it is never reported as "cumple" with ``current`` gone."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import asyncssh
import pytest

from prepcast.distribution.local import start_sftp_difusor
from prepcast.registry import load_registry
from prepcast.registry.checks import CheckReport, check_difusor
from tests.distribution.dist_servers import Sshd, free_port

LIVE = "releases/simulacro-3-0008"


def _site(root: Path) -> None:
    (root / LIVE / "json").mkdir(parents=True)
    (root / LIVE / "json" / "main.json").write_text('{"cut": 8}')
    (root / "current").symlink_to(LIVE)


def _registry(tmp: Path, port: int, host_key: str, key_file: Path, remote_root: str,
              user: str = "prep", mode: str = "sftp") -> Path:
    reg = tmp / "registry.toml"
    reg.write_text(
        "[checks]\ntimeout_s = 10\nspeed_test_mb = 1\nmin_speed_mb_s = 0.01\nmin_free_gb = 0.01\n"
        f'\n[[difusor]]\nname = "nuevo"\nhost = "127.0.0.1"\nport = {port}\nuser = "{user}"\n'
        f'auth = "key"\nkey_file = "{key_file}"\nremote_root = "{remote_root}"\n'
        f'host_key = "{host_key}"\nmode = "{mode}"\nnombre = "Nuevo"\n'
        f'url = "https://127.0.0.1:{free_port()}/"\n')   # no web server: only SFTP matters here
    return reg


def _keys(tmp: Path) -> tuple[asyncssh.SSHKey, asyncssh.SSHKey, Path]:
    host = asyncssh.generate_private_key("ssh-ed25519")
    client = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp / "inst.pem"
    client.write_private_key(str(key_file))
    return host, client, key_file


def _check_embedded(tmp: Path, root: Path,
                    factory: Callable[[asyncssh.SSHServerChannel[bytes], bytes], asyncssh.SFTPServer]
                    | None = None, mode: str = "sftp") -> CheckReport:
    host, client, key_file = _keys(tmp)

    async def run() -> CheckReport:
        if factory is None:
            server = await start_sftp_difusor(root, host, client.export_public_key().decode())
        else:
            chroot = str(root.resolve()).encode()
            server = await asyncssh.listen(
                "127.0.0.1", 0, server_host_keys=[host],
                authorized_client_keys=asyncssh.import_authorized_keys(
                    client.export_public_key().decode()),
                sftp_factory=lambda chan: factory(chan, chroot))
        port = server.sockets[0].getsockname()[1]
        reg = load_registry(_registry(tmp, port, host.export_public_key().decode().strip(),
                                      key_file, "/", mode=mode))
        try:
            return await check_difusor(reg.difusores[0], reg)
        finally:
            server.close()

    return asyncio.run(run())


def _finding(report: CheckReport, key: str) -> tuple[bool | None, str]:
    f = next(f for f in report.findings if f.key == key)
    return f.ok, f.detalle


def test_the_embedded_chrooted_server_gets_current_back_where_it_pointed(tmp_path: Path) -> None:
    """Its readlink of the relative ``current`` fails inside the chroot; the check used to take
    that for "no current", delete the live ``current`` afterwards and say "cumple"."""
    root = tmp_path / "dif"
    root.mkdir()
    _site(root)
    report = _check_embedded(tmp_path, root)
    assert _finding(report, "package.activate")[0] is True
    assert os.readlink(root / "current") == LIVE
    assert (root / "current" / "json" / "main.json").read_text() == '{"cut": 8}'
    assert sorted(p.name for p in (root / "releases").iterdir()) == ["simulacro-3-0008"]
    ok, detail = _finding(report, "package.restore")
    assert ok is True and LIVE in detail


@pytest.mark.server
def test_openssh_internal_sftp_chroot_gets_current_back_where_it_pointed(tmp_path: Path) -> None:
    sshd = Sshd()
    try:
        user = sshd.add_user()
        _site(user.www)
        for p in [user.www / "releases", user.www / LIVE, user.www / LIVE / "json"]:
            shutil.chown(p, user.name, user.name)
        os.lchown(user.www / "current", *(lambda s: (s.st_uid, s.st_gid))(user.www.stat()))
        sshd.start()
        reg = load_registry(_registry(tmp_path, sshd.port, sshd.host_key, user.key_file, "/www",
                                      user.name))
        report = asyncio.run(check_difusor(reg.difusores[0], reg))
        assert _finding(report, "package.activate")[0] is True, report.findings
        assert os.readlink(user.www / "current") == LIVE
        assert _finding(report, "package.restore")[0] is True
        assert sorted(p.name for p in (user.www / "releases").iterdir()) == ["simulacro-3-0008"]
    finally:
        sshd.stop()


class _Blind(asyncssh.SFTPServer):
    """Cannot tell where a link points: readlink and realpath of ``current`` both fail."""

    def readlink(self, path: bytes) -> bytes:
        raise asyncssh.SFTPFailure("readlink not supported")

    def realpath(self, path: bytes) -> bytes:
        if path.endswith(b"current"):
            raise asyncssh.SFTPFailure("realpath not supported")
        return super().realpath(path)  # type: ignore[return-value]


class _NoWayBack(asyncssh.SFTPServer):
    """Lets the check make its test package live, then refuses the link back to the live cut."""

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        if oldpath == LIVE.encode():
            raise asyncssh.SFTPPermissionDenied("no more links")
        super().symlink(oldpath, newpath)


def test_a_site_whose_current_cannot_be_read_is_left_untouched_and_fails(tmp_path: Path) -> None:
    root = tmp_path / "dif"
    root.mkdir()
    _site(root)
    report = _check_embedded(tmp_path, root, lambda chan, chroot: _Blind(chan, chroot=chroot))
    ok, detail = _finding(report, "package.activate")
    assert ok is False and "no podría volver a quedar" in detail
    assert os.readlink(root / "current") == LIVE
    assert not report.passed


def test_a_site_that_cannot_be_put_back_fails_the_check_loudly(tmp_path: Path) -> None:
    root = tmp_path / "dif"
    root.mkdir()
    _site(root)
    report = _check_embedded(tmp_path, root, lambda chan, chroot: _NoWayBack(chan, chroot=chroot))
    assert _finding(report, "package.activate")[0] is True
    ok, detail = _finding(report, "package.restore")
    assert ok is False and "NO quedó como estaba" in detail and LIVE in detail
    assert not report.passed


def test_a_flat_difusor_is_checked_with_the_flat_activation_it_will_get(tmp_path: Path) -> None:
    """A difusor registered ``mode = "flat"`` whose server also allows symlinks was given the
    sftp activation (releases/ + current), not the one its pushes make."""
    root = tmp_path / "dif"
    (root / "json").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<!doctype html><title>PREP</title>\n")
    (root / "json" / "main.json").write_bytes(b'{"cut": 8}')
    report = _check_embedded(tmp_path, root, mode="flat")
    ok, detail = _finding(report, "package.activate")
    assert ok is True and "plano" in detail
    assert report.modo == "sftp"        # what would fit best is still said
    assert not (root / "current").exists() and not (root / "releases").exists()
    assert (root / "index.html").read_bytes() == b"<!doctype html><title>PREP</title>\n"
    assert (root / "json" / "main.json").read_bytes() == b'{"cut": 8}'
    assert sorted(p.name for p in root.iterdir()) == ["index.html", "json"]
    assert _finding(report, "package.restore")[0] is True
