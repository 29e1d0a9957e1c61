"""Signed JSON is unambiguous and parsing is bounded; ``cut verify`` on what a difusor serves;
the pure verification core without a folder."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.package import (
    MAIN_PATH,
    canonical_json,
    load_manifest,
    load_signer,
    manifest_path,
    sha256_hex,
    signature_path,
)
from prepcast.package.canonical import JsonRefused, strict_json
from prepcast.package.check import Listing, SignedParts, check_package
from prepcast.package.keys import load_root_public
from tests.package.pkg_helpers import failures, small_package


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def sign_raw_manifest(pkg: Path, keydir: Path, raw: bytes, cut: int = 3) -> None:
    """Put ``raw`` as the manifest, signed (and main.json re-pointed) with the real cut key."""
    signer = load_signer(keydir)
    (pkg / manifest_path("jornada", cut)).write_bytes(raw)
    (pkg / signature_path("jornada", cut)).write_bytes(signer.sign(raw))
    doc = json.loads((pkg / MAIN_PATH).read_bytes())
    doc["signed"]["manifest_sha256"] = sha256_hex(raw)
    sign_main(pkg, keydir, doc["signed"])


def sign_main(pkg: Path, keydir: Path, signed: dict[str, object], *, raw: bytes | None = None) -> None:
    signer = load_signer(keydir)
    sig = base64.b64encode(signer.sign(raw or canonical_json(signed))).decode()
    doc = {"signed": signed, "signatures": [{"keyid": signer.keyid, "sig": sig}]}
    (pkg / MAIN_PATH).write_bytes(json.dumps(doc).encode())


# --- strict parsing --------------------------------------------------------------------------

@pytest.mark.parametrize("data,why", [
    (b'{"a":1,"a":2}', "twice"),
    (b"[" * 200_000, "nested"),
    (b"[" * 40 + b"]" * 40, "nested"),
    (b'{"a":NaN}', "not JSON"),
    (b'"\\ud800"', "surrogate"),
    (b"\xff\xfe", "not JSON"),
    (b"{" * 10, "not JSON"),
])
def test_strict_json_refuses(data: bytes, why: str) -> None:
    with pytest.raises(JsonRefused, match=why):
        strict_json(data, limit=1 << 20)


def test_strict_json_size_bound() -> None:
    with pytest.raises(JsonRefused, match="limit"):
        strict_json(b" " * 101 + b"1", limit=100)
    assert strict_json(b'{"a":[1,{"b":null}]}', limit=100) == {"a": [1, {"b": None}]}


def test_duplicate_key_in_signed_manifest_refused(pkg: Path, keydir: Path) -> None:
    """Signed bytes that say two things: a verifier keeping the first key and one keeping the last
    would see different files. Refused even when the cut key signed them."""
    raw = load_manifest(pkg).raw
    assert raw.startswith(b"{")
    dup = b'{"cut":99,' + raw[1:]
    sign_raw_manifest(pkg, keydir, dup)
    assert any("appears twice" in f for f in failures(pkg, keydir))


def test_duplicate_key_in_signed_main_refused(pkg: Path, keydir: Path) -> None:
    doc = json.loads((pkg / MAIN_PATH).read_bytes())
    text = json.dumps(doc["signed"])
    raw = ('{"cut": 1, ' + text[1:]).encode()
    signer = load_signer(keydir)
    sig = base64.b64encode(signer.sign(raw)).decode()
    body = b'{"signed": ' + raw + b', "signatures": [{"keyid": "' + signer.keyid.encode() + \
        b'", "sig": "' + sig.encode() + b'"}]}'
    (pkg / MAIN_PATH).write_bytes(body)
    assert any(f.startswith(MAIN_PATH) and "twice" in f for f in failures(pkg, keydir))


@pytest.mark.parametrize("other", ["INDEX.HTML", "Index.html"])
def test_paths_colliding_by_case_refused(pkg: Path, keydir: Path, other: str) -> None:
    doc = json.loads(load_manifest(pkg).raw)
    doc["files"][other] = doc["files"]["index.html"]
    shutil.copy(pkg / "index.html", pkg / other)
    sign_raw_manifest(pkg, keydir, canonical_json(doc))
    assert any("collide" in f for f in failures(pkg, keydir))


def test_wrongly_typed_cut_in_main_is_exit_3(pkg: Path, keydir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((pkg / MAIN_PATH).read_bytes())
    signed = doc["signed"]
    signed["cut"] = 2.0
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sign_main(pkg, keydir, signed, raw=text.encode())
    status, err = cli(capsys, "cut", "verify", str(pkg), "--trust", str(keydir / "root.pub"))
    assert status == 3 and MAIN_PATH in err


@pytest.mark.parametrize("edit", [{"cut": 3.0}, {"cut": "3"}, {"files": []}, {"proceso": 7},
                                  {"keyring_version": True}, {"files": {"a": {"sha256": "x"}}}])
def test_wrongly_typed_manifest_field_is_exit_3(pkg: Path, keydir: Path, edit: dict[str, object],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(load_manifest(pkg).raw)
    doc.update(edit)
    sign_raw_manifest(pkg, keydir, json.dumps(doc).encode())
    status, err = cli(capsys, "cut", "verify", str(pkg), "--trust", str(keydir / "root.pub"))
    assert status == 3 and "manifest" in err


def test_deeply_nested_main_is_exit_3(pkg: Path, keydir: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (pkg / MAIN_PATH).write_bytes(b"[" * 200_000)
    status, err = cli(capsys, "cut", "verify", str(pkg), "--trust", str(keydir / "root.pub"))
    assert status == 3 and "nested" in err


def test_trust_dev_zero_is_bounded(pkg: Path) -> None:
    """``--trust /dev/zero`` used to read until the process was killed."""
    done = subprocess.run([sys.executable, "-m", "prepcast", "cut", "verify", str(pkg),
                           "--trust", "/dev/zero"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "/dev/zero" in done.stderr and "Traceback" not in done.stderr


def test_trust_is_size_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.pub"
    big.write_bytes(b"A" * 100_000)
    with pytest.raises(Exception, match="more than"):
        load_root_public(big)


# --- what a difusor serves -----------------------------------------------------------------

def _release(tmp_path: Path, keydir: Path) -> Path:
    """A release as a daemon or the pusher leaves it: cut 4 plus cut 3's files carried over,
    with cut 3's manifest and signature."""
    p3 = small_package(tmp_path / "p3", keydir, 3)
    p4 = small_package(tmp_path / "p4", keydir, 4, previous=p3)
    rel = tmp_path / "www" / "releases" / "0004"
    shutil.copytree(p4, rel)
    m3 = load_manifest(p3)
    for p in [*m3.files, manifest_path("jornada", 3), signature_path("jornada", 3)]:
        if not (rel / p).exists():
            (rel / p).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p3 / p, rel / p)
    os.symlink("releases/0004", tmp_path / "www" / "current")
    return rel


