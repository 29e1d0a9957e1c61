"""The daemon receiving pushes into its own SFTP inbox: verify, embargo, clock, activate, purge."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prepcast.difusor.activate import ReleaseStore, release_problems
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.events import read_events
from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher
from prepcast.distribution.registry import load_registry
from prepcast.distribution.state import DeliveryState
from prepcast.package import CutId, load_manifest
from tests.difusor.difusor_helpers import (
    FakeNtp,
    daemon_config,
    make_package,
    registry_toml,
    wait_for,
)


def jornada(n: int) -> CutId:
    return CutId.of("jornada", n)

pytestmark = pytest.mark.server


def pusher_for(tmp: Path, daemon: Daemon, host_key: str, client_key: Path) -> Pusher:
    reg = tmp / "registry.toml"
    reg.write_text(registry_toml([{
        "name": "con-daemon", "host": "127.0.0.1", "port": daemon.sftp_port or 0, "user": "prep",
        "auth": "key", "key_file": str(client_key), "remote_root": "/", "mode": "daemon",
        "host_key": host_key}]))
    return Pusher(load_registry(reg), DeliveryState(tmp / "state.sqlite"), retry_delay=0.1)


def events(tmp: Path, kind: str) -> list[dict[str, object]]:
    return [e for e in read_events(tmp / "events.jsonl") if e["event"] == kind]


def test_pushed_cuts_are_verified_and_activated_with_deltas(tmp_path: Path, keydir: Path,
                                                            packages: list[Path]) -> None:
    conf, host_key, client_key = daemon_config(tmp_path, keydir, extra=(
        '\n[purge]\ncommand = ["sh", "-c", "echo {cut} >> purged.txt"]\n'))
    os.chdir(tmp_path)  # the purge command writes relative to the daemon's working directory
    daemon = Daemon(load_config(conf))
    store = ReleaseStore(tmp_path / "www")

    async def night() -> list[int]:
        task = asyncio.create_task(daemon.run())
        await wait_for(lambda: daemon.sftp_port is not None)
        pusher = pusher_for(tmp_path, daemon, host_key, client_key)
        sent = []
        try:
            for pkg in packages[:3]:
                report = await pusher.push(read_package(pkg))
                assert report.failed == []
                sent.append(report.staged["con-daemon"].files)
                cut = read_package(pkg).cut
                await wait_for(lambda c=cut: store.live_cut() == jornada(c))  # type: ignore[misc]
        finally:
            await pusher.close()
            daemon.stop()
            await task
        return sent

    sent = asyncio.run(night())
    assert store.live_cut() == jornada(3)
    assert release_problems(store.path(jornada(3))) == []
    assert sent[1] < sent[0]  # a delta archive: the shared assets do not travel again
    assert [e["cut"] for e in events(tmp_path, "activated")] == [1, 2, 3]
    assert (tmp_path / "purged.txt").read_text().split() == ["1", "2", "3"]
    status = (tmp_path / "inbox" / "status.json").read_text()
    assert '"live_cut": 3' in status


def _tampered(archive: bytes) -> bytes:
    """The same archive with one data file's bytes changed (size kept)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive)) as src, \
            tarfile.open(fileobj=out, mode="w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()  # type: ignore[union-attr]
            if m.name.startswith("data/"):
                data = data.replace(b"votos", b"VOTOS")
            dst.addfile(m, io.BytesIO(data))
    return out.getvalue()


