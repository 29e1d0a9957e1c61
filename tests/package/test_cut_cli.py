"""``prepcast cut build/verify/diff`` and ``prepcast keys`` on generated elections."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir
from prepcast.election.synthetic import generate
from prepcast.package import load_manifest, load_signer, verify_package
from prepcast.publish import CutBuilder
from tests.once import made_once
from tests.package.pkg_helpers import check_schemas

TZ = timezone(timedelta(hours=-6))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def build(election: Path, keys: Path, out: Path, at: str, *extra: str) -> int:
    return main(["cut", "build", str(election), "--at", at, "--keys", str(keys),
                 "--out", str(out), "--ejercicio", "jornada", *extra])


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, small_election: Path) -> dict[str, Path]:
    """Keys made with the CLI and three consecutive cuts of the small election (read-only)."""
    return made_once(tmp_path_factory, "cut-cli-night", lambda root: _night(root, small_election))


def _night(root: Path, small_election: Path) -> dict[str, Path]:
    keys = root / "keys"
    assert main(["keys", "init", "--out", str(keys)]) == 0
    pkgs = {}
    prev: list[str] = []
    for name, at in (("c7", "2024-06-02T22:00"), ("c8", "2024-06-02T22:20-06:00"),
                     ("c9", "2024-06-02T22:59")):
        assert build(small_election, keys, root / name, at, *prev) == 0
        prev = ["--previous", str(root / name)]
        pkgs[name] = root / name
    pkgs["keys"] = keys
    return pkgs


def test_cut_numbers_follow_the_schedule(night: dict[str, Path]) -> None:
    assert [load_manifest(night[c]).cut for c in ("c7", "c8", "c9")] == [7, 8, 9]
    main_json = json.loads((night["c9"] / "json/main.json").read_bytes())["signed"]
    assert main_json["cut_display"] == "02/06/2024 22:40 (UTC-6)"
    assert main_json["cut_time"] == "2024-06-02T22:40:00-06:00"


def test_every_package_verifies_and_matches_schemas(night: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = night["keys"] / "root.pub"
    for c in ("c7", "c8", "c9"):
        check_schemas(night[c])
    old = "--allow-expired"  # a 2024 night: its packages expired long ago
    assert main(["cut", "verify", str(night["c8"]), "--trust", str(root),
                 "--last", str(night["c7"]), old]) == 0
    assert main(["cut", "verify", str(night["c9"]), "--trust", str(root), "--last", "8", old]) == 0
    assert main(["cut", "verify", str(night["c9"]), "--trust", str(root),
                 "--last", str(night["c8"] / "manifests" / "jornada-0008.json"), old]) == 0
    out = capsys.readouterr().out
    assert "cut 9 of IEEM-2024 verified" in out


def test_package_content(night: dict[str, Path]) -> None:
    m = load_manifest(night["c8"])
    db = sorted(p for p in m.files if p.startswith("db/"))
    assert db == ["db/jornada-0008/20240602_2220_PREP_AYUN.zip", "db/jornada-0008/20240602_2220_PREP_DIP_LOC.zip"]
    assert "index.html" in m.files
    assert any(p.startswith("difusores.") for p in m.files)
    assert len(m.files) + 3 <= 1000
    for path in m.files:
        assert path == "index.html" or "-0008/" in path or path.count(".") >= 2, path


def test_rollback_through_cli(night: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = night["keys"] / "root.pub"
    assert main(["cut", "verify", str(night["c7"]), "--trust", str(root),
                 "--last", str(night["c8"]), "--allow-expired"]) == 3
    assert "cut 7 is not newer than cut 8" in capsys.readouterr().err


def test_previous_must_be_older(night: dict[str, Path], small_election: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """22:05 falls in cut 7, which is not newer than the previous package (cut 7)."""
    assert build(small_election, night["keys"], tmp_path / "again", "2024-06-02T22:05",
                 "--previous", str(night["c7"])) == 2
    assert "previous package is cut 7; this cut (7) must be newer" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()


def test_rebuild_is_identical(night: dict[str, Path], small_election: Path, tmp_path: Path) -> None:
    assert build(small_election, night["keys"], tmp_path / "c8", "2024-06-02T22:20",
                 "--previous", str(night["c7"])) == 0
    assert tree(tmp_path / "c8") == tree(night["c8"])


def test_built_at(night: dict[str, Path], small_election: Path, tmp_path: Path) -> None:
    assert build(small_election, night["keys"], tmp_path / "p", "2024-06-02T22:20",
                 "--built-at", "2024-06-02T22:21:30-06:00") == 0
    assert load_manifest(tmp_path / "p").built_at.isoformat() == "2024-06-02T22:21:30-06:00"


def test_diff(night: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cut", "diff", str(night["c8"]), str(night["c9"]), "--list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cut 8 → 9: fetch ")
    assert "db/jornada-0009/20240602_2240_PREP_DIP_LOC.zip" in out
    assert "json/main.json" in out


def test_difusores(night: dict[str, Path], small_election: Path, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "difusores.json"
    good.write_text(json.dumps([{"id": "unam", "nombre": "UNAM", "url": "https://prep.unam.mx/"}]))
    assert build(small_election, night["keys"], tmp_path / "p", "2024-06-02T22:20",
                 "--difusores", str(good)) == 0
    check_schemas(tmp_path / "p")
    m = load_manifest(tmp_path / "p")
    listing = next(p for p in m.files if p.startswith("difusores."))
    assert json.loads((tmp_path / "p" / listing).read_bytes())["difusores"][0]["id"] == "unam"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x", "url": "ftp://x"}]))
    assert build(small_election, night["keys"], tmp_path / "q", "2024-06-02T22:20",
                 "--difusores", str(bad)) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "nombre" in err
    assert not (tmp_path / "q").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "2024-06-02T19:40"], "before the first cut"),
        (["--at", "tomorrow"], "is not a date-time"),
    ],
)
def test_bad_input(night: dict[str, Path], small_election: Path, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    status = main(["cut", "build", str(small_election), "--keys", str(night["keys"]),
                   "--out", str(tmp_path / "p"), "--ejercicio", "jornada", *args])
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_missing_inputs(night: dict[str, Path], small_election: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    assert build(tmp_path / "nowhere", night["keys"], tmp_path / "p", "2024-06-02T22:00") == 2
    assert "not an election directory" in capsys.readouterr().err
    assert build(small_election, tmp_path / "nokeys", tmp_path / "p", "2024-06-02T22:00") == 2
    assert "keyring.json: cannot read keyring" in capsys.readouterr().err
    assert build(small_election, night["keys"], tmp_path / "p", "2024-06-02T22:00",
                 "--previous", str(tmp_path / "none")) == 2
    assert "no such package (--previous)" in capsys.readouterr().err
    assert main(["cut", "diff", str(tmp_path / "a"), str(night["c7"])]) == 2
    assert "no such package" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["michoacan-2024", "edomex-2024"])
def test_large_profiles(profile: str, night: dict[str, Path], tmp_path: Path) -> None:
    election = generate(profile, 2, tmp_path / "election", images=False)  # no test shows one
    keys = night["keys"]
    assert build(election, keys, tmp_path / "a", "2024-06-03T00:00") == 0
    assert build(election, keys, tmp_path / "b", "2024-06-03T00:20",
                 "--previous", str(tmp_path / "a")) == 0
    m = verify_package(tmp_path / "b", keys / "root.pub", last=tmp_path / "a")
    assert m.cut == 14 and len(m.files) + 3 <= 1000
    check_schemas(tmp_path / "b")


def test_night_builder_gives_the_same_bytes(night: dict[str, Path], small_election: Path,
                                            tmp_path: Path) -> None:
    builder = CutBuilder(load_election_dir(small_election), load_signer(night["keys"]))
    builder.build(datetime(2024, 6, 2, 22, 0, tzinfo=TZ), tmp_path / "c7")
    builder.build(datetime(2024, 6, 2, 22, 20, tzinfo=TZ), tmp_path / "c8",
                  previous=tmp_path / "c7")
    assert tree(tmp_path / "c8") == tree(night["c8"])


def test_verify_refuses_an_expired_package_as_a_daemon_does(
        night: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: the 2024 night's packages expired (a week after the night): exit 3
    naming the expiry, as every difusor's daemon refuses them; --allow-expired checks the rest."""
    root = night["keys"] / "root.pub"
    assert main(["cut", "verify", str(night["c8"]), "--trust", str(root)]) == 3
    err = capsys.readouterr().err
    assert "manifests/jornada-0008.json: expired at 2024-06-" in err
    assert "--allow-expired" in err and "verified" not in err
    assert main(["cut", "verify", str(night["c8"]), "--trust", str(root), "--allow-expired"]) == 0


def test_verify_of_a_missing_folder_is_a_bad_argument(
        night: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: a PKG that does not exist is a bad argument (2), not untrusted data (3)."""
    assert main(["cut", "verify", str(tmp_path / "nope"), "--trust",
                 str(night["keys"] / "root.pub")]) == 2
    assert "nope: no such package directory" in capsys.readouterr().err


def test_build_names_its_ejercicio(night: dict[str, Path], small_election: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: no silent jornada; a cut without --ejercicio is refused, nothing written."""
    with pytest.raises(SystemExit) as done:
        main(["cut", "build", str(small_election), "--at", "2024-06-02T22:20", "--keys",
              str(night["keys"]), "--out", str(tmp_path / "p")])
    assert done.value.code == 2
    assert "--ejercicio" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_build_into_a_place_the_system_refuses_is_exit_1(
        night: dict[str, Path], small_election: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: an unwritable output is 1 (the README's table), not a bad argument."""
    assert build(small_election, night["keys"], Path("/proc/prepcast-pkg"),
                 "2024-06-02T22:20") == 1
    assert "prepcast: /proc: cannot write here" in capsys.readouterr().err
