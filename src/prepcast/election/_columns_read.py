"""The catalog and the capture feeds read into DuckDB tables, one column per field.

The row readers (:mod:`prepcast.election.catalog`, :mod:`prepcast.election.feed`) define what a
file means and how its problems are reported. The readers here take the same files on columns,
but only the plain, canonical subset of what the row readers accept (ASCII digits, ISO date-times
with seconds, no spaces around fields, one record per line). Anything else — a bad row, an
unusual spelling the row reader still accepts, a record still being written — answers ``False``,
and the caller falls back to the row readers, which read the file exactly or report every
problem with its line.

Each file is read in one pass (``read_csv`` into the final table; the row's position in the file
is its ``n``); a feed's checks are made in that pass (its column ``bad``), the catalog's by one
query afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

import _duckdb as duckdb  # the engine alone: `import duckdb` adds 0.1 s to a 1 s command

from prepcast.election.catalog import TIPOS, casilla_columns
from prepcast.election.feed import HEAD, feed_header
from prepcast.election.model import Election, Proceso

_INT = "[0-9]{1,15}"  # a whole number whose sums stay exact in 64 bits
_TIME = r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_OFFSET = "[+-][0-9]{2}:[0-9]{2}"
# Spaces str.strip() removes, and line breaks str.splitlines() knows besides \n and \r\n: a field
# with either is left to the row readers.
_SPACE = (r"\t\x{0b}\x{0c}\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
          r"\x{202f}\x{205f}\x{3000}")
_ODD = f"(^[{_SPACE}]|[{_SPACE}]$|[\\x{{0b}}\\x{{0c}}\\x{{1c}}-\\x{{1e}}\\x{{85}}\\x{{2028}}\\x{{2029}}\\r\\n])"


def sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Scan:
    """What the readers need to know of a file before DuckDB reads it, found in one pass over
    pieces of it (the whole file is never held: a copy of 50 MB in fresh memory costs more
    than counting)."""

    size: int
    header: list[str] | None  # its first line's fields (None: not CSV in UTF-8)
    lines: int  # as str.splitlines() counts them with \n and \r\n alone
    lone_cr: bool  # a carriage return without its line feed
    quotes: bool  # a quote character anywhere
    ends_with_newline: bool


def _scan(path: Path) -> _Scan | None:
    """One pass over ``path`` (None: it does not read, or its first line is longer than a
    piece)."""
    size = newlines = crs = crlfs = 0
    quotes = False
    first: bytes | None = None
    last = b""
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                if first is None:
                    end = chunk.find(b"\n")
                    if end < 0 and len(chunk) == _CHUNK:
                        return None
                    first = chunk if end < 0 else chunk[:end]
                size += len(chunk)
                newlines += chunk.count(b"\n")
                quotes = quotes or b'"' in chunk
                if b"\r" in chunk:
                    crs += chunk.count(b"\r")
                    crlfs += chunk.count(b"\r\n")
                crlfs += last == b"\r" and chunk[:1] == b"\n"  # one across two pieces
                last = chunk[-1:]
    except OSError:
        return None
    header = None
    with contextlib.suppress(UnicodeDecodeError, StopIteration, csv.Error):
        header = next(csv.reader([(first or b"").decode("utf-8-sig").rstrip("\r")]))
    ends = last == b"\n"
    return _Scan(size, header, newlines + (0 if ends else 1), crs != crlfs, quotes, ends)


def _read_csv(path: Path, ncols: int) -> str:
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    return (f"read_csv({sql_text(str(path))}, columns={cols}, header=true, auto_detect=false, "
            "delim=',', quote='\"', escape='\"', strict_mode=true)")


def _odd(columns: list[str]) -> str:
    """SQL true when a field has spaces around it or an odd line break inside."""
    return " OR ".join(f"coalesce(regexp_matches({c}, '{_ODD}'), false)" for c in columns)


def _first(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[object, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def load_casillas(con: duckdb.DuckDBPyConnection, path: Path, proceso: Proceso) -> bool:
    """Table ``cas``: the catalog, one row per casilla in file order (``n``)."""
    scan = _scan(path)
    if scan is None or scan.header is None or scan.lone_cr:
        return False
    header = [h.strip() for h in scan.header]
    nacional = proceso.nacional
    if any(c not in header for c in casilla_columns(proceso)) or len(set(header)) != len(header):
        return False
    ix = {h: f"c{i}" for i, h in enumerate(header)}
    dist = "FEDERAL" if nacional else "LOCAL"
    nums = {"ID_ENTIDAD": "ent", f"ID_DISTRITO_{dist}": "distrito", "ID_MUNICIPIO": "municipio",
            "SECCION": "seccion", "ID_CASILLA": "numero", "EXT_CONTIGUA": "ext",
            "UBICACION_CASILLA": "ubicacion", "LISTA_NOMINAL": "lista_nominal",
            "REPRESENTANTES_PP_CI": "representantes", "BOLETAS_ESPECIAL": "boletas_especial"}
    # a national catalog's secciones and distritos are numbered within their entidad
    entidad_nombre = (f"coalesce({ix['ENTIDAD']}, '')" if nacional
                      else sql_text(proceso.entidad))
    seccion_key = "ent * 10000 + seccion" if nacional else "seccion"
    wrong_entidad = "NOT ent BETWEEN 1 AND 32" if nacional else f"ent <> {int(proceso.entidad_id)}"
    elecciones = f"coalesce({ix['ELECCIONES']}, '')" if "ELECCIONES" in ix else "''"
    ok = " AND ".join(f"regexp_full_match(coalesce({ix[k]}, ''), '{_INT}')" for k in nums)
    tipos = ", ".join(sql_text(t) for t in sorted(TIPOS))
    # a number or tipo that matches its pattern has no space around it: only the other fields
    # are looked at for spaces and odd line breaks
    free = [c for h, c in ix.items() if h not in nums and h != "TIPO_CASILLA"]
    known = ", ".join(sql_text(e.id) for e in proceso.elections)
    try:
        # each number read once, in a query of its own (an alias used again in the same select
        # list is computed again each time)
        con.execute(
            f"CREATE OR REPLACE TABLE cas AS SELECT n, {', '.join(nums.values())}, "
            f"coalesce({ix[f'DISTRITO_{dist}']}, '') AS distrito_nombre, "
            f"{entidad_nombre} AS entidad_nombre, {seccion_key} AS seccion_key, "
            f"coalesce({ix['MUNICIPIO']}, '') AS municipio_nombre, "
            f"coalesce({ix['TIPO_CASILLA']}, '') AS tipo, "
            f"CASE WHEN {elecciones} = '' THEN NULL ELSE string_split({elecciones}, ';') END "
            "AS elecciones, "
            f"{clave_sql('ent', 'seccion', 'tipo', 'numero', 'ext')} AS clave, "
            f"({ok}) AND tipo IN ({tipos}) AND NOT ({_odd(free)}) "
            f"AND NOT regexp_matches({elecciones}, '[{_SPACE}]') AS ok "
            "FROM (SELECT row_number() OVER () AS n, *, "
            + ", ".join(f"try_cast({ix[k]} AS BIGINT) AS {v}" for k, v in nums.items())
            + f" FROM {_read_csv(path, len(header))})")
    except duckdb.Error:
        return False
    rows, bad, wrong, distinct, unknown = _first(con, (
        "SELECT count(*), count(*) FILTER (NOT ok), "
        f"count(*) FILTER ({wrong_entidad}), count(DISTINCT clave), "
        "count(*) FILTER (len(list_filter(elecciones, lambda x: x NOT IN (''," + known + "))) > 0) "
        "FROM cas"))
    return rows == scan.lines - 1 and not bad and not wrong and distinct == rows and not unknown


def _kind(c: str) -> str:
    """A captured vote field's kind: n number, i Ilegible, s Sin dato, x - (NULL: none)."""
    return (f"CASE WHEN {c} IS NULL THEN 's' WHEN regexp_full_match({c}, '{_INT}') THEN 'n' "
            f"WHEN lower({c}) = 'ilegible' THEN 'i' WHEN lower({c}) IN ('sin dato', 'sin_dato', '') "
            f"THEN 's' WHEN {c} = '-' THEN 'x' END")


