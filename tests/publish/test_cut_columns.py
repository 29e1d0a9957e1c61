"""A cut built on columns (the election read, tallied and laid out with DuckDB) is the package
the row path builds: every file, byte for byte, hence the same manifest, for single cuts and for
a night's cuts in a row; files the columnar readers do not take go to the row path."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import ElectionDir, cut_time, load_election_dir
from prepcast.election.columnar import ColumnElection, load_columns
from prepcast.package import Manifest, init_keys, load_manifest, load_signer
from prepcast.publish import build_cut
from prepcast.publish.cut import CutBuilder, CutFiles, night_engine, open_election
from prepcast.publish.state import NightState
from tests.conftest import QROO, REAL, TAMAULIPAS
from tests.night.night_run import night_here


@pytest.fixture
def national(national_election: Path) -> Path:
    return national_election


def _columns(path: Path) -> ColumnElection:
    ce = open_election(path)
    assert isinstance(ce, ColumnElection)
    return ce


def _same(rows: CutFiles, cols: CutFiles) -> None:
    assert sorted(cols.files) == sorted(rows.files)
    differ = [p for p in rows.files if rows.files[p] != cols.files[p]]
    assert differ == []
    assert cols.main_fields == rows.main_fields
    for eid, er in rows.results.elections.items():
        assert cols.results.elections[eid].preamble == er.preamble


def _night(path: Path, cuts: list[int], difusores: list[dict[str, str]] | None = None) -> None:
    """The same builders (rows, columns) cut after cut, each after the manifest of the one
    before, as a night runs them."""
    ed = load_election_dir(path)
    d = difusores or []
    rb = CutBuilder(ed, None, difusores=d, ejercicio="simulacro-1")
    cb = CutBuilder(_columns(path), None, difusores=d, ejercicio="simulacro-1")
    previous: Manifest | None = None
    for n in cuts:
        rows, cols = rb.files(n, previous=previous), cb.files(n, previous=previous)
        _same(rows, cols)
        previous = _Prev(n)  # type: ignore[assignment]


class _Prev:
    """What a writer needs of the previous cut: its number (its history is the writer's own)."""

    def __init__(self, cut: int) -> None:
        self.cut = cut


def test_small_night_same_files_on_columns(small_election: Path) -> None:
    _night(small_election, [1, 4, 12, 13, 30, 31, 73],
           [{"nombre": "Diario \"El Sol\"", "sitio": "https://sol.example/prep"}])


def test_national_night_same_files_on_columns(national: Path) -> None:
    _night(national, [2, 9, 10, 40, 73])


def test_a_cut_out_of_order_same_files(national: Path) -> None:
    """An earlier cut after a later one (a cut built again) is still the same package."""
    _night(national, [40, 12, 41])


@pytest.mark.parametrize(("database", "candidaturas", "rules", "at"), [
    (TAMAULIPAS, REAL / "tamaulipas-2023-sen-ext" / "TAMPS_SEN_FED_ext_Candidaturas_2023.csv",
     "ine-2023", "2023-02-20T11:05"),
    (QROO, REAL / "qroo-2019-dip-loc" / "QROO_DIP_CANDIDATURAS_2019.csv", "qroo-2019",
     "2019-06-03T05:47"),
], ids=["tamaulipas-2023", "qroo-2019"])
def test_real_nights_same_package_on_columns(tmp_path: Path, database: Path, candidaturas: Path,
                                             rules: str, at: str) -> None:
    out = tmp_path / "e"
    assert main(["election", "import", str(database), "--candidaturas", str(candidaturas),
                 "--rules", rules, "--out", str(out)]) == 0
    init_keys(tmp_path / "keys")
    signer = load_signer(tmp_path / "keys")
    ed = load_election_dir(out)
    ce = _columns(out)
    n = len(ed.proceso.cut_times())
    for builder, pkg in ((CutBuilder(ed, signer), "rows"), (CutBuilder(ce, signer), "cols")):
        builder.build(ed.proceso.cut_times()[n // 2], tmp_path / f"{pkg}-1")
        builder.build(ed.proceso.end, tmp_path / pkg, previous=tmp_path / f"{pkg}-1")
    files = sorted(p.relative_to(tmp_path / "rows") for p in (tmp_path / "rows").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "cols") for p in (tmp_path / "cols").rglob("*"))
    for f in files:
        if (tmp_path / "rows" / f).is_file():
            assert (tmp_path / "rows" / f).read_bytes() == (tmp_path / "cols" / f).read_bytes(), f


def test_cli_cut_build_on_columns_is_the_row_package(small_election: Path, tmp_path: Path) -> None:
    init_keys(tmp_path / "keys")
    ed = load_election_dir(small_election)
    CutBuilder(ed, load_signer(tmp_path / "keys")).build(ed.proceso.end, tmp_path / "rows")
    assert main(["cut", "build", str(small_election), "--at", ed.proceso.end.isoformat(),
                 "--keys", str(tmp_path / "keys"), "--out", str(tmp_path / "cols"),
                 "--ejercicio", "jornada"]) == 0
    manifest = sorted((tmp_path / "rows" / "manifests").rglob("*.json"))[0]
    assert manifest.read_bytes() == (tmp_path / "cols" / manifest.relative_to(
        tmp_path / "rows")).read_bytes()


def test_texts_columns_cannot_write_go_to_the_row_path(small_election: Path,
                                                       tmp_path: Path) -> None:
    """A record whose text holds a control character (a form feed) or a file the columnar
    readers do not take is read on rows, and gives the same package."""
    path = tmp_path / "e"
    shutil.copytree(small_election, path)
    feed = sorted((path / "capturas").glob("*.csv"))[0]
    lines = feed.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",CATD,", ",CA\x01TD,", 1)
    assert "\x01" in lines[1]
    feed.write_text("".join(lines), encoding="utf-8")
    assert load_columns(path) is not None
    assert isinstance(open_election(path), ElectionDir)


def test_a_national_night_is_built_on_columns_a_state_night_on_rows(national: Path,
                                                                    small_election: Path) -> None:
    assert isinstance(night_engine(load_election_dir(national)), ColumnElection)
    assert isinstance(night_engine(load_election_dir(small_election)), ElectionDir)


def test_a_national_night_run_publishes_the_row_path_packages(national: Path,
                                                              tmp_path: Path) -> None:
    """`night run` of a national proceso (built on columns): each published cut is the package
    the row path builds for its time after the cut before it."""
    init_keys(tmp_path / "keys")
    state, root = tmp_path / "estado", tmp_path / "instituto"
    r = night_here(national, tmp_path / "keys", state, root, until="2024-06-02T21:00")
    assert r.returncode == 0, r.stderr
    ed = load_election_dir(national)
    signer = load_signer(tmp_path / "keys")
    published = {c["number"]: c["steps"]["build"]["digest"] for c in NightState.read(state).cuts()
                 if "publish" in c["steps"]}
    releases = sorted((root / "releases").iterdir())
    assert len(releases) >= 2
    for before, after in itertools.pairwise(releases):
        number = int(after.name.rsplit("-", 1)[1])
        alone = build_cut(ed, cut_time(ed.proceso, number), signer, tmp_path / after.name,
                          previous=before, not_before=load_manifest(after).not_before)
        assert alone.digest == published[number]


def test_texts_json_escapes_and_odd_times_same_files_on_columns(national: Path,
                                                                tmp_path: Path) -> None:
    """A free text with a quote and a backslash, and a capture time written without ``T``,
    offset or whole seconds, stay on columns (each such column is escaped or respelled for
    every record of its feed, the others taken as they are) and give the row path's files."""
    path = tmp_path / "e"
    shutil.copytree(national, path)
    feed = sorted((path / "capturas").glob("*.csv"))[0]
    lines = feed.read_text(encoding="utf-8").splitlines(keepends=True)
    quoted = next(n for n, line in enumerate(lines) if ",CATD," in line)
    lines[quoted] = lines[quoted].replace(",CATD,", ',"CA""T\\D",', 1)
    odd = next(n for n in range(quoted + 1, len(lines)) if lines[n][10] == "T")
    lines[odd] = lines[odd][:10] + " " + lines[odd][11:19] + ".25" + lines[odd][25:]
    feed.write_text("".join(lines), encoding="utf-8")
    assert isinstance(open_election(path), ColumnElection)
    _night(path, [10, 73])
