"""The daemon behind a real chrooted OpenSSH, set up as the guide says: the institute's account
can write only to the inbox, and nothing reaches what the web server serves without the daemon's
verification (the bypass of issue 16: a file put into ``/www/current/`` was served as is)."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from tests.difusor.difusor_helpers import registry_toml
from tests.difusor.difusor_openssh import SafeDaemonDifusor

pytestmark = pytest.mark.server


@pytest.fixture
def difusor(keydir: Path) -> Iterator[SafeDaemonDifusor]:
    d = SafeDaemonDifusor(keydir / "root.pub")
    try:
        yield d
    finally:
        d.stop()


def _forged_archive() -> bytes:
    """What a stolen credential could send without the signing key: a tar of a defaced page."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, body in (("index.html", b"<h1>HACKED</h1>"),
                           ("json/main.json", b'{"cut": 2}')):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


async def _attack(d: SafeDaemonDifusor) -> dict[str, str]:
    """Every way the institute's account might reach the served site; what the server answered."""
    answers: dict[str, str] = {}
    async with asyncssh.connect(
            "127.0.0.1", d.port, username=d.sftp_user, client_keys=[str(d.client_key)],
            known_hosts=None) as conn, conn.start_sftp_client() as sftp:

        async def attempt(label: str, op: object) -> None:
            try:
                await op  # type: ignore[misc]
            except asyncssh.SFTPError as exc:
                answers[label] = type(exc).__name__
            else:
                answers[label] = "ACCEPTED"

        async def put(path: str, body: bytes) -> None:
            async with sftp.open(path, "wb") as f:
                await f.write(body)

        target = str(d.www / "current" / "index.html")
        await attempt("write at the chroot's top", put("/index.html", b"x"))
        await attempt("write into /www/current", put("/www/current/index.html", b"x"))
        await attempt("mkdir /www", sftp.mkdir("/www"))
        await attempt("escape with ..", put("/inbox/../../www/current/index.html", b"x"))
        await attempt("absolute path outside", put(target, b"x"))
        await attempt("symlink in the inbox", sftp.symlink(target, "/inbox/status.json"))
        await attempt("symlink named like an archive", sftp.symlink(target, "/inbox/jornada-0009.tar"))
        await attempt("hard link in the inbox", sftp.link("/inbox/status.json", "/inbox/x"))
        await attempt("chmod of the inbox", sftp.chmod("/inbox", 0o777))
        await attempt("remove the inbox", sftp.rmdir("/inbox"))
        # the inbox itself takes what arrives: the daemon must refuse it
        await put("/inbox/index.html", b"<h1>HACKED</h1>")
        await put("/inbox/.jornada-0002.tar.part", _forged_archive())
        await sftp.posix_rename("/inbox/.jornada-0002.tar.part", "/inbox/jornada-0002.tar")
    return answers


def _push(d: SafeDaemonDifusor, tmp_path: Path, package: Path) -> None:
    reg = tmp_path / "registry.toml"
    reg.write_text(registry_toml([{
        "name": "seguro", "host": "127.0.0.1", "port": d.port, "user": d.sftp_user,
        "auth": "key", "key_file": str(d.client_key), "remote_root": "/inbox", "mode": "daemon",
        "host_key": d.host_key}]))

    async def push() -> None:
        pusher = Pusher(load_registry(reg), DeliveryState(tmp_path / "state.sqlite"))
        try:
            report = await pusher.push(read_package(package))
            assert report.failed == [], report
        finally:
            await pusher.close()

    asyncio.run(push())


def test_only_the_inbox_is_writable_and_nothing_is_served_unverified(
        difusor: SafeDaemonDifusor, packages: list[Path], tmp_path: Path) -> None:
    d = difusor
    checked = d.sshd_test()
    assert checked.returncode == 0, checked.stderr  # the guide runs `sshd -t` before reloading
    d.start()
    _push(d, tmp_path, packages[0])
    d.wait_event("activated", 1)
    assert (d.live() or "").endswith("0001")
    served = {p: (d.www / "current" / p).read_bytes() for p in ("index.html", "json/main.json")}
    assert not list(d.inbox.glob("*.tar"))  # the daemon (another user) took the archive in

    answers = asyncio.run(_attack(d))
    assert {k: v for k, v in answers.items() if v == "ACCEPTED"} == {}, answers
    d.wait_event("rejected", 1)
    assert (d.live() or "").endswith("0001")
    for p, body in served.items():
        assert (d.www / "current" / p).read_bytes() == body, p
    assert not any(b"HACKED" in f.read_bytes() for f in d.www.rglob("*") if f.is_file()
                   and not f.is_symlink() and "quarantine" not in f.relative_to(d.www).parts)
    # the stray page was moved aside, out of the inbox and of what is served
    d.wait_event("quarantined", 1)
    assert not (d.inbox / "index.html").exists()
    assert [p.name.endswith("-index.html") for p in (d.www / "quarantine").iterdir()] == [True]
    # www belongs to the daemon's user, outside the chroot, and nobody else may write it
    st = os.stat(d.www)
    assert st.st_uid == d.uid and not st.st_mode & 0o022
    assert not str(d.www).startswith(str(d.chroot))

    # the next signed cut still goes through the same inbox
    _push(d, tmp_path, packages[1])
    d.wait_event("activated", 2)
    assert (d.live() or "").endswith("0002")
