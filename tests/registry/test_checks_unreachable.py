"""A difusor whose servers cannot be reached: every check is listed (those that did not run as
"no evaluado", with why) and the fix fits the reason (a name that does not resolve needs DNS,
not an open port). No server needed: the names are under ``.invalid``, which never resolves."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncssh

from prepcast.registry import load_registry
from prepcast.registry.checks import check_all
from prepcast.registry.checks.report import render_html

ALL_KEYS = ["sftp.login", "sftp.write", "clock.sftp", "sftp.rename", "sftp.extensions",
            "sftp.remove", "disk.free", "sftp.speed", "package.activate", "https.cert",
            "https.expiry", "http.redirect", "clock.http", "http.cache_control", "http.identical"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _registry(tmp_path: Path, host: str, port: int) -> Path:
    key = tmp_path / "llave"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    reg = tmp_path / "registry.toml"
    reg.write_text(
        "[checks]\ntimeout_s = 5\n\n[[difusor]]\nname = \"el-sol\"\n"
        f'host = "{host}"\nport = {port}\nuser = "prep"\nauth = "key"\nkey_file = "{key}"\n'
        'remote_root = "/www"\n'
        'host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"\n'
        'nombre = "El Sol"\nurl = "https://prep2024.elsol.invalid"\n')
    return reg


def test_a_name_that_does_not_resolve_gets_dns_as_the_fix_and_every_check_is_listed(
    tmp_path: Path
) -> None:
    registry = load_registry(_registry(tmp_path, "127.0.0.1", _closed_port()))
    (report,) = asyncio.run(check_all(registry.difusores, registry))
    assert [f.key for f in report.findings] == ALL_KEYS
    by_key = {f.key: f for f in report.findings}
    cert = by_key["https.cert"]
    assert cert.ok is False and "no se resuelve en el DNS" in cert.detalle
    assert "DNS" in cert.corregir and "puerto" not in cert.corregir
    login = by_key["sftp.login"]
    assert login.ok is False and "rechazó la conexión" in login.detalle
    assert [f.key for f in report.failed] == ["sftp.login", "https.cert"]
    for key in ALL_KEYS:
        if key not in ("sftp.login", "https.cert"):
            assert by_key[key].ok is None and by_key[key].detalle.startswith("no se evaluó"), key
    assert "Certificado HTTPS" in by_key["http.redirect"].detalle
    assert "Acceso SFTP" in by_key["disk.free"].detalle
    html = render_html(report)
    assert html.count("No evaluado") == len(ALL_KEYS) - 2
    assert "2 requisito(s) por corregir" in html and "13 requisito(s) no evaluado(s)" in html
    assert "Abra el puerto 443" not in html


def test_a_registered_host_that_does_not_resolve_is_said_in_spanish(tmp_path: Path) -> None:
    registry = load_registry(_registry(tmp_path, "sftp.elsol.invalid", 22))
    (report,) = asyncio.run(check_all(registry.difusores, registry))
    login = next(f for f in report.findings if f.key == "sftp.login")
    assert "no se resuelve en el DNS" in login.detalle and "(original: «" in login.detalle
    assert "DNS" in login.corregir