def test_cut_verify_follows_current_and_knows_carried_files(
        tmp_path: Path, keydir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rel = _release(tmp_path, keydir)
    for target in (rel, tmp_path / "www" / "current"):
        status, err = cli(capsys, "cut", "verify", str(target), "--trust",
                          str(keydir / "root.pub"), "--allow-expired")
        assert status == 0, err
    carried = next(p for p in load_manifest(tmp_path / "p3").files
                   if p.startswith("db/jornada-0003/"))
    (rel / carried).write_bytes(b"changed")
    got = failures(tmp_path / "www" / "current", keydir)
    assert got == [f"{carried}: carried over from an earlier cut, but its sha256 does not match "
                   "that cut's manifest"]


def test_carried_files_need_the_chained_manifest(tmp_path: Path, keydir: Path) -> None:
    rel = _release(tmp_path, keydir)
    (rel / manifest_path("jornada", 3)).unlink()  # nothing vouches for the carried files now
    got = failures(rel, keydir)
    assert any("db/jornada-0003/" in f and "extra file" in f for f in got)
    assert f"{signature_path('jornada', 3)}: not in the manifest (extra file)" in got


# --- the pure core -------------------------------------------------------------------------

def _in_memory(pkg: Path) -> tuple[SignedParts, dict[str, bytes]]:
    files = {p.relative_to(pkg).as_posix(): p.read_bytes() for p in pkg.rglob("*") if p.is_file()}
    m = load_manifest(pkg)
    parts = SignedParts(m.manifest_rel, files[m.manifest_rel], files[m.signature_rel],
                        files[m.keyring], files[MAIN_PATH])
    return parts, files


def test_core_checks_bytes_without_a_folder(pkg: Path, keydir: Path) -> None:
    parts, files = _in_memory(pkg)
    trust = load_root_public(keydir / "root.pub")

    def verdict(files: dict[str, bytes]) -> list[tuple[str, str]]:
        listing = Listing({p: len(b) for p, b in files.items()}, {},
                          {p: sha256_hex(b) for p, b in files.items()})
        v = check_package(parts, listing, trust)
        return [(f.path, f.kind) for f in v.findings]

    assert verdict(files) == []
    index = dict(files, **{"index.html": files["index.html"].replace(b"PREP", b"PRAP")})
    assert verdict(index) == [("index.html", "hash")]
    extra = dict(files, **{"x.js": b"alert(1)"})
    assert verdict(extra) == [("x.js", "extra")]
    v = check_package(parts, Listing({}), trust, last=3)
    assert next(f.kind for f in v.findings) == "rollback"
    bad = SignedParts(parts.manifest_path, parts.manifest, b"x" * 64, parts.keyring, parts.main)
    assert "signature" in [f.kind for f in check_package(bad, Listing({}), trust).findings]
