"""The daemon's configuration refuses what it does not know, in every table, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.difusor.config import load_config
from prepcast.errors import InputError


def _conf(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "root.pub").write_text("x")
    (tmp_path / "host_key").write_text("x")
    (tmp_path / "keys").write_text("x")
    path = tmp_path / "difusor.toml"
    path.write_text('root = "www"\ninbox = "inbox"\ntrusted_root = "root.pub"\n' + extra)
    return path


def test_typos_inside_tables_are_refused_with_the_setting_named(tmp_path: Path) -> None:
    path = _conf(tmp_path, '[sftp]\nhost_key = "host_key"\nauthorized_keys = "keys"\nprot = 2223\n'
                           '[clock]\nntp_servr = "pool.ntp.org"\nntp_port = "123"\n'
                           '[purge]\nwebhok = "https://cdn.example/purge"\n')
    with pytest.raises(InputError) as caught:
        load_config(path)
    text = str(caught.value)
    assert f"{path}: sftp.prot: unknown setting (known: authorized_keys, host_key, listen, port)" in text
    assert f"{path}: clock.ntp_servr: unknown setting" in text
    assert f"{path}: clock.ntp_port: must be 1-65535" in text
    assert f"{path}: purge.webhok: unknown setting" in text
    assert len(caught.value.problems) == 4  # every one at once


def test_a_good_configuration_still_loads(tmp_path: Path) -> None:
    path = _conf(tmp_path, '[sftp]\nhost_key = "host_key"\nauthorized_keys = "keys"\nport = 2223\n'
                           '[clock]\nntp_server = "127.0.0.1"\nntp_port = 1123\n')
    config = load_config(path)
    assert config.sftp_port == 2223 and config.ntp_port == 1123
    assert config.ntp_server == "127.0.0.1"


def test_a_table_that_is_not_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _conf(tmp_path, 'sftp = "yes"\n')
    assert main(["difusor", "run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"prepcast: {path}: sftp: must be a table" in err and "Traceback" not in err
