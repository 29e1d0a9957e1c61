"""``prepcast difusores check`` against real servers: OpenSSH sshd with chrooted internal-sftp
users (one a gateway without symlinks or posix-rename), nginx with HTTPS from a test CA (one
certificate expired, one wrong Cache-Control), a too-small disk (tmpfs) and a speed threshold
set too high."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from prepcast.registry import load_registry, read_history
from tests.registry.check_servers import GatewaySshd, Nginx, TestCA

pytestmark = pytest.mark.server


@dataclass
class Lab:
    registry: Path
    tmp: Path
    www: dict[str, Path]


SETUPS = {
    # name: (gateway, expired certificate, wrong Cache-Control, small disk)
    "cumple": (False, False, False, False),
    "nube": (True, False, False, False),
    "vencido": (False, True, False, False),
    "cache": (False, False, True, False),
    "disco": (False, False, False, True),
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("checks")
    ca = TestCA.create(tmp)
    sshd = GatewaySshd()
    servers: list[Nginx] = []
    try:
        users = {name: sshd.add_user() for name in SETUPS}
        sshd.gateways = [users["nube"].name]
        sshd.start()
        entries = []
        for name, (gateway, expired, wrong_cc, small) in SETUPS.items():
            user = users[name]
            if small:
                uid = pwd.getpwnam(user.name).pw_uid
                subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=48m,mode=0755,uid={uid}",
                                "tmpfs", str(user.www)], check=True)
            cert, key = ca.issue(tmp, name, expired=expired)
            root = user.www
            if gateway:     # flat mode: the site is served straight from the folder
                root = user.chroot / "web"      # readable by nginx's workers (not under /tmp)
                root.mkdir(mode=0o755)
                (root / "current").symlink_to(user.www)
            web = Nginx(root, tmp / f"nginx-{name}", cert, key,
                        cache_control="max-age=60" if wrong_cc else None)
            web.start()
            servers.append(web)
            entries.append(
                f'[[difusor]]\nname = "{name}"\nhost = "127.0.0.1"\nport = {sshd.port}\n'
                f'user = "{user.name}"\nauth = "key"\nkey_file = "{user.key_file}"\n'
                f'remote_root = "/www"\nhost_key = "{sshd.host_key}"\n'
                f'nombre = "Difusor {name}"\nurl = "{web.url}"\nhttp_url = "{web.http_url}"\n'
                + ('mode = "flat"\n' if gateway else ""))
        reg = tmp / "registry.toml"
        reg.write_text(f'[checks]\nmin_free_gb = 0.1\nmin_speed_mb_s = 1\nspeed_test_mb = 16\n'
                       f'ca_file = "{ca.cert}"\n\n' + "\n".join(entries))
        yield Lab(reg, tmp, {n: u.www for n, u in users.items()})
    finally:
        for web in servers:
            web.stop()
        sshd.stop()


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prepcast", "difusores", "check", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def reports(lab: Lab) -> dict[str, dict[str, object]]:
    r = check("--all", "--registry", str(lab.registry), "--json", "--out", str(lab.tmp / "out"))
    assert r.returncode == 1, r.stderr      # some difusores fail
    assert "Traceback" not in r.stderr
    return {rep["difusor"]: rep for rep in json.loads(r.stdout)}


def failed(report: dict[str, object]) -> dict[str, str]:
    return {f["key"]: f["detalle"] for f in report["findings"] if f["ok"] is False}  # type: ignore[index, attr-defined]


def test_a_compliant_difusor_passes_everything_and_becomes_validado(
        lab: Lab, reports: dict[str, dict[str, object]]) -> None:
    rep = reports["cumple"]
    assert rep["passed"] is True, failed(rep)
    keys = {f["key"] for f in rep["findings"]}  # type: ignore[attr-defined]
    assert {"sftp.login", "sftp.write", "sftp.rename", "sftp.remove", "disk.free", "sftp.speed",
            "https.cert", "https.expiry", "http.redirect", "clock.http", "clock.sftp",
            "package.activate", "http.cache_control", "http.identical"} <= keys
    assert rep["modo"] == "sftp"
    assert rep["capabilities"] == {"posix-rename": True, "hardlink": True, "symlink": True,
                                   "statvfs": True}
    assert load_registry(lab.registry).get("cumple").status == "validado"  # type: ignore[union-attr]
    events = read_history(lab.tmp / "historial.jsonl").of("cumple")
    assert events[-1].value == "validado" and events[-1].by == "prepcast difusores check"
    # the test package was taken down again: nothing of the check is left behind
    for www in lab.www.values():
        assert [p.name for p in www.iterdir() if p.name != "releases"] == []
        assert not (www / "releases").exists() or list((www / "releases").iterdir()) == []


def test_a_cloud_gateway_gets_the_flat_mode_and_still_passes(
        lab: Lab, reports: dict[str, dict[str, object]]) -> None:
    rep = reports["nube"]
    assert rep["modo"] == "flat"
    assert rep["capabilities"]["symlink"] is False  # type: ignore[index]
    assert rep["capabilities"]["posix-rename"] is False  # type: ignore[index]
    assert rep["passed"] is True, failed(rep)


def test_a_gateway_registered_for_the_sftp_mode_fails_its_activation(lab: Lab) -> None:
    """Its pushes would need symlinks and posix-rename: the check says so, not "cumple"."""
    text = lab.registry.read_text()
    start = text.index('name = "nube"')
    reg = lab.tmp / "nube-sftp.toml"
    reg.write_text('history = "otro-historial.jsonl"\n' + text[:start]
                   + text[start:].replace('mode = "flat"\n', 'mode = "sftp"\n', 1))
    r = check("nube", "--registry", str(reg), "--json")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)[0]
    assert list(failed(rep)) == ["package.activate"]
    fix = next(f["corregir"] for f in rep["findings"] if f["key"] == "package.activate")
    assert 'mode = "flat"' in fix


def test_each_fault_fails_its_own_check_with_a_clear_reason(
        lab: Lab, reports: dict[str, dict[str, object]]) -> None:
    assert list(failed(reports["vencido"])) == ["https.cert"]
    assert "expired" in failed(reports["vencido"])["https.cert"]
    assert list(failed(reports["cache"])) == ["http.cache_control"]
    assert "max-age=60" in failed(reports["cache"])["http.cache_control"]
    assert list(failed(reports["disco"])) == ["disk.free"]
    assert "GB libres" in failed(reports["disco"])["disk.free"]
    reg = load_registry(lab.registry)
    assert {d.name: d.status for d in reg.difusores if d.name != "nube" and d.name != "cumple"} \
        == {"vencido": "aspirante", "cache": "aspirante", "disco": "aspirante"}


def test_reports_in_spanish_html_pdf_and_json(lab: Lab, reports: dict[str, object]) -> None:
    out = lab.tmp / "out"
    html = (out / "cache.html").read_text()
    assert "No cumple" in html and "Qué corregir" in html and "Cache-Control" in html
    assert (out / "cache.pdf").read_bytes().startswith(b"%PDF")
    assert json.loads((out / "cache.json").read_text())["passed"] is False


def test_a_speed_threshold_set_too_high_fails_with_the_measured_speed(lab: Lab) -> None:
    text = lab.registry.read_text().replace("min_speed_mb_s = 1\n", "min_speed_mb_s = 100000\n")
    reg = lab.tmp / "exigente.toml"
    reg.write_text('history = "otro-historial.jsonl"\n' + text)
    r = check("cumple", "--registry", str(reg), "--json", "--no-activate")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)[0]
    assert list(failed(rep)) == ["sftp.speed"]
    assert "MB/s" in failed(rep)["sftp.speed"]


def test_a_wrong_host_key_is_refused(lab: Lab) -> None:
    text = lab.registry.read_text()
    start = text.index('host_key = "') + len('host_key = "')
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    reg = lab.tmp / "llave.toml"
    reg.write_text('history = "otro-historial.jsonl"\n' + text[:start] + other
                   + text[text.index('"', start):])
    r = check("cumple", "--registry", str(reg), "--json", "--no-activate")
    rep = json.loads(r.stdout)[0]
    assert list(failed(rep)) == ["sftp.login"]
    assert "llave del servidor" in failed(rep)["sftp.login"]
