"""Every way a package can be tampered with is refused, with one clear line naming the file."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.package import (
    MAIN_PATH,
    VerifyLimits,
    assemble,
    canonical_json,
    init_keys,
    load_manifest,
    load_signer,
    manifest_path,
    revoke_key,
    sha256_hex,
    signature_path,
    verify_package,
)
from tests.package.pkg_helpers import cut_time, failures, small_files, small_package


def cli_verify(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    status = main(["cut", "verify", str(pkg), "--trust", str(keydir / "root.pub"), *extra])
    err = capsys.readouterr().err
    assert status == 3
    assert "Traceback" not in err
    return err


def data_file(pkg: Path) -> Path:
    return next((pkg / "data" / "DIP_LOC").glob("entidad.*.json"))


def resign_manifest(pkg: Path, keydir: Path, edit: dict[str, object]) -> None:
    """Rewrite the manifest with ``edit`` and sign it (and main.json) with the real cut key, as a
    holder of the cut key could; checks beyond the signature must still catch it."""
    m = load_manifest(pkg)
    doc = json.loads(m.raw)
    doc.update(edit)
    raw = canonical_json(doc)
    signer = load_signer(keydir)
    (pkg / manifest_path("jornada", m.cut)).write_bytes(raw)
    (pkg / signature_path("jornada", m.cut)).write_bytes(signer.sign(raw))
    main_doc = json.loads((pkg / MAIN_PATH).read_bytes())
    main_doc["signed"]["manifest_sha256"] = sha256_hex(raw)
    sig = base64.b64encode(signer.sign(canonical_json(main_doc["signed"]))).decode()
    main_doc["signatures"] = [{"keyid": signer.keyid, "sig": sig}]
    (pkg / MAIN_PATH).write_bytes(canonical_json(main_doc))


def test_valid_package_verifies(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = verify_package(pkg, keydir / "root.pub")
    assert m.cut == 3
    assert main(["cut", "verify", str(pkg), "--trust", str(keydir / "root.pub"),
                 "--allow-expired"]) == 0
    assert "verified" in capsys.readouterr().out


def test_one_byte_changed(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = data_file(pkg)
    data = bytearray(f.read_bytes())
    data[5] ^= 1
    f.write_bytes(bytes(data))
    rel = f.relative_to(pkg).as_posix()
    assert failures(pkg, keydir) == [f"{rel}: sha256 does not match the manifest (content changed)"]
    assert rel in cli_verify(pkg, keydir, capsys)


def test_size_changed(pkg: Path, keydir: Path) -> None:
    f = pkg / "index.html"
    f.write_bytes(f.read_bytes() + b" ")
    assert failures(pkg, keydir) == ["index.html: size 36, manifest says 35"]


def test_file_added(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pkg / "data" / "extra.json").write_text("{}")
    assert failures(pkg, keydir) == ["data/extra.json: not in the manifest (extra file)"]
    assert "data/extra.json" in cli_verify(pkg, keydir, capsys)


def test_file_removed(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = data_file(pkg)
    f.unlink()
    rel = f.relative_to(pkg).as_posix()
    assert failures(pkg, keydir) == [f"{rel}: missing"]
    assert f"{rel}: missing" in cli_verify(pkg, keydir, capsys)


def test_manifest_edited(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mp = pkg / manifest_path("jornada", 3)
    doc = json.loads(mp.read_bytes())
    doc["not_before"] = "2024-06-02T19:00:00-06:00"  # an earlier embargo
    mp.write_bytes(canonical_json(doc))
    got = failures(pkg, keydir)
    assert f"{signature_path('jornada', 3)}: signature does not match the manifest (edited or wrong key)" in got
    assert f"{MAIN_PATH}: manifest_sha256 does not match {manifest_path('jornada', 3)}" in got
    assert "signature does not match" in cli_verify(pkg, keydir, capsys)


def test_main_json_edited(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mp = pkg / MAIN_PATH
    doc = json.loads(mp.read_bytes())
    doc["signed"]["cut_display"] = "02/06/2024 23:59 (UTC-6)"
    mp.write_bytes(canonical_json(doc))
    assert failures(pkg, keydir) == [
        f"{MAIN_PATH}: signature invalid (not signed by cut key {load_manifest(pkg).keyid})"
    ]
    assert MAIN_PATH in cli_verify(pkg, keydir, capsys)


def test_main_json_pointing_elsewhere(pkg: Path, keydir: Path) -> None:
    """A validly signed pointer of another cut cannot be combined with this manifest."""
    other = small_package(pkg.parent / "other", keydir, 4)
    (pkg / MAIN_PATH).write_bytes((other / MAIN_PATH).read_bytes())
    got = failures(pkg, keydir)
    assert any("manifests/jornada-0004.json" in f or "no manifest" in f or "missing" in f for f in got)


def test_unknown_key(tmp_path: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A package signed by keys from another root: its keyring is not signed by our root."""
    rogue = tmp_path / "rogue"
    init_keys(rogue)
    bad = small_package(tmp_path / "bad", rogue, 3)
    got = failures(bad, keydir)
    assert len(got) == 1 and "keyring not signed by the trusted root key" in got[0]
    assert "trusted root key" in cli_verify(bad, keydir, capsys)


