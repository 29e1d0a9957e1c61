"""Ejercicios: a drill's cuts, then the jornada's; no way back from the jornada to a drill."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from prepcast.errors import InputError, IntegrityError
from prepcast.package import CutId, Ejercicio, load_manifest, verify_package
from prepcast.package.keys import ROOT_PUB
from tests.cli.in_process import prepcast
from tests.package.pkg_helpers import check_schemas, small_package


def test_ejercicios_are_ordered_and_named() -> None:
    order = ["prueba-1", "prueba-2", "prueba-10", "simulacro-1", "simulacro-3", "jornada"]
    parsed = [Ejercicio.parse(n) for n in order]
    assert sorted(reversed(parsed)) == parsed
    assert [e.name for e in parsed] == order
    assert Ejercicio.parse("simulacro-2").banner == "SIMULACRO — datos ficticios"
    assert Ejercicio.parse("prueba-1").banner == "PRUEBA — datos ficticios"
    assert Ejercicio.parse("jornada").banner is None
    for bad in ("Jornada", "simulacro", "simulacro-0", "simulacro-01", "jornada-1", "", "../x"):
        with pytest.raises(ValueError):
            Ejercicio.parse(bad)
    assert CutId.of("simulacro-2", 13).tag == "simulacro-2-0013"
    assert CutId.from_tag("releases/simulacro-2-0013") == CutId.of("simulacro-2", 13)
    assert CutId.from_tag("0013") is None


def test_the_ejercicio_is_signed_into_manifest_and_pointer(tmp_path: Path, keydir: Path) -> None:
    pkg = small_package(tmp_path / "p", keydir, 2, ejercicio="simulacro-1")
    check_schemas(pkg, site_data=False)
    main = json.loads((pkg / "json/main.json").read_bytes())["signed"]
    assert main["ejercicio"] == "simulacro-1"
    assert main["manifest"] == "manifests/simulacro-1-0002.json"
    m = verify_package(pkg, keydir / ROOT_PUB)
    assert (m.ejercicio, m.cut) == ("simulacro-1", 2)
    assert "db/simulacro-1-0002/20240602_2000_PREP_DIP_LOC.zip" in m.files


def test_a_changed_ejercicio_breaks_the_signature(tmp_path: Path, keydir: Path) -> None:
    pkg = small_package(tmp_path / "p", keydir, 2, ejercicio="simulacro-1")
    mp = pkg / "manifests/simulacro-1-0002.json"
    forged = pkg / "manifests/jornada-0002.json"
    forged.write_bytes(mp.read_bytes().replace(b'"simulacro-1"', b'"jornada"'))
    (pkg / "manifests/simulacro-1-0002.sig").rename(pkg / "manifests/jornada-0002.sig")
    mp.unlink()
    main = pkg / "json/main.json"
    main.write_bytes(main.read_bytes().replace(b"simulacro-1", b"jornada"))
    with pytest.raises(IntegrityError) as err:
        verify_package(pkg, keydir / ROOT_PUB)
    got = err.value.failures
    assert "manifests/jornada-0002.sig: signature does not match the manifest (edited or wrong key)" in got
    assert any(f.startswith("json/main.json: signature invalid") for f in got)


def test_drill_then_jornada_and_never_back(tmp_path: Path, keydir: Path) -> None:
    root = keydir / ROOT_PUB
    drill4 = small_package(tmp_path / "s4", keydir, 4, ejercicio="simulacro-2")
    jornada1 = small_package(tmp_path / "j1", keydir, 1)
    prueba9 = small_package(tmp_path / "p9", keydir, 9, ejercicio="prueba-1")
    # a later ejercicio starts afresh, whatever its cut number
    assert verify_package(jornada1, root, last=load_manifest(drill4)).cut_id.tag == "jornada-0001"
    assert verify_package(drill4, root, last=load_manifest(prueba9)).cut == 4
    # never back: from the jornada to a drill, from a drill to a test
    with pytest.raises(IntegrityError) as err:
        verify_package(drill4, root, last=load_manifest(jornada1))
    assert any("never accepts a drill or test package" in f for f in err.value.failures)
    with pytest.raises(IntegrityError) as err:
        verify_package(prueba9, root, last=drill4)
    assert any("comes before 'simulacro-2'" in f for f in err.value.failures)


def test_each_ejercicio_is_a_chain_of_its_own(tmp_path: Path, keydir: Path) -> None:
    drill = small_package(tmp_path / "s1", keydir, 1, ejercicio="simulacro-1")
    with pytest.raises(InputError, match="each ejercicio starts a chain of its own"):
        small_package(tmp_path / "j2", keydir, 2, previous=drill)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return prepcast(*args)


def test_cli_verify_accepts_drill_to_jornada_and_refuses_the_reverse(
        tmp_path: Path, keydir: Path) -> None:
    drill = small_package(tmp_path / "s", keydir, 4, ejercicio="simulacro-1")
    jornada = small_package(tmp_path / "j", keydir, 1)
    root = str(keydir / ROOT_PUB)
    ok = _cli("cut", "verify", str(jornada), "--trust", root, "--last", str(drill),
              "--allow-expired")
    assert ok.returncode == 0, ok.stderr
    assert "cut 1 of IEEM-2024 verified" in ok.stdout
    back = _cli("cut", "verify", str(drill), "--trust", root, "--last", str(jornada),
                "--allow-expired")
    assert back.returncode == 3
    assert "never accepts a drill or test package" in back.stderr
    assert "Traceback" not in back.stderr


def test_cli_build_refuses_an_unknown_ejercicio(tmp_path: Path, keydir: Path,
                                                small_election: Path) -> None:
    r = _cli("cut", "build", str(small_election), "--at", "2024-06-02T21:00", "--keys",
             str(keydir), "--out", str(tmp_path / "p"), "--ejercicio", "ensayo")
    assert r.returncode == 2
    assert "--ejercicio: unknown ejercicio 'ensayo'" in r.stderr
    assert not (tmp_path / "p").exists()
