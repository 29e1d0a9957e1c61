"""The registry: every problem at once with its line; secrets must be 0600; documented settings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from prepcast.distribution.registry import load_registry
from prepcast.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    reg = tmp_path / "r.toml"
    reg.write_text(
        'concurrency = 0\n\n[[difusor]]\nname = "ok"\nhost = "a"\nuser = "u"\nauth = "key"\n'
        'key_file = "k"\n\n[[difusor]]\nname = "Bad Name"\nhost = "b"\nuser = "u"\n'
        'auth = "password"\nmode = "ftp"\nport = 70000\ncolour = "red"\n')
    (tmp_path / "k").write_text("key")
    with pytest.raises(InputError) as err:
        load_registry(reg)
    text = str(err.value)
    assert "concurrency must be a positive integer" in text
    for field in ("name", "mode", "port", "colour", "auth"):
        assert re.search(rf"r\.toml:10: {field}: ", text), (field, text)
    assert "r.toml:3" not in text  # the first difusor is fine


def test_secrets_must_be_0600(tmp_path: Path) -> None:
    (tmp_path / "secrets.toml").write_text('[passwords]\nx = "p"\n')
    (tmp_path / "secrets.toml").chmod(0o644)
    reg = tmp_path / "r.toml"
    reg.write_text('secrets = "secrets.toml"\n[[difusor]]\nname = "x"\nhost = "h"\nuser = "u"\n'
                   'auth = "password"\n')
    with pytest.raises(InputError, match="must be 0600"):
        load_registry(reg)
    (tmp_path / "secrets.toml").chmod(0o600)
    assert load_registry(reg).difusores[0].password == "p"


def test_push_command_reports_a_bad_registry_without_traceback(tmp_path: Path) -> None:
    reg = tmp_path / "r.toml"
    reg.write_text("[[difusor]]\nname = 1\n")
    r = subprocess.run([sys.executable, "-m", "prepcast", "push", "--registry", str(reg),
                        "--package", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "r.toml:1: name:" in r.stderr and "Traceback" not in r.stderr


def test_every_setting_is_documented() -> None:
    registry_doc = (ROOT / "docs/registry.md").read_text()
    for key in ("name", "host", "port", "user", "auth", "key_file", "remote_root", "mode",
                "host_key", "active", "secrets", "known_hosts", "concurrency", "keep_releases"):
        assert f"`{key}`" in registry_doc, key
    setup = (ROOT / "docs/difusor-setup.md").read_text()
    from prepcast.difusor.config import DaemonConfig

    names = {"sftp_listen": "listen", "sftp_port": "port", "sftp_host_key": "host_key",
             "sftp_authorized_keys": "authorized_keys", "ntp_server": "ntp_server",
             "ntp_port": "ntp_server", "max_clock_offset": "max_offset",
             "purge_command": "command", "purge_webhook": "webhook"}
    for field in DaemonConfig.__dataclass_fields__:
        assert f"{names.get(field, field)} =" in setup, field