def test_cut_key_not_in_keyring(pkg: Path, keydir: Path, tmp_path: Path) -> None:
    """A manifest naming a key id the (genuine) keyring does not hold."""
    resign_manifest(pkg, keydir, {"keyid": "00112233445566ff"})
    assert any("signed by unknown key 00112233445566ff" in f for f in failures(pkg, keydir))


def test_revoked_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys"
    old = init_keys(keys)
    pkg = small_package(tmp_path / "pkg", keys, 3)
    assert verify_package(pkg, keys / "root.pub").keyid == old
    new = revoke_key(keys, old)
    assert new and new != old
    # The package carries the newer keyring (as an attacker holding the stolen key would).
    ring = (keys / "keyring.json").read_bytes()
    m = load_manifest(pkg)
    (pkg / m.keyring).write_bytes(ring)
    got = failures(pkg, keys)
    assert f"{signature_path('jornada', 3)}: signed by revoked key {old}" in got
    assert "revoked" in cli_verify(pkg, keys, capsys)
    # A package built after the revocation is signed by the new key and verifies.
    fresh = small_package(tmp_path / "fresh", keys, 4)
    assert verify_package(fresh, keys / "root.pub").keyid == new


def test_keyring_rollback(tmp_path: Path) -> None:
    """After a revocation, a package carrying the older keyring is refused against the last cut."""
    keys = tmp_path / "keys"
    old = init_keys(keys)
    stale_ring = (keys / "keyring.json").read_bytes()
    stolen = load_signer(keys)
    revoke_key(keys, old)
    newer = small_package(tmp_path / "p4", keys, 4)
    # An attacker holding the revoked key builds cut 5 with the old keyring.
    files, mainf = small_files(5)
    assert stolen.keyring_bytes == stale_ring
    assemble(tmp_path / "p5", files, cut=5, proceso="IEEM-2024", cut_time=cut_time(5),
             not_before=cut_time(5), expires=cut_time(5) + timedelta(days=1), previous=newer,
             signer=stolen, main_fields=mainf)
    got = failures(tmp_path / "p5", keys, last=newer)
    assert any("keyring v1 older than v2" in f for f in got)


