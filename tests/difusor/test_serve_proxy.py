"""Behind a CDN or proxy, the embedded server logs the reader's address from X-Forwarded-For,
but only for requests from the proxies it was told to trust."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from prepcast.cli import main
from prepcast.difusor.config import load_config
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.delta import write_delta_archive
from tests.difusor.difusor_helpers import daemon_config

pytestmark = pytest.mark.server


def _served(tmp_path: Path, keydir: Path, package: Path) -> Path:
    conf, _, _ = daemon_config(tmp_path, keydir, sftp=False)
    daemon = Daemon(load_config(conf))
    pkg = read_package(package)
    write_delta_archive(pkg, list(pkg.files), tmp_path / "inbox" / f"{pkg.cut_id.tag}.tar")
    asyncio.run(daemon.step())
    return tmp_path / "www"


@pytest.mark.parametrize(("trusted", "logged"), [
    (("127.0.0.0/8", "10.0.0.0/8"), "187.190.4.7"),   # both hops trusted: the reader's address
    (("127.0.0.0/8",), "10.1.1.1"),      # the hop the trusted proxy saw, not what it was told
    (("10.0.0.0/8",), "127.0.0.1"),      # a request not from a trusted proxy: its own address
    ((), "127.0.0.1"),                   # no proxy configured: the header is ignored
])
def test_forwarded_address_only_from_trusted_proxies(tmp_path: Path, keydir: Path,
                                                     packages: list[Path], trusted: tuple[str, ...],
                                                     logged: str) -> None:
    root = _served(tmp_path, keydir, packages[0])
    log = tmp_path / "access.log"
    server = EmbeddedServer(root, port=0, access_log=log, trusted_proxies=trusted)
    server.start()
    try:
        r = httpx.get(f"http://127.0.0.1:{server.port}/json/main.json",
                      headers={"X-Forwarded-For": "187.190.4.7, 10.1.1.1"})
        assert r.status_code == 200
    finally:
        server.stop()
    assert log.read_text().split(" ", 1)[0] == logged


def test_serve_rejects_a_bad_proxy_network(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "releases").mkdir()
    code = main(["difusor", "serve", "--root", str(tmp_path), "--trust-proxy", "not-a-net"])
    assert code == 2
    assert "--trust-proxy 'not-a-net'" in capsys.readouterr().err
