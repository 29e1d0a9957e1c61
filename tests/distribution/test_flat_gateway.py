"""The flat mode against a real SFTP gateway that refuses symlinks and posix-rename (issue 10
item 5): readers polling through nginx while cuts arrive never see a mixed cut."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import multiprocessing.synchronize
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from prepcast.distribution import DeliveryState, Difusor, Pusher, Registry, read_package
from prepcast.distribution.sftp import SftpPeer
from prepcast.package.canonical import content_name
from tests.distribution.dist_gateway import Gateway
from tests.distribution.dist_packages import make_package

pytestmark = pytest.mark.server

READERS = 3


def read_cut(client: httpx.Client) -> int:
    """One reader's visit: index.html and what it loads, main.json and everything it names.
    Returns the cut read; raises AssertionError naming what was mixed or missing."""
    index = client.get("/index.html")
    assert index.status_code == 200, f"index.html: {index.status_code}"
    for src in re.findall(r"src='([^']+)'", index.text):
        r = client.get(f"/{src}")
        assert r.status_code == 200, f"{src} named by index.html: {r.status_code}"
    main = client.get("/json/main.json")
    assert main.status_code == 200, f"main.json: {main.status_code}"
    signed = json.loads(main.content)["signed"]
    cut = int(signed["cut"])
    manifest = client.get(f"/{signed['manifest']}")
    assert manifest.status_code == 200, f"{signed['manifest']}: {manifest.status_code}"
    assert hashlib.sha256(manifest.content).hexdigest() == signed["manifest_sha256"], "manifest"
    for path in signed["data"]["distritos"]:
        r = client.get(f"/{path}")
        assert r.status_code == 200, f"{path} of cut {cut}: {r.status_code}"
        assert r.json()["cut"] == cut, f"{path}: cut {r.json()['cut']} under cut {cut}'s main.json"
    for path in signed["data"]["db"]:
        r = client.get(f"/{path}")
        assert r.status_code == 200, f"{path} of cut {cut}: {r.status_code}"
    return cut


def reader(url: str, stop: multiprocessing.synchronize.Event, out: Any, count: Any) -> None:
    seen: set[int] = set()
    visits = 0
    failures: list[str] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            try:
                seen.add(read_cut(client))
            except (AssertionError, ValueError, KeyError) as exc:
                failures.append(str(exc))
            visits += 1
            with count.get_lock():
                count.value += 1
    out.put((visits, sorted(seen), failures[:20]))


def packages(base: Path, keydir: Path, n: int) -> list[Path]:
    """Cuts whose index.html loads a script of their own (so index.html changes every cut)."""
    pkgs: list[Path] = []
    for cut in range(1, n + 1):
        script = f"console.log('corte {cut}');\n".encode() * 20
        name = content_name("assets/corte.js", script)
        extra = {name: script,
                 "index.html": f"<!doctype html><title>PREP</title><script src='{name}'></script>\n"
                 .encode()}
        pkgs.append(make_package(base / f"p{cut}", keydir, cut, extra=extra, big=200_000,
                                 previous=pkgs[-1] if pkgs else None))
    return pkgs


class Readers:
    """Reader processes polling the site; ``visits`` counts their visits so far."""

    def __init__(self, url: str) -> None:
        ctx = multiprocessing.get_context("fork")
        self.stop, self.out, self.count = ctx.Event(), ctx.Queue(), ctx.Value("i", 0)
        self.procs = [ctx.Process(target=reader, args=(url, self.stop, self.out, self.count))
                      for _ in range(READERS)]
        for p in self.procs:
            p.start()

    @property
    def visits(self) -> int:
        return int(self.count.value)

    async def wait_for(self, visits: int, timeout: float = 60.0) -> None:
        """Until the readers made ``visits`` visits in all (a busy machine starts them late)."""
        deadline = time.monotonic() + timeout
        while self.visits < visits and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def start_readers(url: str) -> Readers:
    return Readers(url)


def stop_readers(readers: Readers) -> tuple[int, set[int], list[str]]:
    stop, out, procs = readers.stop, readers.out, readers.procs
    stop.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    visits = sum(r[0] for r in results)
    seen = {c for r in results for c in r[1]}
    return visits, seen, [f for r in results for f in r[2]]


def test_flat_mode_never_shows_a_mixed_cut(keydir: Path, tmp_path: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="prepcast-gateway-", dir="/srv"))
    base.chmod(0o755)
    gateway = Gateway(base)
    gateway.start()
    pkgs = packages(tmp_path, keydir, 6)
    d = Difusor(name="nube", host="127.0.0.1", port=gateway.port, user="prep", auth="key",
                remote_root="/", mode="flat", key_file=gateway.key_file, host_key=gateway.host_key)
    registry = Registry(tmp_path / "registry.toml", (d,), keep_releases=3)
    try:
        async def night() -> tuple[int, set[int], list[str], Pusher]:
            pusher = Pusher(registry, DeliveryState(tmp_path / "state.sqlite"), retry_delay=0.1)
            try:
                first = await pusher.push(read_package(pkgs[0]), wait_for_embargo=False)
                assert first.failed == [], first
                readers = start_readers(gateway.url)
                await readers.wait_for(READERS * 3)
                for pkg in pkgs[1:5]:
                    report = await pusher.push(read_package(pkg), wait_for_embargo=False)
                    assert report.failed == [], report
                    await readers.wait_for(readers.visits + READERS * 3)
                visits, seen, failures = await asyncio.to_thread(stop_readers, readers)
                return visits, seen, failures, pusher
            finally:
                await pusher.close()

        visits, seen, failures, pusher = asyncio.run(night())
        print(f"flat mode: {visits} reader visits saw cuts {sorted(seen)}, {len(failures)} mixed")
        assert failures == []
        assert visits >= READERS * 3 * 5 and len(seen) >= 3, (visits, seen)
        # the server refused what the mode does without: nothing linked, nothing renamed
        assert "nube" in pusher.modes["flat"]._no_rename  # type: ignore[attr-defined]
        assert not [p for p in gateway.root.rglob("*") if p.is_symlink()]
        assert (gateway.root / "json/main.json").read_bytes() == (pkgs[4] / "json/main.json").read_bytes()
        # pruned to the files of the last keep_releases (3) cuts
        only_cut_1 = {p for p in read_package(pkgs[0]).files if "0001" in p}
        assert only_cut_1 and not any((gateway.root / p).exists() for p in only_cut_1)

        # the readers can fail: main.json sent before the data it names is seen as mixed
        async def wrong_order() -> None:
            peer = SftpPeer(d)
            pkg = read_package(pkgs[5])
            try:
                readers = start_readers(gateway.url)
                await readers.wait_for(READERS)
                main = pkgs[5] / "json/main.json"
                await peer.write_into(main, "/json/main.json", pkg.files["json/main.json"][1])
                await readers.wait_for(readers.visits + READERS * 2)
                visits, _seen, failures = await asyncio.to_thread(stop_readers, readers)
                assert visits > 0 and failures, "the readers did not notice a mixed cut"
            finally:
                await peer.close()

        asyncio.run(wrong_order())
    finally:
        gateway.stop()
        shutil.rmtree(base, ignore_errors=True)