def test_rollback_refused(tmp_path: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p3 = small_package(tmp_path / "p3", keydir, 3)
    p4 = small_package(tmp_path / "p4", keydir, 4, previous=p3)
    assert verify_package(p4, keydir / "root.pub", last=p3).cut == 4
    for last in (4, p4, load_manifest(p4), 7):
        got = failures(p3, keydir, last=last)
        assert any("rollback refused" in f for f in got), got
    assert "not newer than cut 4" in cli_verify(p3, keydir, capsys, "--last", str(p4))
    assert "not newer than cut 3" in cli_verify(p3, keydir, capsys, "--last", "3")


def test_chain_broken(tmp_path: Path, keydir: Path) -> None:
    p3 = small_package(tmp_path / "p3", keydir, 3)
    other3 = small_package(tmp_path / "x3", keydir, 3)
    (other3 / "index.html").write_bytes(b"x")  # a different cut 3 would have another digest
    p4 = small_package(tmp_path / "p4", keydir, 4, previous=p3)
    assert verify_package(p4, keydir / "root.pub", last=p3).previous == load_manifest(p3).digest
    resign_manifest(p4, keydir, {"previous": "0" * 64})
    got = failures(p4, keydir, last=p3)
    assert any("chain broken" in f for f in got)
    fresh4 = small_package(tmp_path / "q4", keydir, 4)  # no previous at all
    assert any("does not chain to cut 3" in f for f in failures(fresh4, keydir, last=p3))


def test_path_with_dotdot(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resign_manifest(pkg, keydir, {"files": {**json.loads(load_manifest(pkg).raw)["files"],
                                            "../outside.txt": {"sha256": "0" * 64, "size": 1}}})
    got = failures(pkg, keydir)
    assert "'../outside.txt': path escapes the package ('..', '.' or empty segment)" in got
    assert "outside.txt" in cli_verify(pkg, keydir, capsys)


def test_absolute_path(pkg: Path, keydir: Path) -> None:
    resign_manifest(pkg, keydir, {"files": {"/etc/passwd": {"sha256": "0" * 64, "size": 1}}})
    assert "'/etc/passwd': absolute path" in failures(pkg, keydir)


def test_symlink(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = data_file(pkg)
    target = pkg.parent / "elsewhere.json"
    target.write_bytes(f.read_bytes())  # same bytes: only the link itself is wrong
    f.unlink()
    f.symlink_to(target)
    rel = f.relative_to(pkg).as_posix()
    assert failures(pkg, keydir) == [f"{rel}: a symbolic link (not allowed in a package)"]
    assert "symbolic link" in cli_verify(pkg, keydir, capsys)


def test_symlinked_directory(pkg: Path, keydir: Path) -> None:
    d = pkg / "assets"
    moved = pkg.parent / "assets-real"
    d.rename(moved)
    d.symlink_to(moved)
    assert "assets: a symbolic link (not allowed in a package)" in failures(pkg, keydir)


def test_fifo(pkg: Path, keydir: Path) -> None:
    os.mkfifo(pkg / "data" / "pipe")
    assert failures(pkg, keydir) == ["data/pipe: a fifo (not allowed in a package)"]


def test_manifest_listing_10_gb(pkg: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Refused from the manifest alone: nothing listed is read."""
    m = load_manifest(pkg)
    files = json.loads(m.raw)["files"]
    files["db/jornada-0003/huge.zip"] = {"sha256": "a" * 64, "size": 10 * 1024**3}
    resign_manifest(pkg, keydir, {"files": files})
    # make the file exist but unreadable: if the verifier read it, it would fail differently
    huge = pkg / "db" / "jornada-0003" / "huge.zip"
    huge.write_bytes(b"")
    huge.chmod(0)
    got = failures(pkg, keydir)
    assert f"db/jornada-0003/huge.zip: listed as {10 * 1024**3} bytes, more than the limit of " \
           f"{VerifyLimits().max_file_size}" in got
    assert all("more than the limit" in f for f in got), got
    assert "huge.zip" in cli_verify(pkg, keydir, capsys)


def test_package_total_limit(pkg: Path, keydir: Path) -> None:
    got = failures(pkg, keydir, limits=VerifyLimits(max_package_size=100))
    assert any("more than the limit of 100" in f for f in got)
    got = failures(pkg, keydir, limits=VerifyLimits(max_files=2))
    assert any("more than the limit of 2" in f for f in got)


def test_signature_missing(pkg: Path, keydir: Path) -> None:
    (pkg / signature_path("jornada", 3)).unlink()
    assert f"{signature_path('jornada', 3)}: missing" in failures(pkg, keydir)


def test_every_failure_reported_at_once(pkg: Path, keydir: Path) -> None:
    (pkg / "index.html").write_bytes(b"defaced")
    (pkg / "data" / "extra.json").write_text("{}")
    data_file(pkg).unlink()
    assert len(failures(pkg, keydir)) == 3


def test_not_a_package(tmp_path: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert "no manifest found" in cli_verify(tmp_path / "empty", keydir, capsys)


def test_main_json_missing(pkg: Path, keydir: Path) -> None:
    (pkg / MAIN_PATH).unlink()
    assert failures(pkg, keydir) == [f"{MAIN_PATH}: missing"]


def test_main_json_is_a_link(pkg: Path, keydir: Path) -> None:
    real = pkg.parent / "main.json"
    (pkg / MAIN_PATH).rename(real)
    (pkg / MAIN_PATH).symlink_to(real)
    got = failures(pkg, keydir)
    assert f"{MAIN_PATH}: a symbolic link, not a regular file" in got


def test_expired(pkg: Path, keydir: Path) -> None:
    m = load_manifest(pkg)
    assert verify_package(pkg, keydir / "root.pub", now=m.expires - timedelta(seconds=1)) == m
    assert failures(pkg, keydir, now=m.expires) == [
        f"{manifest_path('jornada', 3)}: expired at {m.expires.isoformat()}"
    ]


def test_device_file_or_socket(pkg: Path, keydir: Path) -> None:
    """A device file where a data file should be (a socket where mknod is not permitted)."""
    import socket
    import stat as st

    target = data_file(pkg)
    rel = target.relative_to(pkg).as_posix()
    target.unlink()
    try:
        os.mknod(target, 0o600 | st.S_IFCHR, os.makedev(1, 5))  # /dev/zero
        kind = "a device file"
    except PermissionError:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        sock.close()
        kind = "a socket"
    assert failures(pkg, keydir) == [f"{rel}: {kind} (not allowed in a package)"]