def _printed(c: str, number: str) -> str:
    """A vote field of known kind as the database prints it (``number``: its value or NULL)."""
    return (f"CASE WHEN {number} IS NOT NULL THEN CAST({number} AS VARCHAR) WHEN lower({c}) = "
            f"'ilegible' THEN 'Ilegible' WHEN {c} = '-' THEN '-' ELSE 'Sin dato' END")


def _with_offset(c: str, offset: str) -> str:
    """SQL: a date-time that matches ``_TIME(_OFFSET)?`` with the proceso's offset when it has
    none (with one, its sixth character from the end is the offset's sign)."""
    return f"CASE WHEN {c}[-6] IN ('+', '-') THEN {c} ELSE {c} || {sql_text(offset)} END"


def load_feed(con: duckdb.DuckDBPyConnection, table: str, path: Path | None,
              election: Election, proceso: Proceso) -> bool:
    """Table ``table``: the feed of one election (``path`` None: none yet), one row per record in
    file order (``n``), each vote's number ``v<k>_v`` (0 unless a number), the captured fields
    as printed (see :func:`fields_text`), and the counts the rules need."""
    nacional = proceso.nacional
    expected = feed_header(election, nacional=nacional)
    scan = None if path is None else _scan(path)
    if path is not None and scan is None:
        return False
    if scan is None or not scan.size:  # no records yet: the same table, empty
        with tempfile.TemporaryDirectory() as tmp:
            empty = Path(tmp) / "feed.csv"
            empty.write_text(",".join(expected) + "\n", encoding="utf-8")
            return load_feed(con, table, empty, election, proceso)
    if not scan.ends_with_newline:
        return False  # a record still being written: the row reader leaves it for the next read
    if scan.header != expected or scan.lone_cr:
        return False
    nv = len(election.columns)
    h, tail = len(HEAD), len(HEAD) + nv
    values = {"sobrantes": 9, "personas": 10, "representantes": 11, "sacados": 12,
              **{f"v{k}": h + k for k in range(nv)}, "asentado": tail}
    texts = {"estado": 1, "seccion": 2, "tipo": 3, "numero": 4, "ext": 5, "distrito": 6,
             "municipio": 7, "motivo": 8, "registro": 0, "mecanismos": tail + 1,
             "codigo": tail + 2, "acopio": tail + 3, "captura": tail + 4, "verificacion": tail + 5,
             "origen": tail + 6, "digitalizacion": tail + 7, "tipo_documento": tail + 8,
             "cotejada": tail + 9, **({"entidad": tail + 10} if nacional else {})}
    source = _read_csv(path, len(expected))  # type: ignore[arg-type]
    # the vote fields first taken as written in the database's own spelling (the usual case:
    # each field printed as written, with no work per field), checked in the same pass with one
    # pattern per row; otherwise each distinct value is classified once and the fields respelled
    try:
        con.execute(_feed_sql(table, source, values, texts, nacional, proceso, plain=True,
                             quotes=scan.quotes))
        rows, problems, respell = _first(con, (
            f"SELECT count(*), count(*) FILTER (bad), count(*) FILTER (respell) FROM {table}"))
        if rows != scan.lines - 1 or problems:
            return False
        if not respell:
            return True
        unknown = _first(con, (
            f"SELECT count(*) FILTER ({_kind('s')} IS NULL) FROM (SELECT DISTINCT unnest(["
            f"{', '.join(f'c{i}' for i in values.values())}]) AS s FROM {source})"))[0]
        if unknown:
            return False
        con.execute(_feed_sql(table, source, values, texts, nacional, proceso, plain=False,
                             quotes=scan.quotes))
    except duckdb.Error:
        return False
    return True


