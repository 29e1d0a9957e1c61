"""A night's builder makes what every cut reads before the first cut (``CutBuilder.prepare``):
the night's tables exist before any cut, the cuts' bytes are the same, and a night runner says
that it prepared (``night.json``, its log, ``night status``) before it built its first cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.cli.night import _print_status
from prepcast.election import cut_time, load_election_dir
from prepcast.election.columnar import ColumnElection
from prepcast.election.synthetic import generate
from prepcast.package import Manifest, init_keys, load_manifest, load_signer
from prepcast.publish.cut import CutBuilder, build_cut, open_election, prepare_night
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


def test_a_night_started_late_lays_out_the_cut_before_and_builds_the_same(national: Path
                                                                          ) -> None:
    """``start_at(10)``: the segments as of cut 9 laid out before cut 10 (kept as a cut built
    before would keep them); cut 10 and the ones after are the row path's files all the same."""
    ce = open_election(national)
    assert isinstance(ce, ColumnElection)
    late = CutBuilder(ce, None, ejercicio="simulacro-1")
    late.prepare()
    assert late.start_at(10) == 9
    assert not any(t.startswith("cut_") for t in _tables(ce))  # the cut laid out is let go
    rows = CutBuilder(load_election_dir(national), None, ejercicio="simulacro-1")
    previous: Manifest | None = None
    for number in (10, 11, 40):
        a, b = rows.files(number, previous=previous), late.files(number, previous=previous)
        assert sorted(a.files) == sorted(b.files)
        assert [p for p in a.files if a.files[p] != b.files[p]] == []
        previous = _Prev(number)  # type: ignore[assignment]
    assert late.start_at(1) is None


def test_prepare_night_says_its_engine_and_times(national: Path, small_election: Path) -> None:
    builder, prep = prepare_night(load_election_dir(national), None)
    assert isinstance(builder.ed, ColumnElection)
    assert prep["motor"] == "columnas" and prep["lectura_s"] > 0 and prep["tablas_s"] > 0
    assert prep["segmentos_del_corte"] is None
    builder, prep = prepare_night(load_election_dir(national), None, first=5)
    assert prep["segmentos_del_corte"] == 4 and prep["segmentos_s"] > 0
    builder, prep = prepare_night(load_election_dir(small_election), None, first=5)
    assert not isinstance(builder.ed, ColumnElection)
    assert prep["motor"] == "filas" and prep["segmentos_del_corte"] is None


def test_a_runner_prepares_before_its_first_cut(national: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Said before the first build, in night.json, its log and night status; restarted, the
    runner lays out the segments as of the cut it published last, and the cut it builds then
    is the one a cut built alone after it is."""
    state, root = tmp_path / "estado", tmp_path / "instituto"
    init_keys(tmp_path / "keys")
    r = night_here(national, tmp_path / "keys", state, root, ejercicio="simulacro-1",
                   until="2024-06-02T20:20")
    assert r.returncode == 0, r.stderr
    doc = NightState.read(state).doc
    prep = doc["preparacion"]
    assert prep["motor"] == "columnas" and prep["tablas_s"] > 0 and prep["lectura_s"] > 0
    assert prep["segmentos_del_corte"] is None  # its first cut is the night's first
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
    assert "tablas de la noche en" in out and "segmentos" not in out

    last = NightState.read(state).published()
    assert last is not None
    r = night_here(national, tmp_path / "keys", state, root, ejercicio="simulacro-1",
                   until="2024-06-02T21:00")
    assert r.returncode == 0, r.stderr
    state_doc = NightState.read(state)
    prep = state_doc.doc["preparacion"]
    assert prep["segmentos_del_corte"] == last, prep
    texts = [e["text"] for e in state_doc.doc["log"]]
    assert any(t.startswith("preparación de la noche") and f"al corte {last} en" in t
               for t in texts), texts
    _print_status(status(state))
    assert f"segmentos de actas al corte {last} en" in capsys.readouterr().out
    ed = load_election_dir(national)
    digests = {c["number"]: c["steps"]["build"]["digest"] for c in state_doc.cuts()
               if "publish" in c["steps"]}
    after = last + 1
    assert after in digests
    releases = {int(p.name.rsplit("-", 1)[1]): p for p in (root / "releases").iterdir()}
    alone = build_cut(ed, cut_time(ed.proceso, after), load_signer(tmp_path / "keys"),
                      tmp_path / "alone", previous=releases[last], ejercicio="simulacro-1",
                      not_before=load_manifest(releases[after]).not_before)
    assert alone.digest == digests[after]