def test_tampered_package_is_rejected_and_the_previous_cut_stays_live(
        tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    daemon = Daemon(load_config(conf))
    from prepcast.distribution.delta import write_delta_archive

    write_delta_archive(read_package(packages[0]), list(read_package(packages[0]).files),
                        tmp_path / "inbox" / "jornada-0001.tar")
    good = tmp_path / "good2.tar"
    write_delta_archive(read_package(packages[1]), list(read_package(packages[1]).files), good)
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(1)
    (tmp_path / "inbox" / "jornada-0002.tar").write_bytes(_tampered(good.read_bytes()))
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(1)
    rejected = events(tmp_path, "rejected")
    assert rejected and rejected[0]["cut"] == 2
    assert any(("data/" in f and "sha" in f.lower()) or "hash" in f.lower()
               for f in rejected[0]["failures"])  # type: ignore[union-attr]
    assert not (tmp_path / "inbox" / "jornada-0002.tar").exists()
    assert release_problems(daemon.store.path(jornada(1))) == []
    # the genuine cut 2 is still accepted afterwards
    os.replace(good, tmp_path / "inbox" / "jornada-0002.tar")
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(2)


def _delta(pkg: Path, held: Path | None, out: Path) -> int:
    """The archive the pusher sends a daemon holding ``held``; the files it carries."""
    from prepcast.distribution.delta import lacking, write_delta_archive

    contents = read_package(pkg)
    base = read_package(held).files if held is not None else {}
    paths = lacking(contents, base)
    write_delta_archive(contents, paths, out)
    return len(paths)


def test_files_linked_from_a_verified_release_are_not_hashed_again_unless_changed(
        tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    """The daemon hashes what an archive brings; a file it linked from a release it verified
    itself keeps that digest (same inode, size and time), and one written since is hashed and
    caught."""
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    daemon = Daemon(load_config(conf))
    inbox = tmp_path / "inbox"
    _delta(packages[0], None, inbox / "jornada-0001.tar")
    asyncio.run(daemon.step())
    n1 = len(load_manifest(packages[0]).files)
    assert daemon.verified.hashed == n1 and daemon.verified.reused == 0
    brought = _delta(packages[1], packages[0], inbox / "jornada-0002.tar")
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(2)
    total = len(load_manifest(packages[1]).files)
    assert daemon.verified.reused > 0
    assert daemon.verified.hashed == brought - 3  # main.json, manifest and signature are not listed
    assert daemon.verified.hashed + daemon.verified.reused == total
    assert [e["hashed"] for e in events(tmp_path, "verified")] == [n1, brought - 3]
    # a held file changed in place (same size): the next cut that links it is hashed, refused
    live = daemon.store.path(jornada(2))
    shared = next(p for p in sorted((live / "assets").iterdir()) if p.suffix == ".js")
    data = shared.read_bytes()
    with shared.open("r+b") as f:
        f.write(b"X" + data[1:2] + data[2:])
    _delta(packages[2], packages[1], inbox / "jornada-0003.tar")
    asyncio.run(daemon.step())
    assert daemon.store.live_cut() == jornada(2)
    rejected = events(tmp_path, "rejected")
    assert rejected and rejected[-1]["cut"] == 3
    assert any(shared.name in f and "sha256" in f for f in rejected[-1]["failures"]), rejected


def test_embargo_and_clock_bound_hold_activation(tmp_path: Path, keydir: Path,
                                                 packages: list[Path]) -> None:
    ntp = FakeNtp(offset=30.0)
    try:
        conf, _, _ = daemon_config(tmp_path, keydir, sftp=False, extra=(
            f'\n[clock]\nntp_server = "127.0.0.1"\nntp_port = {ntp.port}\nmax_offset = 1.0\n'))
        daemon = Daemon(load_config(conf))
        from prepcast.distribution.delta import write_delta_archive

        p1 = read_package(packages[0])
        write_delta_archive(p1, list(p1.files), tmp_path / "inbox" / "jornada-0001.tar")
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() is None  # our clock is 30 s off: refuse
        assert events(tmp_path, "clock_off")[0]["offset_seconds"] == pytest.approx(30, abs=1)
        ntp.offset = 0.2
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == jornada(1)
        # a cut whose embargo lies ahead waits for it, then goes live
        soon = datetime.now(UTC) + timedelta(seconds=1.5)
        p2dir = make_package(tmp_path / "p2", keydir, 2, previous=packages[0], not_before=soon)
        p2 = read_package(p2dir)
        write_delta_archive(p2, list(p2.files), tmp_path / "inbox" / "jornada-0002.tar")
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == jornada(1)
        assert events(tmp_path, "waiting")[0]["cut"] == 2

        async def until_live() -> None:
            while daemon.store.live_cut() != jornada(2):
                await daemon.step()
                await asyncio.sleep(0.05)

        asyncio.run(asyncio.wait_for(until_live(), 10))
        assert datetime.now(UTC) >= soon
    finally:
        ntp.close()


def test_delta_follows_what_the_daemon_shows_not_what_was_sent(
        tmp_path: Path, keydir: Path, packages: list[Path]) -> None:
    """A cut the daemon never took (rejected, lost) must not become the base of the next delta."""
    conf, host_key, client_key = daemon_config(tmp_path, keydir)
    daemon = Daemon(load_config(conf))

    async def night() -> None:
        task = asyncio.create_task(daemon.run())
        await wait_for(lambda: daemon.sftp_port is not None)
        pusher = pusher_for(tmp_path, daemon, host_key, client_key)
        try:
            assert (await pusher.push(read_package(packages[0]))).failed == []
            await wait_for(lambda: daemon.store.live_cut() == jornada(1))
            lost = read_package(packages[1])  # the pusher believes cut 2 arrived; it did not
            pusher.state.remember_files(lost.digest, lost.files)
            pusher.state.set_holding("con-daemon", "staged", lost.cut_id, lost.digest)
            assert (await pusher.push(read_package(packages[2]))).failed == []
            await wait_for(lambda: daemon.store.live_cut() == jornada(3))
        finally:
            await pusher.close()
            daemon.stop()
            await task

    asyncio.run(night())
    assert release_problems(daemon.store.path(jornada(3))) == []
    assert events(tmp_path, "rejected") == []


def test_purge_webhook_is_called_after_activation(tmp_path: Path, keydir: Path,
                                                  packages: list[Path]) -> None:
    import http.server
    import json
    import threading

    calls: list[dict[str, object]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        conf, _, _ = daemon_config(tmp_path, keydir, sftp=False, extra=(
            f'\n[purge]\nwebhook = "http://127.0.0.1:{server.server_port}/purge"\n'))
        daemon = Daemon(load_config(conf))
        from prepcast.distribution.delta import write_delta_archive

        p1 = read_package(packages[0])
        write_delta_archive(p1, list(p1.files), tmp_path / "inbox" / "jornada-0001.tar")
        asyncio.run(daemon.step())
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert calls == [{"cut": 1, "ejercicio": "jornada", "paths": ["/", "/index.html", "/json/main.json"]}]
    assert events(tmp_path, "purged")[0]["status"] == 200


def test_daemon_disk_full_keeps_the_previous_cut_live(tmp_path: Path, keydir: Path,
                                                      packages: list[Path]) -> None:
    import subprocess

    from prepcast.distribution.delta import write_delta_archive

    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    www = tmp_path / "www"
    www.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(www)], check=True)
    try:
        daemon = Daemon(load_config(conf))
        p1 = read_package(packages[0])
        write_delta_archive(p1, list(p1.files), tmp_path / "inbox" / "jornada-0001.tar")
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == jornada(1)
        big = make_package(tmp_path / "big2", keydir, 2, previous=packages[0], big=400_000)
        p2 = read_package(big)
        write_delta_archive(p2, list(p2.files), tmp_path / "inbox" / "jornada-0002.tar")
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == jornada(1)
        assert release_problems(daemon.store.path(jornada(1))) == []
        rejected = events(tmp_path, "rejected")
        assert rejected[0]["cut"] == 2
        assert "bytes free here" in str(rejected[0]["failures"])  # refused before writing
        assert not [n for n in os.listdir(www / "releases") if n.endswith(".partial")]
    finally:
        subprocess.run(["umount", "-l", str(www)], check=False)
