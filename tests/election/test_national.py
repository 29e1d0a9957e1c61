"""A national proceso (INE's federal elections): casillas that carry their entidad, ámbitos keyed
with it, the same figures on rows and on columns, and the database in INE's federal layout."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import Ambito, NightTally, load_election_dir, tally_cut
from prepcast.election.acta import Status
from prepcast.election.columnar import load_columns, tally_columns
from prepcast.election.schedule import cut_time
from prepcast.election.synthetic import generate
from prepcast.errors import InputError
from prepcast.formats.write_prep_csv import NACIONAL_ID_COLUMNS
from prepcast.formats.write_prep_csv_columns import build_databases_columns
from tests.election.test_columnar import _same
from tests.election.trees import tree_digest
from tests.once import made_once


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "nacional-small-3",
                     lambda d: generate("nacional-small", 3, d / "e"))


def test_same_seed_same_bytes(national: Path, tmp_path: Path) -> None:
    assert tree_digest(generate("nacional-small", 3, tmp_path / "a")) == tree_digest(national)
    assert tree_digest(generate("nacional-small", 4, tmp_path / "b")) != tree_digest(national)


def test_the_model_holds_entidades_below_the_nation(national: Path) -> None:
    ed = load_election_dir(national)
    p = ed.proceso
    assert p.nacional and p.entidad_id == 0
    assert [(e.id, e.ambito) for e in p.elections] == [
        ("PRES", Ambito.NACIONAL), ("SEN", Ambito.ENTIDAD), ("DIP_FED", Ambito.DISTRITO)]
    assert {c.entidad_id for c in ed.casillas} == {9, 15, 28}
    # secciones are numbered within each entidad: the same number in two entidades
    numbers = {(c.entidad_id, c.seccion) for c in ed.casillas}
    assert (9, 1) in numbers and (15, 1) in numbers
    r = tally_cut(p, ed.casillas, ed.feeds, cut_time(p, 73), number=73, last=True)
    pres, sen, dip = (r.elections[x] for x in ("PRES", "SEN", "DIP_FED"))
    assert list(pres.ambitos) == [0]
    assert sen.ambito_names == {9: "CIUDAD DE MÉXICO", 15: "MÉXICO", 28: "TAMAULIPAS"}
    assert sorted(dip.ambitos) == [901, 902, 1501, 1502, 1503, 2801]
    assert 90001 in dip.secciones and 150001 in dip.secciones
    assert dip.seccion_ambito[150001] == 1501
    # every level is the sum of the one below, across entidades
    assert sum(t.esperadas for t in sen.ambitos.values()) == pres.entidad.esperadas == len(ed.casillas)
    assert sum(t.total_votos for t in dip.ambitos.values()) == dip.entidad.total_votos
    # fuera de catálogo actas name their entidad
    fuera = [a for a in ed.feeds["PRES"] if a.status is Status.FUERA_CATALOGO]
    assert fuera and all(a.entidad in (9, 15, 28) for a in fuera)


def test_columns_equal_rows(national: Path) -> None:
    for n in (1, 9, 30, 73):
        _same(national, n, last=n == 73)


def test_night_tally_equals_a_full_tally(national: Path) -> None:
    ed = load_election_dir(national)
    night = NightTally(ed.proceso, ed.casillas, ed.feeds)
    for n in (3, 8, 20, 73):
        at = cut_time(ed.proceso, n)
        a = night.cut(at, number=n, last=n == 73)
        b = tally_cut(ed.proceso, ed.casillas, ed.feeds, at, number=n, last=n == 73)
        for eid, er in b.elections.items():
            x = a.elections[eid]
            assert (x.preamble, x.entidad, x.ambitos, x.secciones) == (
                er.preamble, er.entidad, er.ambitos, er.secciones)


def test_database_in_the_federal_layout_recounts_to_its_preamble(national: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    ce = load_columns(national)
    assert ce is not None
    cut = tally_columns(ce, cut_time(ce.proceso, 73), number=73, last=True)
    zips = {z.eleccion: z for z in build_databases_columns(cut)}
    with zipfile.ZipFile(io.BytesIO(zips["DIP_FED"].data)) as z:
        text = z.read("DIP_FED_2024.csv").decode("utf-8-sig")
        cands = z.read("DIP_FED_2024_CANDIDATURAS.csv").decode("utf-8-sig")
        leeme = z.read("LEEME.txt").decode("utf-8")
    assert "ID_DISTRITO_FEDERAL - Número del distrito electoral federal." in leeme
    assert "MUNICIPIO" not in leeme and "DISTRITO_LOCAL" not in leeme
    lines = text.split("\r\n")
    assert lines[6].split(",")[:len(NACIONAL_ID_COLUMNS)] == list(NACIONAL_ID_COLUMNS)
    entidades = {line.split(",")[3] for line in lines[7:] if line}
    assert entidades == {"CIUDAD DE MÉXICO", "MÉXICO", "TAMAULIPAS"}
    assert cands.startswith("ID_ENTIDAD,ID_DISTRITO_FEDERAL,PARTIDO_CI")
    path = tmp_path / "DIP_FED_2024.csv"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["results", "recount", str(path), "--last-cut", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"rows_mismatched": 0' in out
    pre = cut.elections["DIP_FED"].preamble.as_dict()
    for k, v in pre.items():
        assert f'"{k}": {v}' in out or f'"{k}": "{v}"' in out


def test_a_national_catalog_needs_its_columns_and_real_entidades(national: Path,
                                                                 tmp_path: Path) -> None:
    root = tmp_path / "e"
    root.mkdir()
    for p in national.rglob("*"):
        if p.is_file():
            dest = root / p.relative_to(national)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(p.read_bytes())
    cas = root / "casillas.csv"
    text = cas.read_text(encoding="utf-8")
    cas.write_text(text.replace("\n28,TAMAULIPAS,", "\n40,TAMAULIPAS,", 1), encoding="utf-8")
    assert load_columns(root) is None
    with pytest.raises(InputError) as exc:
        load_election_dir(root, with_feeds=False)
    assert "entidad 40 is not an entidad federativa" in str(exc.value)
    cas.write_text(text.replace("ID_DISTRITO_FEDERAL", "ID_DISTRITO_LOCAL"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_election_dir(root, with_feeds=False)
    assert "missing column(s) ID_DISTRITO_FEDERAL" in str(exc.value)


def test_ambito_nacional_needs_a_national_proceso(national: Path, tmp_path: Path) -> None:
    root = tmp_path / "e"
    root.mkdir()
    toml = (national / "election.toml").read_text(encoding="utf-8")
    (root / "election.toml").write_text(toml.replace("entidad_id = 0", "entidad_id = 15"),
                                        encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_election_dir(root, with_feeds=False)
    assert "ambito nacional (PRES) needs a national proceso" in str(exc.value)


@pytest.mark.slow
def test_ine_2024_is_shaped_like_the_federal_election(tmp_path: Path) -> None:
    """The whole profile (about 505,000 acta records) in seconds, with the rates of the others."""
    import _duckdb as duckdb

    root = generate("ine-2024", 1, tmp_path / "e")
    con = duckdb.connect()
    cas = str(root / "casillas.csv")
    entidades, distritos, casillas, especiales = con.execute(
        "SELECT count(DISTINCT ID_ENTIDAD), count(DISTINCT (ID_ENTIDAD, ID_DISTRITO_FEDERAL)), "
        f"count(*), count(*) FILTER (TIPO_CASILLA = 'S') FROM read_csv('{cas}', all_varchar=true)"
    ).fetchone() or (0, 0, 0, 0)
    assert (entidades, distritos) == (32, 300)
    assert 160_000 <= casillas <= 180_000 and especiales == 900
    total = 0
    for eid in ("PRES", "SEN", "DIP_FED"):
        feed = str(root / "capturas" / f"{eid}.csv")
        n, sin_acta, fuera, todos_sd, todos_il, algun_sd, algun_il = con.execute(
            "SELECT count(*), count(*) FILTER (ESTADO = 'SIN_ACTA'), "
            "count(*) FILTER (ESTADO = 'FUERA_CATALOGO'), "
            "count(*) FILTER (ESTADO = 'CAPTURADA' AND PAN = 'Sin dato' AND MORENA = 'Sin dato' "
            "AND NULOS = 'Sin dato'), "
            "count(*) FILTER (ESTADO = 'CAPTURADA' AND PAN = 'Ilegible' AND NULOS = 'Ilegible'), "
            "count(*) FILTER (ESTADO = 'CAPTURADA' AND 'Sin dato' IN (PAN, PRI, PRD, MC, NULOS)), "
            "count(*) FILTER (ESTADO = 'CAPTURADA' AND 'Ilegible' IN (PAN, PRI, PRD, MC, NULOS)) "
            f"FROM read_csv('{feed}', all_varchar=true)").fetchone() or (0,) * 7
        total += n
        assert 0.97 * casillas <= n <= 0.99 * casillas  # 1.8 % never arrive
        assert 0.009 < sin_acta / n < 0.015
        assert casillas // 1200 * 0.9 < fuera <= casillas // 1200  # a few arrive too late
        assert 0.003 < todos_sd / n < 0.006 and 0.0005 < todos_il / n < 0.0016
        assert 0.05 < algun_sd / n < 0.2 and 0.002 < algun_il / n < 0.02
    assert 490_000 <= total <= 530_000
    ce = load_columns(root)
    assert ce is not None  # the plain form: read on columns
    cut = tally_columns(ce, ce.proceso.end, number=73, last=True)
    pre = cut.elections["DIP_FED"].preamble
    assert pre.actas_esperadas == casillas
    assert 0.15 < float(pre.porcentaje_actas_inconsistencias) / 100 < 0.25
    excede = ce.con.execute(
        f"SELECT count(*) FILTER (code LIKE 'E%') FROM {cut.elections['DIP_FED'].table}").fetchone()
    assert excede is not None and 0.003 < excede[0] / casillas < 0.008
