"""Write the PREP database of a cut tallied on columns: the same bytes as
:mod:`prepcast.formats.write_prep_csv`, each row formatted by SQL instead of Python.

The rows of a cut (table ``cut_<i>`` of :mod:`prepcast.election.columnar`) become one string in
DuckDB; Python only writes the title, the preamble and the header, as the row writer does.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import _duckdb as duckdb  # the engine alone: `import duckdb` adds 0.1 s to a 1 s command

from prepcast.election._columns_read import fields_text, pad_sql
from prepcast.election.columnar import (
    ColumnCut,
    ColumnElection,
    ColumnResults,
    observaciones_by_code,
)
from prepcast.election.model import Election, Proceso, display_time
from prepcast.election.rules import (
    PREAMBLE_FIELDS,
    Profile,
)
from prepcast.formats.write_prep_csv import (
    TAIL_COLUMNS,
    DatabaseZip,
    database_zip,
    id_columns,
)

_BOM = b"\xef\xbb\xbf"


def _csv_field(text: str) -> str:
    """A constant field as ``csv.writer`` writes it."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([text])
    return "" if text == "" else buf.getvalue()


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q(expr: str, quotes: str = "true") -> str:
    """SQL quoting a text column as ``csv.writer`` does (QUOTE_MINIMAL); ``quotes``: SQL false
    when the column's file has no quote character (then no field of it needs quoting)."""
    return (f"CASE WHEN NOT {quotes} THEN {expr} WHEN contains({expr}, ',') OR contains({expr}, "
            f"'\"') OR contains({expr}, chr(13)) OR contains({expr}, chr(10)) "
            f"THEN '\"' || replace({expr}, '\"', '\"\"') || '\"' ELSE {expr} END")


def _observaciones(profile: Profile) -> str:
    """SQL mapping the cut's evaluation code to OBSERVACIONES, each text made by the rules."""
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(_csv_field(text))}"
                     for k, text in observaciones_by_code(profile).items())
    return f"CASE code {whens} END"


def _when(name: str) -> str:
    """``dd/mm/yyyy HH:MM:SS`` from the ISO text as captured (its own wall time), or ``-``."""
    return (f"CASE WHEN {name} = '' THEN '-' ELSE concat(substr({name}, 9, 2), '/', "
            f"substr({name}, 6, 2), '/', substr({name}, 1, 4), ' ', substr({name}, 12, 8)) END")


# A feed's texts a database row writes as captured (quoted as csv.writer quotes them).
_TEXTS = ("tipo", "mecanismos", "codigo", "origen", "digitalizacion", "tipo_documento")


def _plain_texts(con: duckdb.DuckDBPyConnection, feed: str) -> set[str]:
    """The texts of ``feed`` no record of which needs quoting in a database row: written as
    they are, without a look at each value (one scan of the feed)."""
    checks = [f"NOT bool_or(contains({c}, ',') OR contains({c}, '\"') OR contains({c}, chr(13)) "
              f"OR contains({c}, chr(10)))" for c in _TEXTS]
    row = con.execute(f"SELECT {', '.join(checks)} FROM {feed}").fetchone()
    # an empty feed: NULLs (no row to write)
    return {c for c, ok in zip(_TEXTS, row or (), strict=True) if ok is not False}


# The cut's rows gathered in pieces of this many casillas (by their place ``o``), each piece
# one string: a single string of 50 MB grows by copies and is copied again on its way out,
# each time into memory touched for the first time (page faults were a third of the time).
_PIECE = 8192


def _gathered(line: str, source: str) -> str:
    """SQL: the rows ``line`` of ``source`` (which has the cut's ``o``), with their line
    breaks, in order, in pieces (:data:`_PIECE`): one text per row of the answer."""
    return (f"SELECT encode(string_agg({line}, '' ORDER BY r.o)) FROM {source} "
            f"GROUP BY r.o // {_PIECE} ORDER BY r.o // {_PIECE}")


def _rows_sql(cut: ColumnCut, er: ColumnResults, plain: set[str]) -> str:
    """SQL: the cut's rows of the database, in order, in pieces (``plain``: see
    :func:`_plain_texts`)."""
    line, joins = _line_sql(cut.proceso, er.election, cut.columns.profile, plain)
    return _gathered(
        f"{line} || chr(13) || chr(10)",
        f"(SELECT f.*, x.part, x.o, x.cn, x.code, x.contabilizada "
        f"FROM {er.table} x JOIN {er.feed} f ON f.n = x.fn) r {joins}")


_CASILLAS = "cas_csv"


