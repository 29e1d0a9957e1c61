"""The simulacro's local difusores: embedded SFTP-only servers and daemons, in one process."""

from __future__ import annotations

from pathlib import Path

import httpx

from prepcast.distribution.local import LocalNetwork
from tests.distribution.dist_packages import make_package


def test_local_network_reaches_every_cut(tmp_path: Path, keydir: Path) -> None:
    pkgs: list[Path] = []
    for cut in (1, 2, 3):
        pkgs.append(make_package(tmp_path / f"p{cut}", keydir, cut,
                                 previous=pkgs[-1] if pkgs else None))
    net = LocalNetwork(tmp_path / "net", trusted_root=keydir / "root.pub", sftp_only=3, daemons=2)
    net.start()
    try:
        for cut, pkg in enumerate(pkgs, 1):
            report = net.push(pkg)
            assert report.failed == []
            assert set(net.live_cuts().values()) == {cut}
        assert len(net.live_cuts()) == 5
        r = httpx.get(f"{net.http_url}/json/main.json", headers={"User-Agent": "simulacro"})
        assert r.content == (pkgs[-1] / "json/main.json").read_bytes()
    finally:
        net.stop()
    assert net.access_log == tmp_path / "net" / "local-sftp-01" / "access.log"
    assert '"GET /json/main.json HTTP/1.1" 200' in net.access_log.read_text()
    assert all(p.exists() for p in (tmp_path / "net" / "local-daemon-01" / "events.jsonl",))
