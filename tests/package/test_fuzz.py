"""Fuzzing the parsers of untrusted input: the manifest, ``json/main.json`` (through the
verification core) and the archive reader. Any input gives a value or a typed error, never
another exception. Bounded in examples and time."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from prepcast.difusor.activate import ReleaseStore
from prepcast.errors import IntegrityError
from prepcast.package import MAIN_PATH, CutId, load_manifest
from prepcast.package.check import Listing, SignedParts, Verdict, check_package, check_signed
from prepcast.package.keys import load_root_public
from prepcast.package.manifest import parse_manifest
from tests.examples import examples
from tests.package.pkg_helpers import small_package, tar_of

FUZZ = settings(max_examples=examples(150), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4)
                           | st.dictionaries(st.text(max_size=12), c, max_size=4), max_leaves=25)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[SignedParts, Any, dict[str, Any]]:
    from prepcast.package import init_keys

    keys = tmp_path_factory.mktemp("fuzzkeys") / "k"
    init_keys(keys)
    pkg = small_package(tmp_path_factory.mktemp("fuzzpkg") / "p", keys, 2)
    m = load_manifest(pkg)
    parts = SignedParts(m.manifest_rel, m.raw, (pkg / m.signature_rel).read_bytes(),
                        (pkg / m.keyring).read_bytes(), (pkg / MAIN_PATH).read_bytes())
    return parts, load_root_public(keys / "root.pub"), json.loads(m.raw)


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, val in edits:
        if b:
            b[pos % len(b)] = val
    return bytes(b)


edits = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8)


# --- manifest --------------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=3000))
@example(data=b"[" * 100_000)
@example(data=b'{"schema":"prepcast.manifest/1","files":{},"cut":1e999}')
def test_manifest_parser_any_bytes(data: bytes) -> None:
    m, bad = parse_manifest(data, "m.json")
    assert (m is None) == bool(bad)


@FUZZ
@given(field=st.sampled_from(["schema", "proceso", "ejercicio", "cut", "built_at", "not_before", "expires",
                              "previous", "previous_cut", "keyid", "keyring", "keyring_version",
                              "total_size", "files"]),
       value=json_values, drop=st.booleans())
def test_manifest_parser_any_field_value(signed: tuple[SignedParts, Any, dict[str, Any]],
                                         field: str, value: Any, drop: bool) -> None:
    doc = dict(signed[2])
    if drop:
        doc.pop(field, None)
    else:
        doc[field] = value
    m, bad = parse_manifest(json.dumps(doc).encode(), "m.json")
    assert (m is None) == bool(bad)
    if m is not None:
        assert isinstance(m.cut, int) and isinstance(m.proceso, str)


@FUZZ
@given(edits=edits)
def test_manifest_parser_mutated_bytes(signed: tuple[SignedParts, Any, dict[str, Any]],
                                       edits: list[tuple[int, int]]) -> None:
    parts, trust, _ = signed
    assert isinstance(parts.manifest, bytes)
    data = _mutate(parts.manifest, edits)
    m, bad = parse_manifest(data, "m.json")
    assert (m is None) == bool(bad)
    v = check_signed(SignedParts(parts.manifest_path, data, parts.signature, parts.keyring,
                                 parts.main), trust)
    assert isinstance(v, Verdict)
    if data != parts.manifest:
        assert not v.ok  # any change breaks the signature


# --- main.json and the rest of the signed parts, through the core ----------------------------

@FUZZ
@given(data=st.binary(max_size=3000))
@example(data=b"[" * 200_000)
@example(data=b'{"signed":{"cut":2.0},"signatures":[]}')
def test_core_any_main_bytes(signed: tuple[SignedParts, Any, dict[str, Any]], data: bytes) -> None:
    parts, trust, _ = signed
    v = check_package(SignedParts(parts.manifest_path, parts.manifest, parts.signature,
                                  parts.keyring, data), Listing({}), trust)
    assert not v.ok


@FUZZ
@given(signed_doc=st.dictionaries(st.sampled_from(["schema", "proceso", "cut", "manifest",
                                                   "manifest_sha256", "data", "x"]),
                                  json_values, max_size=7),
       sigs=json_values)
def test_core_any_main_fields(signed: tuple[SignedParts, Any, dict[str, Any]],
                              signed_doc: dict[str, Any], sigs: Any) -> None:
    parts, trust, _ = signed
    main = json.dumps({"signed": signed_doc, "signatures": sigs}).encode()
    v = check_signed(SignedParts(parts.manifest_path, parts.manifest, parts.signature,
                                 parts.keyring, main), trust)
    assert not v.ok and any(f.path == MAIN_PATH for f in v.findings)


@FUZZ
@given(sig=st.binary(max_size=100), ring_edits=edits)
def test_core_any_signature_and_keyring(signed: tuple[SignedParts, Any, dict[str, Any]],
                                        sig: bytes, ring_edits: list[tuple[int, int]]) -> None:
    parts, trust, _ = signed
    assert isinstance(parts.keyring, bytes)
    ring = _mutate(parts.keyring, ring_edits)
    v = check_signed(SignedParts(parts.manifest_path, parts.manifest, sig, ring, parts.main),
                     trust)
    assert not v.ok


# --- the archive reader ----------------------------------------------------------------------



def _unpack(root: Path, data: bytes) -> None:
    try:
        got = ReleaseStore(root).unpack(io.BytesIO(data), CutId.of("jornada", 1),
                                        name="jornada-0001.tar")
    except IntegrityError:
        return
    assert got.is_dir()
    for p in got.rglob("*"):
        assert not p.is_symlink()
        assert p.resolve().is_relative_to(got.resolve())


@FUZZ
@given(data=st.binary(max_size=4000))
def test_archive_reader_any_bytes(tmp_path: Path, data: bytes) -> None:
    _unpack(tmp_path, data)


@FUZZ
@given(names=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5),
       edits=edits)
def test_archive_reader_mutated_archives(tmp_path: Path, names: list[str],
                                         edits: list[tuple[int, int]]) -> None:
    members = {n: n.encode("utf-8", "surrogatepass") * 3 for n in names}
    _unpack(tmp_path, _mutate(tar_of(members), edits))