def _casillas_table(proceso: Proceso, con: duckdb.DuckDBPyConnection) -> None:
    """Table ``cas_csv``: each casilla's columns of the database that do not depend on the
    election, formatted once for every election and cut."""
    ent = _lit(str(proceso.entidad_id))
    entidad = _lit(_csv_field(proceso.entidad))
    # a national proceso: INE's federal layout, each row with its own entidad, no municipio
    place = (["CAST(c.ent AS VARCHAR)", _q("c.entidad_nombre"), "CAST(c.distrito AS VARCHAR)",
              _q("c.distrito_nombre")] if proceso.nacional else
             [ent, entidad, "CAST(c.distrito AS VARCHAR)", _q("c.distrito_nombre"),
              "CAST(c.municipio AS VARCHAR)", _q("c.municipio_nombre")])
    ident = [*place, pad_sql("c.seccion", 4), pad_sql("c.numero", 2), "c.tipo",
             pad_sql("c.ext", 2), "CAST(c.ubicacion AS VARCHAR)"]
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {_CASILLAS} AS SELECT n, clave, "
        f"concat_ws(',', {', '.join(ident)}) AS ident, "
        "CAST(lista_nominal AS VARCHAR) AS lista_nominal, "
        "CAST(representantes AS VARCHAR) AS representantes FROM cas c")


def _line_sql(proceso: Proceso, e: Election, profile: Profile, plain: set[str]
              ) -> tuple[str, str]:
    """SQL of one row of the database of election ``e`` over ``r`` (a record with its
    evaluation), and the joins it needs (table ``cas_csv`` made first: :func:`_casillas_table`);
    ``plain``: the texts written as they are (:func:`_plain_texts`)."""
    nv = len(e.columns)
    nacional = proceso.nacional
    ent = _lit(str(proceso.entidad_id))
    entidad = _lit(_csv_field(proceso.entidad))
    tipo_acta = _csv_field(e.tipo_acta)
    obs = _observaciones(profile)
    ident = ["concat('''', c.clave, '''')", f"concat('''', c.clave, {_lit(e.tipo_acta + chr(39))})",
             "c.ident", _lit(tipo_acta)]

    def q(expr: str) -> str:
        return expr if expr.removeprefix("r.") in plain else _q(expr, "r.quotes")

    normal = [
        *ident, fields_text("r"), "CAST(r.total AS VARCHAR)", "c.lista_nominal",
        "c.representantes", obs, "CAST(r.contabilizada AS VARCHAR)", q("r.mecanismos"),
        f"CASE WHEN r.codigo = '' THEN '-' ELSE {q('r.codigo')} END", _when("r.acopio"),
        _when("r.captura"), _when("r.verificacion"), q("r.origen"), q("r.digitalizacion"),
        q("r.tipo_documento"),
        "CASE WHEN r.cotejada = '' THEN '-' ELSE CAST(CAST(r.cotejada AS BIGINT) AS VARCHAR) END",
    ]
    sin_acta = [
        *ident, *(["'Sin acta'"] * (4 + nv + 1)), "'0'", "c.lista_nominal",
        "c.representantes", obs, "'0'", q("r.mecanismos"), "'-'", "'-'", "'-'",
        "'-'", f"CASE WHEN r.origen = '' THEN 'CATD' ELSE {q('r.origen')} END",
        f"CASE WHEN r.digitalizacion = '' THEN '-' ELSE {q('r.digitalizacion')} END", "'-'", "'0'",
    ]

    def dash_if_zero(col: str) -> str:
        return (f"CASE WHEN coalesce(try_cast(r.{col} AS BIGINT), 0) = 0 THEN '-' "
                f"ELSE CAST(try_cast(r.{col} AS BIGINT) AS VARCHAR) END")

    where = (["CAST(r.entidad_n AS VARCHAR)", f"coalesce({_q('en.entidad_nombre')}, '-')",
              dash_if_zero("distrito"), "'-'"] if nacional
             else [ent, entidad, dash_if_zero("distrito"), "'-'", dash_if_zero("municipio"), "'-'"])
    fuera = [
        "'-'", "'-'", *where, "printf('%04d', r.seccion_n)", "printf('%02d', r.numero_n)", q("r.tipo"),
        "printf('%02d', r.ext_n)", "'3'", "'-'", *(["'-'"] * (4 + nv + 4)), obs, "'2'",
        "'-'", "'-'", "'-'", "'-'", "'-'",
        f"CASE WHEN r.origen = '' THEN '-' ELSE {q('r.origen')} END",
        f"CASE WHEN r.digitalizacion = '' THEN '-' ELSE {q('r.digitalizacion')} END", "'-'", "'-'",
    ]

    def line(parts: list[str]) -> str:
        return "concat_ws(',', " + ", ".join(parts) + ")"

    return (
        f"CASE WHEN r.part = 1 THEN {line(fuera)} WHEN r.estado = 'SIN_ACTA' THEN {line(sin_acta)} "
        f"ELSE {line(normal)} END",
        f"LEFT JOIN {_CASILLAS} c ON c.n = r.cn"
        + (" LEFT JOIN (SELECT ent, any_value(entidad_nombre) AS entidad_nombre FROM cas "
           "GROUP BY ent) en ON en.ent = r.entidad_n" if nacional else ""))


