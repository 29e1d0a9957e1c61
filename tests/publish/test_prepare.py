"""A night's builder makes what every cut reads before the first cut (``CutBuilder.prepare``):
the night's tables exist before any cut, the cuts' bytes are the same, and a night runner says
that it prepared (``night.json``, its log, ``night status``) before it built its first cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.cli.night import _print_status
from prepcast.election import load_election_dir
from prepcast.election.columnar import ColumnElection
from prepcast.election.synthetic import generate
from prepcast.package import Manifest, init_keys
from prepcast.publish.cut import CutBuilder, open_election, prepare_night
from prepcast.publish.state import NightState
from tests.night.night_run import night_here, status


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate("nacional-small", 3, tmp_path_factory.mktemp("nat") / "e")


def _tables(ce: ColumnElection) -> set[str]:
    return {str(r[0]) for r in ce.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


class _Prev:
    def __init__(self, cut: int) -> None:
        self.cut = cut


def test_prepare_makes_the_night_tables_and_the_cuts_stay_the_same(national: Path) -> None:
    ce = open_election(national)
    assert isinstance(ce, ColumnElection)
    before = _tables(ce)
    prepared = CutBuilder(ce, None, ejercicio="simulacro-1")
    prepared.prepare()
    made = _tables(ce) - before
    n = len(ce.proceso.elections)
    # each election's records' database rows and JSON, its catalog's tables: before any cut
    assert {f"lines_e{i}" for i in range(n)} | {f"sr{i}" for i in range(n)} <= made, made
    assert not any(t.startswith("cut_") for t in _tables(ce))
    rows = CutBuilder(load_election_dir(national), None, ejercicio="simulacro-1")
    previous: Manifest | None = None
    for number in (9, 10, 40, 73):
        a, b = rows.files(number, previous=previous), prepared.files(number, previous=previous)
        assert sorted(a.files) == sorted(b.files)
        assert [p for p in a.files if a.files[p] != b.files[p]] == []
        assert a.main_fields == b.main_fields
        previous = _Prev(number)  # type: ignore[assignment]


def test_prepare_night_says_its_engine_and_times(national: Path, small_election: Path) -> None:
    builder, prep = prepare_night(load_election_dir(national), None)
    assert isinstance(builder.ed, ColumnElection)
    assert prep["motor"] == "columnas" and prep["lectura_s"] > 0 and prep["tablas_s"] > 0
    builder, prep = prepare_night(load_election_dir(small_election), None)
    assert not isinstance(builder.ed, ColumnElection)
    assert prep["motor"] == "filas"


def test_a_runner_prepares_before_its_first_cut(national: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    state, root = tmp_path / "estado", tmp_path / "instituto"
    init_keys(tmp_path / "keys")
    r = night_here(national, tmp_path / "keys", state, root, ejercicio="simulacro-1",
                   until="2024-06-02T20:20")
    assert r.returncode == 0, r.stderr
    doc = NightState.read(state).doc
    prep = doc["preparacion"]
    assert prep["motor"] == "columnas" and prep["tablas_s"] > 0 and prep["lectura_s"] > 0
    texts = [e["text"] for e in doc["log"]]
    said = next(i for i, t in enumerate(texts) if t.startswith("preparación de la noche"))
    first_build = next(i for i, t in enumerate(texts) if t.endswith(": build"))
    assert said < first_build, texts
    assert "motor de columnas" in texts[said] and "tablas de la noche" in texts[said]
    view = status(state)
    assert view["preparacion"] == prep
    _print_status(view)
    out = capsys.readouterr().out
    assert "Preparación: motor de columnas, elección leída en" in out, out
    assert "tablas de la noche en" in out