def pad_sql(number: str, width: int) -> str:
    """SQL: ``printf('%0<width>d', number)`` for a number ≥ 0 (a row with another is refused)."""
    return (f"CASE WHEN {number} < {10 ** width} THEN lpad(CAST({number} AS VARCHAR), {width}, "
            f"'0') ELSE CAST({number} AS VARCHAR) END")


def clave_sql(entidad: str, seccion: str, tipo: str, numero: str, ext: str) -> str:
    """SQL: a casilla's clave (``printf('%02d%04d%s%02d%02d', …)``, cheaper) from its numbers
    (≥ 0) and tipo."""
    return (f"concat({pad_sql(entidad, 2)}, {pad_sql(seccion, 4)}, {tipo}, {pad_sql(numero, 2)}, "
            f"{pad_sql(ext, 2)})")


def _feed_sql(table: str, source: str, values: dict[str, int], texts: dict[str, int],
              nacional: bool, proceso: Proceso, *, plain: bool, quotes: bool) -> str:
    """SQL making a feed's table from ``source`` in one pass, its checks included (columns
    ``bad``: a row the row reader must read, and ``respell``: a vote field not written as the
    database prints it); ``plain``: its vote fields are taken as printed, else respelled as
    printed; ``quotes``: whether the file has a quote character (without any, no field needs
    quoting)."""
    offset = proceso.utc_offset_text
    # texts only the checks read, not kept
    checked = ("seccion", "numero", "ext", "entidad")
    cols = [f"coalesce(c{i}, '') AS {k}" for k, i in texts.items()]
    cols[0] = "upper(coalesce(c1, '')) AS estado"
    # fields no pattern below pins down: the only ones that may hide spaces around them
    free = ("tipo", "mecanismos", "codigo", "origen", "digitalizacion", "tipo_documento")
    votes = [k for k in values if k.startswith("v")]
    printed = (f"coalesce(c{i}, 'Sin dato')" if plain else _printed(f"c{i}", f"{name}_n")
               for name, i in values.items())
    if plain:
        ileg, sin = "coalesce(c{i} = 'Ilegible', false)", "coalesce(c{i} = 'Sin dato', true)"
    else:
        ileg = "coalesce(lower(c{i}) = 'ilegible', false)"
        sin = "coalesce(lower(c{i}) IN ('sin dato', 'sin_dato', ''), true)"
    entidad = f"c{texts['entidad']}" if nacional else "NULL"
    cols += [f"coalesce({v}_n, 0) AS {v}_v" for v in votes]
    cols += [
        f"concat_ws(',', {', '.join(printed)}) AS fields_text",
        f"{'true' if quotes else 'false'} AS quotes",
        "registro_at", "seccion_n", "numero_n", "ext_n", "entidad_n",
        f"{clave_sql('entidad_n', 'seccion_n', 'tipo', 'numero_n', 'ext_n')} AS clave",
        f"CAST({' + '.join(f'coalesce({v}_n, 0)' for v in votes) or '0'} AS BIGINT) AS total",
        f"({' + '.join(f'CAST({v}_n IS NOT NULL AS INTEGER)' for v in votes) or '0'}) AS nnum",
        *(f"({' + '.join(f'CAST({x.format(i=values[v])} AS INTEGER)' for v in votes) or '0'}) "
          f"AS {name}" for x, name in ((ileg, "nileg"), (sin, "nsin"))),
    ]

    def when(c: str) -> str:
        return (f"({c} = '' OR (regexp_full_match({c}, '{_TIME}({_OFFSET})?') AND "
                f"try_cast({_with_offset(c, offset)} AS TIMESTAMPTZ) IS NOT NULL))")

    bad = " OR ".join([
        _odd(list(free)),
        *(f"NOT regexp_full_match({k}, '{_INT}')" for k in ("seccion", "numero", "ext")),
        *(f"({k} <> '' AND NOT regexp_full_match({k}, '{_INT}'))"
          for k in ("distrito", "municipio", "cotejada")),
        *(("NOT regexp_full_match(entidad, '[0-9]{1,2}')",) if nacional else ()),
        # registro_at: the registro read with its offset (NULL when it does not read)
        f"registro = '' OR NOT regexp_full_match(registro, '{_TIME}({_OFFSET})?') "
        "OR registro_at IS NULL",
        f"NOT {when('acopio')}", f"NOT {when('captura')}", f"NOT {when('verificacion')}",
        "estado NOT IN ('CAPTURADA', 'SIN_ACTA', 'FUERA_CATALOGO')",
        "motivo NOT IN ('', '0', '1', '2', '3')"])
    field = "([1-9][0-9]{0,14}|0|Ilegible|Sin dato|-)"
    respell = f"NOT regexp_full_match(fields_text, '{field}(,{field}){{{len(values) - 1}}}')"
    # each field's number once, in a query of its own (an alias used again in the same select
    # list is computed again each time); the checks over the columns made, in the pass that
    # stores them
    numbers = ", ".join(f"try_cast(c{i} AS BIGINT) AS {name}_n" for name, i in values.items())
    keep = ", ".join(k for k in [*texts, *(f"{v}_v" for v in votes), "fields_text", "quotes",
                                 "registro_at", "seccion_n", "numero_n", "ext_n", "entidad_n",
                                 "clave", "total", "nnum", "nileg", "nsin"] if k not in checked)
    registro = f"coalesce(c{texts['registro']}, '')"
    entidad_n = f"try_cast({entidad} AS BIGINT)" if nacional else str(int(proceso.entidad_id))
    return (f"CREATE OR REPLACE TABLE {table} AS SELECT n, {keep}, ({bad}) AS bad, "
            f"{respell} AS respell FROM (SELECT n, {', '.join(cols)} "
            f"FROM (SELECT row_number() OVER () AS n, *, {numbers}, "
            f"try_cast(c{texts['seccion']} AS BIGINT) AS seccion_n, "
            f"try_cast(c{texts['numero']} AS BIGINT) AS numero_n, "
            f"try_cast(c{texts['ext']} AS BIGINT) AS ext_n, {entidad_n} AS entidad_n, "
            f"try_cast({_with_offset(registro, offset)} AS TIMESTAMPTZ) AS registro_at "
            f"FROM {source}))")


def fields_text(record: str) -> str:
    """SQL: the captured fields of a feed table's ``record``, from TOTAL_BOLETAS_SOBRANTES to
    TOTAL_VOTOS_ASENTADO, as the database prints them (one text, comma-separated)."""
    return f"{record}.fields_text"