def database_csv_columns(cut: ColumnCut, eid: str,
                         con: duckdb.DuckDBPyConnection | None = None, *,
                         lines: str | None = None) -> bytes:
    """The database of one election of the cut; ``lines``: a table of every record's row with
    its line break (:class:`ColumnDatabaseWriter`), gathered instead of formatting the cut's
    rows."""
    er = cut.elections[eid]
    e = er.election
    buf = io.StringIO()
    buf.write(f"{e.titulo}\r\n{display_time(cut.at)}\r\n\r\n")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(PREAMBLE_FIELDS)
    w.writerow(er.preamble.as_row())
    buf.write("\r\n")
    w.writerow([*id_columns(cut.proceso), *e.column_ids, *TAIL_COLUMNS])
    con = con or cut.columns.con
    sql = _rows_sql(cut, er, _plain_texts(con, er.feed)) if lines is None else _gathered(
        "l.line", f"{er.table} r JOIN {lines} l ON l.fn = r.fn")
    return b"".join([_BOM, buf.getvalue().encode("utf-8"),
                     *(piece for piece, in con.execute(sql).fetchall())])


def build_databases_columns(cut: ColumnCut, ejercicio: str = "jornada") -> list[DatabaseZip]:
    """The database zips of every election of a cut tallied on columns."""
    return _build(cut, {}, ejercicio)


def _build(cut: ColumnCut, lines: dict[str, str], ejercicio: str = "jornada"
           ) -> list[DatabaseZip]:
    with cut.columns.con.cursor() as con:  # a cursor of its own: the site may run beside it
        _casillas_table(cut.proceso, con)

    def build(eid: str) -> DatabaseZip:
        er = cut.elections[eid]
        ent = cut.proceso.entidad_id if er.entidad.esperadas else 0
        with cut.columns.con.cursor() as cur:  # one per thread: DuckDB runs them side by side
            data = database_csv_columns(cut, eid, cur, lines=lines.get(eid))
        return database_zip(cut.proceso, er.election, cut.at, ent, data, ejercicio)

    with ThreadPoolExecutor(max_workers=len(cut.elections)) as pool:
        return list(pool.map(build, cut.elections))


class ColumnDatabaseWriter:
    """Writes the databases of the cuts of one night tallied on columns (one
    :class:`~prepcast.election.columnar.ColumnElection`): every record's row is formatted once
    (:meth:`prepare`, or the first time it is needed), and each cut gathers the rows of the
    records it holds. The same bytes as :func:`build_databases_columns`."""

    def __init__(self, ejercicio: str = "jornada") -> None:
        self.ejercicio = ejercicio  # a drill's databases say so (LEEME, zip comment)
        self._lines: dict[str, str] = {}

    def prepare(self, ce: ColumnElection) -> None:
        """Format every record's row of every election of ``ce`` now (a night does it before
        its first cut is due), each election on a thread of its own."""
        with ce.con.cursor() as con:
            _casillas_table(ce.proceso, con)
        for i in range(len(ce.proceso.elections)):
            ce.catalog(i)  # on this thread: the tables the records' rows read
        with ThreadPoolExecutor(max_workers=len(ce.proceso.elections)) as pool:
            list(pool.map(lambda e: self._lines_of(ce, e), ce.proceso.elections))

    def _lines_of(self, ce: ColumnElection, e: Election) -> None:
        """Table ``lines_e<i>``: every record of election ``e`` with its row (made once)."""
        if e.id in self._lines:
            return
        evaluated = ce.record_evaluations(e.id)
        feed = ce.table(e.id)  # the election's feed
        with ce.con.cursor() as con:  # one per thread: DuckDB runs them side by side
            line, joins = _line_sql(ce.proceso, e, ce.profile, _plain_texts(con, feed))
            table = f"lines_{feed}"
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT r.n AS fn, "
                f"concat({line}, chr(13), chr(10)) AS line "
                f"FROM (SELECT f.*, x.part, x.cn, x.code, x.contabilizada FROM "
                f"{evaluated} x JOIN {feed} f ON f.n = x.fn) r {joins}")
        self._lines[e.id] = table

    def build(self, cut: ColumnCut) -> list[DatabaseZip]:
        ce = cut.columns
        with ce.con.cursor() as con:  # a cursor of its own: the site may run beside it
            _casillas_table(cut.proceso, con)
        for er in cut.elections.values():
            self._lines_of(ce, er.election)
        return _build(cut, self._lines, self.ejercicio)
