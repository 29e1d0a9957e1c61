"""``difusores check`` on a daemon difusor: the daemon activates only signed packages, so the
exact ``Cache-Control`` and the byte-identical serving are checked on the cut it serves (the
one ``status.json`` in its inbox names), fetched over HTTPS from nginx with prepcast's own site
config. They were never evaluated for a daemon, and it was made validado all the same; a daemon
serving no cut yet leaves them "no evaluado", and is not validated. An sftp or flat difusor
checked without a test package (activo, or --no-activate) is checked on the cut its folder holds
live the same way."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from prepcast.distribution.local import start_sftp_difusor
from prepcast.monitor.vouch import signed_by
from prepcast.package.sign import parse_public_key
from prepcast.registry import load_registry, read_history
from prepcast.registry.checks import CheckReport, check_difusor, record
from prepcast.registry.checks.http import Vouch
from tests.distribution.dist_packages import make_keys, make_package
from tests.registry.check_servers import Nginx, TestCA

pytestmark = pytest.mark.server


@dataclass
class Bench:
    tmp: Path
    site: Path        # what nginx serves: site/current
    inbox: Path       # the daemon's inbox, the institute's SFTP account
    registry: Path
    digest: str


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    tmp = tmp_path_factory.mktemp("daemon")
    site = Path(tempfile.mkdtemp(prefix="prepcast-daemon-site-", dir="/srv"))  # nginx reads it
    site.chmod(0o755)
    make_keys(tmp / "keys")
    pkg = make_package(site / "releases" / "jornada-0001", tmp / "keys", 1)
    (site / "current").symlink_to("releases/jornada-0001")
    for p in [site, *site.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    main = json.loads((pkg / "json" / "main.json").read_bytes())
    digest = main["signed"]["manifest_sha256"]
    ca = TestCA.create(tmp)
    cert, key = ca.issue(tmp, "daemon")
    web = Nginx(site, tmp / "nginx", cert, key)
    web.start()
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(str(tmp / "inst.pem"))
    host = asyncssh.generate_private_key("ssh-ed25519")
    (tmp / "host.pub").write_bytes(host.export_public_key())
    (tmp / "host").write_bytes(host.export_private_key())
    (tmp / "client.pub").write_bytes(client.export_public_key())
    inbox = tmp / "inbox"
    inbox.mkdir()
    reg = tmp / "registry.toml"
    reg.write_text(
        "[checks]\ntimeout_s = 10\nspeed_test_mb = 1\nmin_speed_mb_s = 0.01\nmin_free_gb = 0.01\n"
        f'ca_file = "{ca.cert}"\n\n[[difusor]]\nname = "demonio"\nhost = "127.0.0.1"\n'
        f'port = PORT\nuser = "prep"\nkey_file = "{tmp / "inst.pem"}"\nremote_root = "/"\n'
        f'mode = "daemon"\nhost_key = "{host.export_public_key().decode().strip()}"\n'
        f'nombre = "Demonio"\nurl = "{web.url}"\nhttp_url = "{web.http_url}"\n')
    try:
        yield Bench(tmp, site, inbox, reg, digest)
    finally:
        web.stop()
        shutil.rmtree(site, ignore_errors=True)


def _check(bench: Bench, status: dict[str, object] | None, *, mode: str = "daemon",
           folder: Path | None = None, activate: bool = True,
           vouch: Vouch | None = None) -> tuple[CheckReport, Path]:
    """Check the bench's difusor, registered with ``mode``, its SFTP account confined to
    ``folder`` (the daemon's inbox unless said)."""
    (bench.inbox / "status.json").unlink(missing_ok=True)
    if status is not None:
        (bench.inbox / "status.json").write_text(json.dumps(status))
    host = asyncssh.import_private_key((bench.tmp / "host").read_bytes())

    async def run() -> tuple[CheckReport, Path]:
        server = await start_sftp_difusor(folder or bench.inbox, host,
                                          (bench.tmp / "client.pub").read_text())
        port = server.sockets[0].getsockname()[1]
        reg_file = bench.tmp / f"registry-{port}.toml"
        reg_file.write_text(f'history = "historial-{port}.jsonl"\n'
                            + bench.registry.read_text().replace("PORT", str(port))
                            .replace('mode = "daemon"', f'mode = "{mode}"'))
        reg = load_registry(reg_file)
        try:
            return await check_difusor(reg.difusores[0], reg, activate=activate,
                                       vouch=vouch), reg_file
        finally:
            server.close()

    return asyncio.run(run())


def _by_key(report: CheckReport) -> dict[str, bool | None]:
    return {f.key: f.ok for f in report.findings}


def test_the_cut_a_daemon_serves_is_checked_and_then_it_is_validated(bench: Bench) -> None:
    report, reg_file = _check(bench, {"live_tag": "jornada-0001", "live_digest": bench.digest})
    found = _by_key(report)
    assert found["http.cache_control"] is True, report.findings
    assert found["http.identical"] is True, report.findings
    assert found["package.activate"] is True
    assert report.complete, [f for f in report.findings if not f.ok]
    assert "jornada-0001" in next(f.detalle for f in report.findings
                                  if f.key == "package.activate")
    assert record(load_registry(reg_file), [report], None) == ["demonio"]


def test_a_file_served_altered_fails_byte_identical_serving(bench: Bench) -> None:
    served = next((bench.site / "current" / "assets").glob("app.*.js"))
    original = served.read_bytes()
    try:
        served.write_bytes(original.replace(b"prep", b"PREP"))
        report, _ = _check(bench, {"live_tag": "jornada-0001", "live_digest": bench.digest})
    finally:
        served.write_bytes(original)
    found = _by_key(report)
    assert found["http.identical"] is False
    assert served.name in next(f.detalle for f in report.findings if f.key == "http.identical")
    # a site serving another cut than the one the daemon activated is not what it was sent
    report, _ = _check(bench, {"live_tag": "jornada-0001", "live_digest": "0" * 64})
    assert _by_key(report)["http.identical"] is False


def test_a_daemon_serving_no_cut_yet_is_not_validated(bench: Bench) -> None:
    report, reg_file = _check(bench, {"live_tag": None, "live_digest": None})
    found = _by_key(report)
    assert found["http.cache_control"] is None and found["http.identical"] is None
    assert found["package.activate"] is None
    assert report.passed and not report.complete
    reg = load_registry(reg_file)
    assert record(reg, [report], None) == []
    assert read_history(reg.history).status_of("demonio") == "aspirante"


@pytest.mark.parametrize("mode", ["sftp", "flat"])
def test_without_a_test_package_the_cut_an_sftp_or_flat_difusor_serves_is_checked(
        bench: Bench, mode: str) -> None:
    """An activo difusor, or one checked with --no-activate, gets no test package: Cache-Control
    and byte-identity are checked on the cut its folder holds live (its manifest read over SFTP,
    ``current/`` in sftp mode, the folder itself in flat mode), and the site is left alone."""
    folder = bench.site if mode == "sftp" else bench.site / "current"
    before = sorted(p.relative_to(bench.site) for p in bench.site.rglob("*"))
    report, _ = _check(bench, None, mode=mode, folder=folder, activate=False)
    found = _by_key(report)
    assert found["http.cache_control"] is True, report.findings
    assert found["http.identical"] is True, report.findings
    assert "todos idénticos" in next(f.detalle for f in report.findings
                                     if f.key == "http.identical")
    activate = next(f for f in report.findings if f.key == "package.activate")
    assert activate.ok is None and "jornada-0001" in activate.detalle
    assert "package.restore" not in found
    assert sorted(p.relative_to(bench.site) for p in bench.site.rglob("*")) == before
    # a file served altered is found on that cut too
    served = next((bench.site / "current" / "assets").glob("app.*.js"))
    original = served.read_bytes()
    try:
        served.write_bytes(original.replace(b"prep", b"PREP"))
        report, _ = _check(bench, None, mode=mode, folder=folder, activate=False)
    finally:
        served.write_bytes(original)
    assert _by_key(report)["http.identical"] is False
    assert served.name in next(f.detalle for f in report.findings if f.key == "http.identical")


def test_with_the_institutes_key_a_served_cut_must_carry_its_signature(bench: Bench) -> None:
    """The cut a difusor serves is compared with the manifest read from the difusor itself: one
    that changed a file and rewrote the manifest (and ``json/main.json``) to match passed as
    byte-identical. With the institute's root key (``--trust``) that manifest must carry the
    institute's signature, and the rewritten one fails; the honest one passes, and says so."""
    root = bench.tmp / "keys" / "root.pub"
    vouch = signed_by(parse_public_key(root.read_bytes(), str(root)))
    report, _ = _check(bench, None, mode="sftp", folder=bench.site, activate=False, vouch=vouch)
    identical = next(f for f in report.findings if f.key == "http.identical")
    assert identical.ok is True and "firma del instituto verificada" in identical.detalle
    live = bench.site / "current"
    served = next((live / "assets").glob("app.*.js"))
    manifest = next((live / "manifests").glob("*.json"))
    main = live / "json" / "main.json"
    originals = {p: p.read_bytes() for p in (served, manifest, main)}
    try:
        forged = originals[served].replace(b"prep", b"PREP")   # the same size
        old_sha = hashlib.sha256(originals[served]).hexdigest().encode()
        raw = originals[manifest].replace(old_sha, hashlib.sha256(forged).hexdigest().encode())
        assert raw != originals[manifest]
        main_raw = originals[main].replace(hashlib.sha256(originals[manifest]).hexdigest().encode(),
                                           hashlib.sha256(raw).hexdigest().encode())
        assert main_raw != originals[main]
        for p, data in ((served, forged), (manifest, raw), (main, main_raw)):
            p.write_bytes(data)
        without, _ = _check(bench, None, mode="sftp", folder=bench.site, activate=False)
        report, _ = _check(bench, None, mode="sftp", folder=bench.site, activate=False,
                           vouch=vouch)
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    fooled = next(f for f in without.findings if f.key == "http.identical")
    assert fooled.ok is True and "no se verificó" in fooled.detalle   # the hole, said plainly
    caught = next(f for f in report.findings if f.key == "http.identical")
    assert caught.ok is False, caught
    assert caught.detalle == ("el manifiesto no lleva la firma del instituto: su firma no "
                              "corresponde al manifiesto (alterado, o firmado por otro)")


def test_with_the_institutes_key_a_rewritten_main_json_fails(bench: Bench) -> None:
    """``json/main.json`` is the one file no manifest lists: a difusor that rewrote it (the
    cut's time here) kept every listed file identical. With ``--trust`` its signature is
    checked too, and the difusor is told in Spanish."""
    root = bench.tmp / "keys" / "root.pub"
    vouch = signed_by(parse_public_key(root.read_bytes(), str(root)))
    main = bench.site / "current" / "json" / "main.json"
    original = main.read_bytes()
    doc = json.loads(original)
    doc["signed"]["cut_display"] += " (corregido)"
    try:
        main.write_bytes(json.dumps(doc).encode())
        without, _ = _check(bench, None, mode="sftp", folder=bench.site, activate=False)
        report, _ = _check(bench, None, mode="sftp", folder=bench.site, activate=False,
                           vouch=vouch)
    finally:
        main.write_bytes(original)
    assert next(f for f in without.findings if f.key == "http.identical").ok is True
    caught = next(f for f in report.findings if f.key == "http.identical")
    assert caught.ok is False, caught
    assert caught.detalle == ("/json/main.json no lleva la firma del instituto para este corte "
                              "(alterado, o de otro corte)")


def test_a_folder_holding_no_cut_leaves_the_served_checks_not_evaluated(bench: Bench) -> None:
    report, _ = _check(bench, None, mode="flat", folder=bench.tmp / "vacio", activate=False)
    found = _by_key(report)
    assert found["http.cache_control"] is None and found["http.identical"] is None
    assert "no sirve ningún corte" in next(f.detalle for f in report.findings
                                          if f.key == "package.activate")
