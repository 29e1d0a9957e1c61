"""assemble: layout, atomic writes, same inputs → same bytes, schemas, cache rules, deltas."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import prepcast.package as package
from prepcast.errors import InputError
from prepcast.package import (
    CACHE_CONTROL_IMMUTABLE,
    CACHE_CONTROL_MUTABLE,
    assemble,
    cache_control_for,
    canonical_json,
    content_name,
    diff,
    load_manifest,
    load_signer,
    path_problem,
    verify_package,
)
from tests.package.pkg_helpers import check_schemas, cut_time, small_files, small_package


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_layout(pkg: Path) -> None:
    names = set(tree(pkg))
    assert {"index.html", "json/main.json", "manifests/jornada-0003.json", "manifests/jornada-0003.sig"} <= names
    assert any(n.startswith("keys/keyring.") for n in names)
    m = load_manifest(pkg)
    assert set(m.files) == names - {"json/main.json", "manifests/jornada-0003.json", "manifests/jornada-0003.sig"}
    assert len((pkg / "manifests/jornada-0003.sig").read_bytes()) == 64
    main = json.loads((pkg / "json/main.json").read_bytes())["signed"]
    assert main["cut_display"] == "02/06/2024 20:40 (UTC-6)"
    assert main["cut_time"] == "2024-06-02T20:40:00-06:00"
    assert main["manifest_sha256"] == m.digest
    assert main["data"]["entidad"] in m.files
    check_schemas(pkg, site_data=False)


def test_same_inputs_same_bytes(tmp_path: Path, keydir: Path) -> None:
    a = small_package(tmp_path / "a", keydir, 3)
    b = small_package(tmp_path / "b", keydir, 3)
    assert tree(a) == tree(b)


def test_replaces_whole_and_leaves_no_temporary(tmp_path: Path, keydir: Path) -> None:
    out = tmp_path / "pkg"
    small_package(out, keydir, 3)
    (out / "stale.txt").write_text("old")
    small_package(out, keydir, 4)
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]
    # nothing of the package replaced is left anywhere inside the new one
    assert set(tree(out)) == set(load_manifest(out).files) | {
        "json/main.json", "manifests/jornada-0004.json", "manifests/jornada-0004.sig"}
    verify_package(out, keydir / "root.pub")


@pytest.mark.parametrize(
    "path", ["../x", "/abs", "a//b", "a/./b", ".hidden", "json/main.json", "manifests/9.json",
             "a\\b"],
)
def test_bad_paths_refused_before_writing(tmp_path: Path, keydir: Path, path: str) -> None:
    files, main = small_files(3)
    files[path] = b"x"
    with pytest.raises(InputError):
        assemble(tmp_path / "out", files, cut=3, proceso="P", cut_time=cut_time(3),
                 not_before=cut_time(3), expires=cut_time(3) + timedelta(days=1), previous=None,
                 signer=load_signer(keydir), main_fields=main)
    assert not any(tmp_path.iterdir())


def test_previous_must_be_older(tmp_path: Path, keydir: Path) -> None:
    p4 = small_package(tmp_path / "p4", keydir, 4)
    with pytest.raises(InputError, match="must be newer"):
        small_package(tmp_path / "p3", keydir, 3, previous=p4)


def test_previous_of_another_proceso(tmp_path: Path, keydir: Path) -> None:
    files, main = small_files(3)
    assemble(tmp_path / "other", files, cut=2, proceso="IEM-2024", cut_time=cut_time(2),
             not_before=cut_time(2), expires=cut_time(2) + timedelta(days=1), previous=None,
             signer=load_signer(keydir), main_fields=main)
    with pytest.raises(InputError, match="of proceso 'IEM-2024', not 'IEEM-2024'"):
        small_package(tmp_path / "p3", keydir, 3, previous=tmp_path / "other")


def test_chain(tmp_path: Path, keydir: Path) -> None:
    p3 = small_package(tmp_path / "p3", keydir, 3)
    p4 = small_package(tmp_path / "p4", keydir, 4, previous=p3)
    m4 = load_manifest(p4)
    assert m4.previous == load_manifest(p3).digest and m4.previous_cut == 3
    assert load_manifest(p4 / "manifests" / "jornada-0004.json") == m4


def test_diff_by_content(tmp_path: Path, keydir: Path) -> None:
    p3 = small_package(tmp_path / "p3", keydir, 3)
    p4 = small_package(tmp_path / "p4", keydir, 4, previous=p3)
    d = diff(p3, p4)
    fetch = set(d.fetch)
    assert fetch == {
        "json/main.json", "manifests/jornada-0004.json", "manifests/jornada-0004.sig",
        "db/jornada-0004/20240602_2000_PREP_DIP_LOC.zip",
        next(p for p in load_manifest(p4).files if p.startswith("data/")),
    }
    assert "index.html" in d.reused and any(p.startswith("assets/") for p in d.reused)
    assert d.bytes == sum((p4 / p).stat().st_size for p in fetch)
    assert d.count == 5 and 0 < d.share < 1


def test_cache_control() -> None:
    assert cache_control_for("json/main.json") == CACHE_CONTROL_MUTABLE
    assert cache_control_for("/index.html") == CACHE_CONTROL_MUTABLE
    assert cache_control_for("/") == CACHE_CONTROL_MUTABLE
    assert cache_control_for("data/DIP_LOC/entidad.0123456789ab.json") == CACHE_CONTROL_IMMUTABLE
    assert cache_control_for("manifests/jornada-0003.json") == CACHE_CONTROL_IMMUTABLE
    assert CACHE_CONTROL_MUTABLE == "no-cache, no-store, must-revalidate"
    assert CACHE_CONTROL_IMMUTABLE == "public, max-age=31536000, immutable"


def test_canonical_json_and_names() -> None:
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    with pytest.raises(TypeError):
        canonical_json({"x": 1.5})
    assert content_name("data/x.json", b"") == "data/x.e3b0c44298fc.json"
    assert content_name("difusores.json", b"") == "difusores.e3b0c44298fc.json"
    assert path_problem("data/DIP_LOC/distrito/07.0123456789ab.json") is None
    assert path_problem("db/jornada-0003/20240602_2000_PREP_AYUN.zip") is None


def test_public_surface() -> None:
    for name in ("assemble", "load_manifest", "verify_package", "diff", "cache_control_for",
                 "init_keys", "rotate_keys", "revoke_key", "load_signer",
                 "Manifest", "FileEntry", "Delta", "VerifyLimits"):
        assert name in package.__all__
    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert hasattr(package, name)


def test_never_replaces_something_else(tmp_path: Path, keydir: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not a package; refusing to replace it"):
        small_package(precious, keydir, 3)
    assert (precious / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        small_package(tmp_path / "file", keydir, 3)
    (tmp_path / "empty").mkdir()
    small_package(tmp_path / "empty", keydir, 3)
    verify_package(tmp_path / "empty", keydir / "root.pub")
