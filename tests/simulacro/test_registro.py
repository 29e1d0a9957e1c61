"""The drill's registration: each local difusor checked by ``prepcast difusores check`` before the
night; validado (then activo, on the public list) only by passing it. A local daemon, serving no
cut before the night, is checked again once it serves one."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prepcast.distribution.local import LocalNetwork
from prepcast.registry import read_history
from prepcast.simulacro.registro import LocalSite, recheck, recheck_summary, register_local, summary
from prepcast.simulacro.site_server import SiteServer
from prepcast.simulacro.tls import DrillCA, RedirectServer
from tests.distribution.dist_packages import make_keys, make_package


@pytest.fixture
def two_difusores(tmp_path: Path) -> Iterator[tuple[LocalNetwork, DrillCA]]:
    net = LocalNetwork(tmp_path / "difusores", trusted_root=tmp_path / "root.pub", sftp_only=2,
                       daemons=0, serve_http=False)
    net.start()
    try:
        yield net, DrillCA.create(tmp_path / "ca")
    finally:
        net.stop()


def _entries(net: LocalNetwork) -> list[dict[str, str]]:
    assert net.pusher is not None
    return [{k: str(getattr(d, k)) for k in ("name", "host", "port", "user", "auth",
                                            "remote_root", "mode", "key_file", "host_key")}
            for d in net.pusher.registry.difusores]


def test_only_a_difusor_that_passes_the_check_is_validado_and_listed(
        two_difusores: tuple[LocalNetwork, DrillCA], tmp_path: Path) -> None:
    net, ca = two_difusores
    good_root, bad_root = (net.roots[n] for n in sorted(net.roots))
    good = SiteServer(good_root, ca.server_context())
    bad = SiteServer(bad_root)            # plain HTTP only: no certificate, no redirect
    good.start()
    bad.start()
    redirect = RedirectServer(good.url)
    redirect.start()
    try:
        g, b = sorted(net.roots)
        sites = {g: LocalSite(good.url, redirect.url), b: LocalSite(bad.url, bad.url)}
        done = register_local(tmp_path / "registro", _entries(net), sites, ca.ca_file)
    finally:
        good.stop()
        bad.stop()
        redirect.stop()
    assert done.validados == [g]
    assert [d["id"] for d in done.public] == [g]
    assert done.public[0]["url"] == good.url + "/"
    (bad_report,) = [r for r in done.reports if r.difusor == b]
    assert {f.key for f in bad_report.failed} >= {"https.cert"}
    assert "no es https://" in next(f.detalle for f in bad_report.failed if f.key == "https.cert")
    history = read_history(tmp_path / "registro" / "historial.jsonl")
    assert history.status_of(g) == "activo" and history.status_of(b) == "aspirante"
    saved = json.loads((done.report_dir / f"{b}.json").read_text(encoding="utf-8"))
    assert saved["passed"] is False
    # the check put the site back as it was: no test package left live, no scratch files
    assert not (good_root / "current").exists()
    assert [p.name for p in good_root.iterdir() if p.name.startswith(".prepcast-check")] == []
    lines = summary(done)
    assert any(line.startswith(f"{g}: cumple") for line in lines)
    assert any(line.startswith(f"{b}: NO cumple") and "Certificado HTTPS" in line for line in lines)


def test_drill_ca_serves_127_0_0_1_and_the_plain_port_redirects(tmp_path: Path) -> None:
    ca = DrillCA.create(tmp_path / "ca")
    (tmp_path / "site" / "current" / "json").mkdir(parents=True)
    (tmp_path / "site" / "current" / "json" / "main.json").write_text("{}")
    site = SiteServer(tmp_path / "site", ca.server_context())
    site.start()
    redirect = RedirectServer(site.url)
    redirect.start()
    try:
        trusted = ssl.create_default_context(cafile=str(ca.ca_file))
        r = httpx.get(site.url + "/json/main.json", verify=trusted)
        assert r.status_code == 200 and r.headers["cache-control"] == (
            "no-cache, no-store, must-revalidate")
        hop = httpx.get(redirect.url + "/json/main.json?x=1")
        assert hop.status_code == 301
        assert hop.headers["location"] == site.url + "/json/main.json?x=1"
        with pytest.raises(httpx.ConnectError):   # without the drill's CA: not trusted
            httpx.get(site.url + "/json/main.json", verify=ssl.create_default_context())
        assert (tmp_path / "ca" / "sitio.key").stat().st_mode & 0o077 == 0
    finally:
        redirect.stop()
        site.stop()


def test_a_daemon_is_checked_again_once_it_serves_a_cut_then_validado_and_listed(
        tmp_path: Path) -> None:
    """Before the night the daemon serves no cut: it passes what was evaluated and stays
    aspirante. Once it serves the first cut it is checked again (Cache-Control and every file
    of that cut read over HTTPS, its manifest's signature checked under the institute's root
    key) and becomes validado, activo, on the public list."""
    trusted = make_keys(tmp_path / "llaves")
    net = LocalNetwork(tmp_path / "difusores", trusted_root=trusted, sftp_only=1, daemons=1,
                       serve_http=False)
    net.start()
    ca = DrillCA.create(tmp_path / "ca")
    servers: list[SiteServer | RedirectServer] = []
    try:
        sites = {}
        for name, root in sorted(net.roots.items()):
            site = SiteServer(root, ca.server_context())
            site.start()
            redirect = RedirectServer(site.url)
            redirect.start()
            servers += [site, redirect]
            sites[name] = LocalSite(site.url, redirect.url)
        (daemon,) = net.daemons
        before = register_local(tmp_path / "registro", _entries(net), sites, ca.ca_file,
                                trust=trusted)
        assert before.waiting == [daemon] and daemon not in before.validados
        assert daemon not in [d["id"] for d in before.public]
        assert any(line.startswith(f"{daemon}: cumple lo evaluado") and "se revisa de nuevo"
                   in line for line in summary(before))
        # nothing served yet: a recheck checks no one
        assert recheck(before, {}) is before
        net.push(make_package(tmp_path / "corte-1", tmp_path / "llaves", 1))
        serving = {n: c for n, c in net.live_cuts().items() if c is not None}
        assert serving[daemon] == 1
        after = recheck(before, serving)
    finally:
        for s in servers:
            s.stop()
        net.stop()
    (report,) = [r for r in after.reports if r.difusor == daemon]
    assert report.complete, [f for f in report.findings if not f.ok]
    found = {f.key: f.ok for f in report.findings}
    assert found["http.cache_control"] and found["http.identical"]
    assert "firma del instituto verificada" in next(f.detalle for f in report.findings
                                                    if f.key == "http.identical")
    assert sorted(after.validados) == sorted(net.roots) and after.waiting == []
    assert sorted(d["id"] for d in after.public) == sorted(net.roots)
    history = read_history(tmp_path / "registro" / "historial.jsonl")
    assert history.status_of(daemon) == "activo"
    assert after.rechecked == [(daemon, 1)]
    (line,) = recheck_summary(after)
    assert line.startswith(f"al servir el corte 1: {daemon}: cumple (validado, activo)")
    saved = json.loads((after.report_dir / f"{daemon}.json").read_text(encoding="utf-8"))
    assert saved["complete"] is True
