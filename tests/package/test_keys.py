"""Keys: two levels, files with mode 0600, rotation and revocation, nothing secret printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.errors import InputError
from prepcast.package import init_keys, load_signer, revoke_key, rotate_keys, verify_package
from tests.package.pkg_helpers import small_package


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def ring(keys: Path) -> dict[str, object]:
    signed: dict[str, object] = json.loads((keys / "keyring.json").read_bytes())["signed"]
    return signed


def test_init_writes_private_keys_0600(tmp_path: Path) -> None:
    kid = init_keys(tmp_path / "k")
    assert mode(tmp_path / "k" / "root.key") == 0o600
    assert mode(tmp_path / "k" / f"cut-{kid}.key") == 0o600
    assert mode(tmp_path / "k") == 0o700
    assert not list((tmp_path / "k").glob(".*tmp"))
    assert ring(tmp_path / "k")["version"] == 1


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init_keys(tmp_path / "k")
    before = (tmp_path / "k" / "root.key").read_bytes()
    assert main(["keys", "init", "--out", str(tmp_path / "k")]) == 2
    assert "already holds keys" in capsys.readouterr().err
    assert (tmp_path / "k" / "root.key").read_bytes() == before


def test_cli_never_prints_private_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    assert main(["-v", "keys", "init", "--out", str(keys)]) == 0
    assert main(["-v", "keys", "rotate", "--keys", str(keys)]) == 0
    out = capsys.readouterr()
    secrets = [p.read_text() for p in keys.glob("*.key")]
    for s in secrets:
        body = "".join(s.splitlines()[1:-1])
        assert body not in out.out and body not in out.err
    assert "PRIVATE" not in repr(load_signer(keys))


def test_rotate_retires_the_old_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    old = init_keys(keys)
    p1 = small_package(tmp_path / "p1", keys, 1)
    assert main(["keys", "rotate", "--keys", str(keys)]) == 0
    new = load_signer(keys).keyid
    assert new != old and new in capsys.readouterr().out
    statuses = {k["keyid"]: k["status"] for k in ring(keys)["keys"]}  # type: ignore[attr-defined]
    assert statuses == {old: "retired", new: "active"}
    assert ring(keys)["version"] == 2
    p2 = small_package(tmp_path / "p2", keys, 2, previous=p1)
    assert verify_package(p2, keys / "root.pub", last=p1).keyid == new
    assert verify_package(p1, keys / "root.pub").keyid == old  # earlier cuts still verify


def test_revoke_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    init_keys(keys)
    assert main(["keys", "revoke", "--keys", str(keys), "--key", "feedfacefeedface"]) == 2
    assert "no cut key 'feedfacefeedface'" in capsys.readouterr().err


def test_revoke_retired_key_keeps_active(tmp_path: Path) -> None:
    keys = tmp_path / "k"
    old = init_keys(keys)
    new = rotate_keys(keys)
    assert revoke_key(keys, old) is None
    assert load_signer(keys).keyid == new
    assert not (keys / f"cut-{old}.key").exists()


def test_root_key_kept_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    init_keys(keys)
    offline = tmp_path / "offline-root.key"
    (keys / "root.key").rename(offline)
    assert main(["keys", "rotate", "--keys", str(keys)]) == 2
    assert "root.key: cannot read key file" in capsys.readouterr().err
    assert main(["keys", "rotate", "--keys", str(keys), "--root", str(offline)]) == 0


def test_wrong_root_key_refused(tmp_path: Path) -> None:
    keys = tmp_path / "k"
    init_keys(keys)
    other = tmp_path / "o"
    init_keys(other)
    with pytest.raises(InputError, match="keyring not signed by the trusted root key"):
        rotate_keys(keys, other / "root.key")


def test_bad_key_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "k"
    kid = init_keys(keys)
    (keys / f"cut-{kid}.key").write_text("garbage")
    with pytest.raises(InputError, match=f"cut-{kid}.key: not a PEM private key"):
        load_signer(keys)
    pkg = tmp_path / "nope"
    assert main(["cut", "verify", str(pkg), "--trust", str(keys / "keyring.json")]) == 2
    assert "not an Ed25519 public key" in capsys.readouterr().err
