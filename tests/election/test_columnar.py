"""The columnar engine gives exactly what the row engine gives: figures at every level and the
database's bytes, on generated nights (hypothesis), on a synthetic night, and through the CLI;
files it does not take plainly go to the row engine, bad rows are still reported with their line.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepcast.cli import main
from prepcast.election import load_election_dir, tally_cut
from prepcast.election.acta import Acta, Mark, Status
from prepcast.election.catalog import CASILLA_COLUMNS, read_proceso
from prepcast.election.columnar import load_columns, tally_columns
from prepcast.election.feed import write_feed
from prepcast.election.schedule import cut_time
from prepcast.formats.write_prep_csv import build_databases
from prepcast.formats.write_prep_csv_columns import build_databases_columns
from tests.examples import examples

TZ = timezone(timedelta(hours=-6))
START = datetime(2024, 6, 2, 20, 0, tzinfo=TZ)
NCOLS = 6  # PAN, PRI, PAN-PRI, CI_1, NO_REGISTRADAS, NULOS


def _toml(rules: str) -> str:
    elections = ""
    for eid, ambito in (("DIP", "distrito"), ("AYU", "municipio"), ("GOB", "entidad")):
        elections += (f'[[elecciones]]\nid = "{eid}"\nnombre = "Elección {eid}"\nambito = "{ambito}"\n'
                      'partidos = ["PAN", "PRI"]\nindependientes = 1\n\n[[elecciones.alianzas]]\n'
                      'id = "VxM"\nnombre = "Va por México"\npartidos = ["PAN", "PRI"]\n\n')
    return (f'nombre = "p"\ninstitute = "IEEM"\nentidad_id = 15\nentidad = "MÉXICO, ESTADO"\n'
            f'year = 2024\nutc_offset = "-06:00"\nstart = 2024-06-02T20:00:00-06:00\n'
            f'end = 2024-06-03T20:00:00-06:00\ncut_minutes = 20\nrules = "{rules}"\n\n'
            '[[partidos]]\nid = "PAN"\nnombre = "PAN"\n\n[[partidos]]\nid = "PRI"\nnombre = "PRI"\n\n'
            + elections)


field = st.one_of(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400),
                  st.sampled_from([Mark.ILEGIBLE, Mark.SIN_DATO, Mark.NO_APLICA]))


@st.composite
def election_dirs(draw: st.DrawFn) -> tuple[str, list[list[str]], dict[str, list[Acta]]]:
    rules = draw(st.sampled_from(["ine-2023", "qroo-2019"]))
    n = draw(st.integers(1, 20))
    casillas = []
    for i in range(n):
        seccion = draw(st.integers(1, 6))
        only = draw(st.sampled_from(["", "", "DIP", "AYU;GOB"]))  # ELECCIONES: "" is every one
        casillas.append([
            "15", str(1 + seccion % 3), f"Distrito {1 + seccion % 3}", str(1 + seccion % 2),
            draw(st.sampled_from(["Toluca", "Ecatepec, de Morelos", 'El "Oro"'])), str(seccion),
            draw(st.sampled_from("BCES")), str(i + 1), "0", "1", str(draw(st.integers(0, 750))),
            str(draw(st.integers(0, 10))), "750", only])
    feeds: dict[str, list[Acta]] = {}
    for eid in ("DIP", "AYU", "GOB"):
        actas = []
        for c in casillas:
            for _ in range(draw(st.integers(0, 2))):  # 0: never arrives; 2: a recapture
                status = draw(st.sampled_from([Status.CAPTURADA] * 6 + [Status.SIN_ACTA,
                                                                       Status.FUERA_CATALOGO]))
                minute = draw(st.integers(-30, 1500))
                actas.append(Acta(
                    eid, int(c[5]), c[6], int(c[7]), 0, status, START + timedelta(minutes=minute),
                    votes=tuple(draw(field) for _ in range(NCOLS)),
                    sin_acta_motivo=draw(st.sampled_from([None, 1, 2, 3]))
                    if status is Status.SIN_ACTA else None,
                    total_asentado=draw(field), codigo_integridad=draw(st.sampled_from(["", "ab"])),
                    captura=draw(st.sampled_from([None, START])), origen="CATD",
                    cotejada=draw(st.sampled_from([None, 1]))))
        if draw(st.booleans()):  # fuera de catálogo: a casilla number nobody approved
            actas.append(Acta(eid, 1, "C", 99, 0, Status.CAPTURADA, START, distrito=2,
                              votes=tuple(0 for _ in range(NCOLS))))
        feeds[eid] = actas
    return rules, casillas, feeds


def _write(root: Path, rules: str, casillas: list[list[str]], feeds: dict[str, list[Acta]]) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "capturas").mkdir(parents=True)
    (root / "candidaturas").mkdir()
    (root / "election.toml").write_text(_toml(rules), encoding="utf-8")
    with (root / "casillas.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*CASILLA_COLUMNS, "ELECCIONES"])
        w.writerows(casillas)
    proceso = read_proceso(root / "election.toml")
    for e in proceso.elections:
        (root / "candidaturas" / f"{e.id}.csv").write_text(
            "ID_AMBITO,PARTIDO_CI,CANDIDATURA_PROPIETARIA,CANDIDATURA_SUPLENTE\n1,PAN,Ana,Bea\n",
            encoding="utf-8")
        if e.id != "GOB" or feeds[e.id]:  # GOB without a feed file when it has no record
            write_feed(root / "capturas" / f"{e.id}.csv", e, feeds[e.id])


def _same(root: Path, number: int, *, last: bool = False) -> None:
    ed = load_election_dir(root)
    ce = load_columns(root)
    assert ce is not None, "a plain election directory is read on columns"
    at = cut_time(ed.proceso, number)
    rows = tally_cut(ed.proceso, ed.casillas, ed.feeds, at, number=number, last=last)
    cols = tally_columns(ce, at, number=number, last=last)
    for eid, er in rows.elections.items():
        x = cols.elections[eid]
        assert x.preamble == er.preamble
        assert x.entidad == er.entidad
        assert x.ambitos == er.ambitos
        assert x.secciones == er.secciones
        assert x.ambito_names == er.ambito_names
        assert x.seccion_ambito == er.seccion_ambito
    assert [z.data for z in build_databases_columns(cols)] == [z.data for z in build_databases(rows)]


# 20 generated nights (each on both engines, about 0.25 s of CPU): the synthetic night and the CLI
# below cover the large case
@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(election_dirs(), st.integers(1, 73))
def test_columns_equal_rows_on_generated_nights(
        tmp_path: Path, night: tuple[str, list[list[str]], dict[str, list[Acta]]], number: int) -> None:
    rules, casillas, feeds = night
    root = tmp_path / "e"
    _write(root, rules, casillas, feeds)
    _same(root, number, last=number == 73)


def test_columns_equal_rows_on_a_synthetic_night(small_election: Path) -> None:
    for n in (1, 12, 40, 73):
        _same(small_election, n, last=n == 73)


def _copy(small_election: Path, tmp_path: Path) -> Path:
    root = tmp_path / "e"
    shutil.copytree(small_election, root)
    return root


def test_cli_database_build_same_bytes_on_columns_and_rows(small_election: Path, tmp_path: Path) -> None:
    root = _copy(small_election, tmp_path)
    assert main(["database", "build", str(root), "--at", "2024-06-03T20:00", "--out",
                 str(tmp_path / "cols")]) == 0
    feed = root / "capturas" / "AYUN.csv"
    feed.write_bytes(feed.read_bytes() + b"2024-06-02T21:00:00-06:00,CAPTU")  # still being written
    assert load_columns(root) is None  # read on rows, which leave the partial line for later
    assert main(["database", "build", str(root), "--at", "2024-06-03T20:00", "--out",
                 str(tmp_path / "rows")]) == 0
    names = sorted(p.name for p in (tmp_path / "cols").iterdir())
    assert len(names) == 4
    for name in names:
        assert (tmp_path / "cols" / name).read_bytes() == (tmp_path / "rows" / name).read_bytes()


@pytest.mark.parametrize("bad", [
    ("capturas/DIP_LOC.csv", ",CAPTURADA,", ",CAPTURADX,", "ESTADO"),
    ("capturas/AYUN.csv", ",CAPTURADA,", ",CAPTURADA, ", None),  # spaces: rows strip them
    ("casillas.csv", "\n15,", "\n15 ,", None),
])
def test_unusual_files_go_to_the_row_engine(small_election: Path, tmp_path: Path,
                                            bad: tuple[str, str, str, str | None],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    name, old, new, field_name = bad
    root = _copy(small_election, tmp_path)
    path = root / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 3), encoding="utf-8")
    assert load_columns(root) is None
    status = main(["database", "build", str(root), "--at", "2024-06-03T20:00", "--out",
                   str(tmp_path / "out")])
    if field_name is None:  # accepted by the row readers
        assert status == 0
        return
    assert status == 2
    err = capsys.readouterr().err
    assert err.count(f": {field_name}: ") == 3 and f"{path}:" in err  # every bad row, with line
    assert "Traceback" not in err


def test_spellings_both_readers_take_give_the_same_bytes(small_election: Path,
                                                        tmp_path: Path) -> None:
    """Vote fields written as the database does not print them (leading zeros, other cases of
    Ilegible and Sin dato, an empty quoted field) and text fields that need quoting are read on
    columns and printed as the row engine prints them."""
    root = _copy(small_election, tmp_path)
    path = root / "capturas" / "AYUN.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    votes = range(head.index("TOTAL_BOLETAS_SOBRANTES"), head.index("MECANISMOS_TRASLADO"))
    spell = {"Ilegible": "ILEGIBLE", "Sin dato": "sin_dato"}
    for i, row in enumerate(rows[1:]):
        for k in votes:
            v = row[k]
            row[k] = spell.get(v, "0" + v if v.isdigit() and i % 3 == 0 else v)
        if i % 5 == 0:
            row[head.index("MECANISMOS_TRASLADO")] = 'Ruta "A", B'
        if i % 7 == 0:
            row[votes[-1]] = "EMPTY"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    path.write_bytes(path.read_bytes().replace(b",EMPTY,", b',"",'))
    data = path.read_bytes()
    assert all(x in data for x in (b",ILEGIBLE,", b",sin_dato,", b',"",', b',"Ruta ""A"", B",'))
    for n in (12, 73):
        _same(root, n, last=n == 73)


def test_a_registration_before_1970_is_tallied_as_on_rows(small_election: Path,
                                                          tmp_path: Path) -> None:
    """Regression: the last record of an acta was chosen on its registration time shifted into
    one number, which DuckDB refuses for a time before 1970 (a traceback, no database)."""
    root = _copy(small_election, tmp_path)
    path = root / "capturas" / "AYUN.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    rows[1][head.index("FECHA_HORA_REGISTRO")] = "1969-12-30T19:46:07-06:00"
    again = list(rows[1])   # captured again at the same instant: the later record in the feed
    votes = head.index("TOTAL_VOTOS_ASENTADO")
    again[votes] = str(int(again[votes]) + 1) if again[votes].isdigit() else "7"
    rows.insert(2, again)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert load_columns(root) is not None   # read on columns
    _same(root, 1)   # both records already registered by the first cut


@pytest.mark.parametrize(("column", "value", "field_name"), [
    ("FECHA_HORA_REGISTRO", "2024-06-31T21:00:00-06:00", "FECHA_HORA_REGISTRO"),  # no 31 June
    ("FECHA_HORA_REGISTRO", "2024-06-02 21:00", None),  # no seconds: the row reader reads it
    ("FECHA_HORA_ACOPIO", "2024-06-31T21:00:00", "FECHA_HORA_ACOPIO"),
    ("FECHA_HORA_VERIFICACION", "2024-06-02T24:00:00", "FECHA_HORA_VERIFICACION"),
    ("SECCION", "12a", "SECCION"),
    ("ID_CASILLA", "+1", "ID_CASILLA"),
    ("ID_DISTRITO_LOCAL", "x", "ID_DISTRITO_LOCAL"),
    ("SIN_ACTA_MOTIVO", "7", None),  # taken by the row reader: not by the columns
    ("CODIGO_INTEGRIDAD", " abc", None),  # spaces around: the row reader strips them
    ("ORIGEN", "CATD\x0b", None),
])
def test_each_check_of_the_feed_sends_the_file_to_the_rows(
        small_election: Path, tmp_path: Path, column: str, value: str, field_name: str | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every check made while the feed's table is stored refuses its row: the file is read on
    rows, which report the bad field of each row with its line (or read it)."""
    root = _copy(small_election, tmp_path)
    path = root / "capturas" / "AYUN.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for row in rows[1:4]:
        row[rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert load_columns(root) is None
    if field_name is None:   # the row reader takes it
        load_election_dir(root)
        return
    status = main(["database", "build", str(root), "--at", "2024-06-03T20:00", "--out",
                   str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert status == 2
    assert err.count(f": {field_name}: ") == 3 and f"{path}:" in err


@pytest.mark.parametrize("chunk", [8, 9, 10, 11, 1 << 20])
@pytest.mark.parametrize("data", [
    b"", b"A,B\n", b"A,B\r\n1,2\r\n3,4\r\n5,6\r\n", b"A,B\n1,\"2\"\n3,4", b"A,B\r1,2\n",
    b"A,B\r\n\r\r\n\r\n\r\r\n", "\ufeffA,B\n\u00e1,2\n\u00e9,3\n".encode(), b"A,\xff\n1,2\n",
])
def test_a_file_scanned_in_pieces_as_if_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              chunk: int, data: bytes) -> None:
    """Lines, lone carriage returns (one piece may end on the CR of a CRLF), quotes and the
    header come out the same whatever the size of the pieces the file is read in."""
    import prepcast.election._columns_read as reader

    path = tmp_path / "f.csv"
    path.write_bytes(data)
    monkeypatch.setattr(reader, "_CHUNK", chunk)
    scan = reader._scan(path)
    assert scan is not None
    assert scan.size == len(data)
    assert scan.lines == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    assert scan.lone_cr == (data.count(b"\r") != data.count(b"\r\n"))
    assert scan.quotes == (b'"' in data)
    assert scan.ends_with_newline == data.endswith(b"\n")
    try:
        header = next(csv.reader([data.split(b"\n")[0].decode("utf-8-sig").rstrip("\r")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        header = None
    assert scan.header == header
    monkeypatch.setattr(reader, "_CHUNK", 2)
    assert data.find(b"\n") in (-1, 0, 1) or reader._scan(path) is None  # a longer first line
