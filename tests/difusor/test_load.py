"""50 activations in a row while a client hammers main.json and the data it names."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import lacking, write_delta_archive
from tests.difusor.difusor_helpers import daemon_config, make_package
from tests.difusor.difusor_web_servers import WebServer, public_dir, remove

pytestmark = [pytest.mark.server, pytest.mark.slow]

ACTIVATIONS = 50


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory, keydir: Path) -> list[Path]:
    base = tmp_path_factory.mktemp("fifty")
    out: list[Path] = []
    for cut in range(1, ACTIVATIONS + 2):
        out.append(make_package(base / f"p{cut}", keydir, cut, previous=out[-1] if out else None))
    return out


class Hammer:
    """Threads that fetch main.json, then one data file it names, until stopped."""

    def __init__(self, base: str, threads: int = 2) -> None:
        self.base = base
        self.requests = 0
        self.errors: list[str] = []
        self.cuts_seen: set[int] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self) -> Hammer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(verify=False, timeout=10) as c:
            while not self._stop.is_set():
                n, errors = 0, []
                try:
                    main = c.get(f"{self.base}/json/main.json")
                    n += 1
                    if main.status_code != 200:
                        errors.append(f"main.json: {main.status_code}")
                    else:
                        signed = json.loads(main.content)["signed"]
                        path = rng.choice(signed["data"]["distritos"])
                        data = c.get(f"{self.base}/{path}")
                        n += 1
                        if data.status_code != 200:
                            errors.append(f"{path}: {data.status_code} (main.json of cut {signed['cut']})")
                        elif json.loads(data.content)["cut"] != signed["cut"]:
                            errors.append(f"{path}: cut {json.loads(data.content)['cut']} "
                                          f"with main.json of cut {signed['cut']}")
                        with self._lock:
                            self.cuts_seen.add(int(signed["cut"]))
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self.requests += n
                    self.errors += errors


def activate_all(daemon: Daemon, inbox: Path, pkgs: list[Path], pause: float) -> None:
    prev = None
    for pkg_dir in pkgs:
        pkg = read_package(pkg_dir)
        paths = lacking(pkg, prev.files) if prev else list(pkg.files)
        write_delta_archive(pkg, paths, inbox / f"{pkg.cut_id.tag}.tar")
        asyncio.run(daemon.step())
        assert daemon.store.live_cut() == pkg.cut_id
        prev = pkg
        time.sleep(pause)


def hammer_during_activations(base: str, daemon: Daemon, inbox: Path,
                              pkgs: list[Path]) -> tuple[Hammer, float]:
    """Clients fetch from ``base`` at full speed while every package is activated in turn."""
    started = time.monotonic()
    with Hammer(base) as hammer:
        time.sleep(0.3)
        activate_all(daemon, inbox, pkgs, pause=0.1)
        time.sleep(0.3)
    return hammer, time.monotonic() - started


@pytest.fixture
def difusor(keydir: Path, fifty: list[Path]) -> Iterator[tuple[Daemon, Path, Path]]:
    top = public_dir("prepcast-load-")
    try:
        conf, _, _ = daemon_config(top / "d", keydir, sftp=False)
        (top / "d").chmod(0o755)
        daemon = Daemon(load_config(conf))
        activate_all(daemon, top / "d" / "inbox", fifty[:1], 0)
        yield daemon, top / "d" / "inbox", top
    finally:
        remove(top)


def test_fifty_activations_under_load_on_nginx(difusor: tuple[Daemon, Path, Path],
                                               fifty: list[Path]) -> None:
    daemon, inbox, top = difusor
    (top / "srv").mkdir()
    server = WebServer("nginx", daemon.store.root, top / "srv")
    server.start()
    try:
        hammer, seconds = hammer_during_activations(server.base, daemon, inbox, fifty[1:])
    finally:
        server.stop()
    print(f"\nnginx: {hammer.requests} requests in {seconds:.1f} s during {ACTIVATIONS} "
          f"activations, {len(hammer.errors)} errors, cuts seen {len(hammer.cuts_seen)}")
    assert hammer.errors == []
    assert hammer.requests > 200
    assert len(hammer.cuts_seen) > ACTIVATIONS // 2


def test_fifty_activations_under_load_on_the_embedded_server(
        difusor: tuple[Daemon, Path, Path], fifty: list[Path]) -> None:
    daemon, inbox, top = difusor
    server = EmbeddedServer(daemon.store.root, port=0, access_log=top / "access.log")
    server.start()
    try:
        hammer, seconds = hammer_during_activations(f"http://127.0.0.1:{server.port}", daemon,
                                                    inbox, fifty[1:])
    finally:
        server.stop()
    print(f"\nembedded: {hammer.requests} requests in {seconds:.1f} s during {ACTIVATIONS} "
          f"activations, {len(hammer.errors)} errors, cuts seen {len(hammer.cuts_seen)}")
    assert hammer.errors == []
    assert hammer.requests > 200
    lines = (top / "access.log").read_text().splitlines()
    assert len(lines) >= hammer.requests * 0.99
