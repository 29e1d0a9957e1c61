"""The SQL that lays out the site's data on columns (see :mod:`prepcast.site.columns`).

Every query yields JSON text that is byte for byte what :func:`prepcast.site.data.dump` writes
for the same values (keys sorted, no spaces, non-ASCII kept): integers as DuckDB prints them,
strings quoted with ``"`` and ``\\`` escaped (a text holding another control character than a
tab is not taken on columns: :func:`plain_texts`).

Tables, per election ``i`` of a :class:`~prepcast.election.columnar.ColumnElection` (made once a
night, since neither the catalog nor a record's JSON changes from cut to cut):

``sc<i>``  the casillas voting in the election, with the ámbito the site shows them in (``sa``)
``ss<i>``  its secciones: the ámbito of each one's first casilla, esperadas, lista nominal
``sr<i>``  every record of the feed: its segment (``b``), its ámbito and its entry in a
           segment's ``actas`` (``js``: its clave as a JSON key, then the JSON array of its
           values in the order of ``campos_acta``)
"""

from __future__ import annotations

import json
from typing import Any

import _duckdb as duckdb

from prepcast.election.columnar import ColumnElection, observaciones_by_code
from prepcast.election.model import Ambito, Election
from prepcast.election.rules import (
    Profile,
)
from prepcast.site._records import ACTA_FIELDS
from prepcast.site._segments import SCHEMA as SEGMENT_SCHEMA
from prepcast.site._segments import SNAPSHOT_FIELDS

# Texts a record carries as captured (free text the site shows as it is).
_FREE = ("tipo", "mecanismos", "codigo", "origen", "digitalizacion", "tipo_documento")
# The captured date-times a record's JSON shows.
_TIMES = ("acopio", "captura", "registro", "verificacion")


def js(expr: str) -> str:
    """SQL: ``expr`` (text) as a JSON string."""
    return (f"('\"' || replace(replace(replace({expr}, '\\', '\\\\'), '\"', '\\\"'), chr(9), "
            "'\\t') || '\"')")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json_text(text: str) -> str:
    """A Python string as JSON, as an SQL literal."""
    return _lit('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


def plain_texts(ce: ColumnElection, i: int) -> bool:
    """Whether every text of election ``i``'s records is one :func:`js` writes as JSON does."""
    row = ce.con.execute(
        f"SELECT count(*) FROM e{i} WHERE regexp_matches(concat({', '.join(_FREE)}), "
        "'[\\x00-\\x08\\x0a-\\x1f]')").fetchone()
    return row is not None and row[0] == 0


_Q = "'\"'"  # SQL: a double quote


def _js_parts(expr: str, plain: bool) -> list[str]:
    """Arguments of ``concat``: ``expr`` (text) as a JSON string; ``plain``: no value of it
    needs escaping (then it is only quoted)."""
    return [_Q, expr, _Q] if plain else [js(expr)]


def _literal(arg: str) -> bool:
    return len(arg) >= 2 and arg[0] == arg[-1] == "'" and "'" not in arg[1:-1].replace("''", "")


def _concat(args: list[str]) -> str:
    """SQL: ``concat`` of ``args``, literals next to each other made one (the quotes of a plain
    text join the commas around it: fewer arguments for every record)."""
    out: list[str] = []
    for a in args:
        if out and _literal(a) and _literal(out[-1]):
            out[-1] = out[-1][:-1] + a[1:]
        else:
            out.append(a)
    return f"concat({', '.join(out)})"


def _canonical(c: str) -> str:
    """SQL: whether the captured date-time ``c`` is written as ``datetime.isoformat`` writes
    it once read (seconds, an offset, ``T``), or empty."""
    return (f"({c} = '' OR (length({c}) = 25 AND {c}[11] = 'T' AND {c}[20] IN ('+', '-') "
            f"AND {c}[20:] <> '-00:00'))")


def _plain_columns(con: duckdb.DuckDBPyConnection, i: int) -> set[str]:
    """The free texts of election ``i``'s feed that no record writes with a character JSON
    escapes, and the date-times every record writes in canonical form: a record's JSON takes
    them as they are (one scan of the feed instead of escaping or respelling every value)."""
    checks = {**{c: f"NOT bool_or(contains({c}, '\\') OR contains({c}, '\"') "
                    f"OR contains({c}, chr(9)))" for c in _FREE},
              **{c: f"bool_and({_canonical(c)})" for c in _TIMES}}
    row = con.execute(f"SELECT {', '.join(checks.values())} FROM e{i}").fetchone()
    # an empty feed: NULLs (nothing to write either way)
    return {c for c, ok in zip(checks, row or (), strict=True) if ok is not False}


def _iso(c: str, offset: str, plain: bool = False) -> list[str]:
    """SQL, arguments of ``concat``: a captured date-time as ``datetime.isoformat`` writes it
    once read ('' when none); ``plain``: every value of ``c`` already is (see
    :func:`_canonical`)."""
    if plain:
        return [_Q, c, _Q]
    rest = f"substr({c}, 20)"
    frac = f"regexp_extract({rest}, '^\\.([0-9]+)', 1)"
    off = f"regexp_extract({rest}, '[+-][0-9]{{2}}:[0-9]{{2}}$')"
    return [f"CASE WHEN {c} = '' THEN '\"\"' WHEN {_canonical(c)} THEN '\"' || {c} || '\"' "
            f"ELSE '\"' || left({c}, 10) || 'T' || substr({c}, 12, 8) "
            f"|| CASE WHEN {frac} = '' OR rpad({frac}, 6, '0') = '000000' THEN '' "
            f"ELSE '.' || rpad({frac}, 6, '0') END || CASE WHEN {off} = '' THEN {_lit(offset)} "
            f"WHEN {off} = '-00:00' THEN '+00:00' ELSE {off} END || '\"' END"]


def _observaciones(profile: Profile) -> str:
    """SQL: OBSERVACIONES as JSON from a record's evaluation code (see columnar._evaluation)."""
    whens = " ".join(f"WHEN {_lit(k)} THEN {_json_text(text)}"
                     for k, text in observaciones_by_code(profile).items())
    return f"CASE x.code {whens} END"


def site_ambito(ce: ColumnElection, e: Election) -> tuple[str, str]:
    """SQL over ``ecat_<i> c`` joined to ``cas k``: the ámbito the site shows a casilla in, and
    its name (a national proceso: every election by distrito federal)."""
    if ce.proceso.nacional:
        return "k.ent * 100 + k.distrito", "k.distrito_nombre"
    return "c.ambito", "c.ambito_nombre"


def _fuera_ambito(ce: ColumnElection, e: Election) -> str:
    """SQL over a feed record ``f``: the ámbito of a fuera de catálogo acta (0: none given)."""
    level = Ambito.DISTRITO if ce.proceso.nacional else e.ambito
    if level is Ambito.DISTRITO:
        ent = "f.entidad_n * 100" if ce.proceso.nacional else "0"
        return f"CASE WHEN f.distrito = '' THEN 0 ELSE CAST(f.distrito AS BIGINT) + {ent} END"
    if level is Ambito.MUNICIPIO:
        return "CASE WHEN f.municipio = '' THEN 0 ELSE CAST(f.municipio AS BIGINT) END"
    return "0"


def _bucket(ce: ColumnElection) -> str:
    """SQL: the segment of a record (:func:`prepcast.site._records.bucket_of`) over ``f``."""
    times = ce.proceso.cut_times()
    start = int(times[0].timestamp() * 1_000_000)
    step = ce.proceso.cut_minutes * 60_000_000
    d = f"(epoch_us(f.registro_at) - {start})"
    return (f"CASE WHEN {d} <= 0 THEN 1 ELSE 1 + least({len(times)}, "
            f"({d} + {step - 1}) // {step}) END")


def static_tables(con: duckdb.DuckDBPyConnection, ce: ColumnElection, i: int) -> None:
    """Tables ``sc<i>``, ``ss<i>`` and ``sr<i>`` (see the module's docstring)."""
    e = ce.proceso.elections[i]
    ev = ce.record_evaluations(e.id)
    sa, name = site_ambito(ce, e)
    con.execute(
        f"CREATE OR REPLACE TABLE sc{i} AS SELECT c.n, c.clave, c.seccion, c.tipo, "
        f"c.lista_nominal, k.representantes, {sa} AS sa, {name} AS sa_nombre, k.numero, k.ext, "
        f"k.ubicacion FROM ecat_{i} c JOIN cas k ON k.n = c.n")
    con.execute(
        f"CREATE OR REPLACE TABLE ss{i} AS SELECT seccion, arg_min(sa, n) AS sa, "
        f"count(*) AS esperadas, sum(lista_nominal) AS ln FROM sc{i} GROUP BY seccion")
    offset = ce.proceso.utc_offset_text
    nv = len(e.columns)
    seccion = "f.entidad_n * 10000 + f.seccion_n" if ce.proceso.nacional else "f.seccion_n"
    # the captured fields as JSON values: each is a number, Ilegible, Sin dato or - (as the
    # feed's table prints them), the last three quoted, on the whole text at once
    values = ("replace(replace(replace(fields_text, 'Ilegible', '\"Ilegible\"'), 'Sin dato', "
              "'\"Sin dato\"'), '-', '\"-\"')")
    plain = _plain_columns(con, i)

    def text(c: str) -> list[str]:  # a clave is plain when every tipo is (its other parts: digits)
        return _js_parts(f"f.{c}", (c if c != "clave" else "tipo") in plain)

    def when(c: str) -> list[str]:
        return _iso(f"f.{c}", offset, c in plain)

    record: dict[str, str | list[str]] = {
        "acopio": when("acopio"),
        "captura": when("captura"),
        "codigo_integridad": text("codigo"),
        "contabilizada": "CAST(x.contabilizada AS VARCHAR)",
        "cotejada": "CASE WHEN f.cotejada = '' THEN '-1' ELSE "
                    "CAST(CAST(f.cotejada AS BIGINT) AS VARCHAR) END",
        "digitalizacion": text("digitalizacion"),
        "estado": _js_parts("lower(f.estado)", True),  # one of three words
        "ext_contigua": "CAST(f.ext_n AS VARCHAR)",
        "id_casilla": "CAST(f.numero_n AS VARCHAR)",
        "lista_nominal": "CAST(coalesce(c.lista_nominal, 0) AS VARCHAR)",
        "mecanismos_traslado": text("mecanismos"),
        "observaciones": _observaciones(ce.profile),
        "origen": text("origen"),
        "registro": when("registro"),
        "representantes": "CAST(coalesce(c.representantes, 0) AS VARCHAR)",
        "seccion": f"CAST({seccion} AS VARCHAR)",
        "sin_acta_motivo": "CASE WHEN f.motivo = '' THEN '0' ELSE f.motivo END",
        "tipo_casilla": text("tipo"),
        "tipo_documento": text("tipo_documento"),
        "total_boletas_sobrantes": "l[1]",
        "total_personas_votaron": "l[2]",
        "total_rep_partido_ci_votaron": "l[3]",
        "total_votos_asentado": f"l[{5 + nv}]",
        "total_votos_calculado": "CASE WHEN x.part = 1 OR f.estado = 'SIN_ACTA' THEN '0' "
                                 "ELSE CAST(f.total AS VARCHAR) END",
        "total_votos_sacados": "l[4]",
        "verificacion": when("verificacion"),
        "votos": ["'['", f"array_to_string(l[5:{4 + nv}], ',')", "']'"],
    }
    # one concat: a chain of || copies the text made so far at each step; the record's clave
    # as the key it has in its segment first (its segments then join these as they are), then
    # its values in the order of the segment's campos_acta
    args = [*text("clave"), "':['"]
    for n, k in enumerate(ACTA_FIELDS):
        v = record[k]
        args += ["','"] * (n > 0) + (v if isinstance(v, list) else [v])
    args.append("']'")
    con.execute(
        f"CREATE OR REPLACE TABLE sr{i} AS SELECT x.fn, x.part, x.contabilizada, "
        f"{_bucket(ce)} AS b, CASE WHEN x.part = 0 THEN c.sa ELSE {_fuera_ambito(ce, e)} END "
        f"AS aid, f.clave, {_concat(args)} AS js FROM {ev} x JOIN (SELECT *, "
        f"string_split({values}, ',') AS l FROM e{i}) f "
        f"ON f.n = x.fn LEFT JOIN sc{i} c ON c.n = x.cn ORDER BY b, x.fn")


def cut_tables(con: duckdb.DuckDBPyConnection, ce: ColumnElection, i: int, table: str,
               segment_actas: int) -> None:
    """Tables of one cut of election ``i`` (its rows: ``table``): ``cr<i>`` (each registered
    acta with its segment and shard) and ``st<i>`` (each sección's figures)."""
    nv = len(ce.proceso.elections[i].columns)
    con.execute(
        f"CREATE OR REPLACE TABLE cr{i} AS WITH r AS (SELECT t.part, t.k2, t.k3, t.cn, t.fn, "
        f"t.contabilizada, s.b, s.aid, s.clave FROM {table} t JOIN sr{i} s ON s.fn = t.fn), "
        f"n AS (SELECT *, greatest(1, (count(*) OVER (PARTITION BY b) + {segment_actas - 1}) "
        f"// {segment_actas}) AS shards FROM r) SELECT *, aid % shards AS s FROM n")
    counted = "r.contabilizada = 1"
    votes = ", ".join(f"sum(CASE WHEN {counted} THEN f.v{k}_v ELSE 0 END) AS v{k}"
                      for k in range(nv))
    # per sección and segment: what its actas of that segment add
    con.execute(
        f"CREATE OR REPLACE TABLE sg{i} AS SELECT c.seccion, r.b, count(*) AS cap, "
        f"count(CASE WHEN {counted} THEN 1 END) AS con, "
        f"sum(CASE WHEN {counted} THEN c.lista_nominal ELSE 0 END) AS lnc, "
        f"sum(CASE WHEN {counted} THEN f.total ELSE 0 END) AS tv, "
        f"sum(CASE WHEN {counted} AND c.tipo <> 'S' THEN f.total ELSE 0 END) AS tvse, {votes} "
        f"FROM cr{i} r JOIN sc{i} c ON c.n = r.cn JOIN e{i} f ON f.n = r.fn WHERE r.part = 0 "
        "GROUP BY c.seccion, r.b")
    sums = ", ".join(f"coalesce(sum(g.v{k}), 0) AS v{k}" for k in range(nv))
    con.execute(
        f"CREATE OR REPLACE TABLE st{i} AS SELECT s.seccion, s.sa, s.esperadas, s.ln, "
        "coalesce(sum(g.cap), 0) AS cap, coalesce(sum(g.con), 0) AS con, "
        "coalesce(sum(g.lnc), 0) AS lnc, coalesce(sum(g.tv), 0) AS tv, "
        f"coalesce(sum(g.tvse), 0) AS tvse, coalesce(max(g.b), 0) AS corte, {sums} "
        f"FROM ss{i} s LEFT JOIN sg{i} g ON g.seccion = s.seccion GROUP BY ALL")


def bucket_prints(con: duckdb.DuckDBPyConnection, i: int, nv: int
                  ) -> dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """bucket -> (what its actas are, what its actas add to each sección), after
    :func:`cut_tables`: a segment is made again only when either changed for it or the second
    for an earlier bucket (a sección's figures in a segment add up every earlier one)."""
    votes = ", ".join(f"v{k}" for k in range(nv))
    actas = {int(r[0]): tuple(r[1:]) for r in con.execute(
        f"SELECT b, count(*), sum(fn), bit_xor(hash(fn, s)) FROM cr{i} GROUP BY b").fetchall()}
    adds = {int(r[0]): tuple(r[1:]) for r in con.execute(
        f"SELECT b, count(*), bit_xor(hash(seccion, cap, con, lnc, tvse, {votes})) FROM sg{i} "
        "GROUP BY b").fetchall()}
    return {b: (p, adds.get(b, ())) for b, p in actas.items()}


def segment_tables(con: duckdb.DuckDBPyConnection, i: int, nv: int, buckets: list[int]) -> None:
    """Tables of the segments of ``buckets`` to make (after :func:`cut_tables`): ``sm<i>``, the
    actas of each segment (a clave held twice in one segment: the last of the row engine's
    order), and ``sn<i>``, the body of each one's ``secciones`` (a sección's figures as of the
    segment: what every acta of its segment and of the earlier ones adds)."""
    within = ", ".join(map(str, buckets)) or "NULL"
    figures = ", ".join(f"sum(h.v{k}) AS c{k}" for k in range(nv))
    votes = ", ".join(f"r.c{k}" for k in range(nv))
    con.execute(
        f"CREATE OR REPLACE TABLE sm{i} AS SELECT b, s, clave, fn FROM cr{i} "
        f"WHERE b IN ({within}) QUALIFY row_number() OVER (PARTITION BY b, s, clave "
        "ORDER BY part DESC, k2 DESC NULLS LAST, k3 DESC) = 1 ORDER BY b")
    con.execute(
        f"CREATE OR REPLACE TABLE sn{i} AS WITH z AS (SELECT DISTINCT b, shards FROM cr{i} "
        f"WHERE b IN ({within})), "
        # a sección as of each of these buckets: what it had from that bucket and every earlier
        # one (a join on few rows per sección: cheaper than a running sum over a window)
        "run AS (SELECT g.seccion, g.b, sum(h.cap) AS cap, sum(h.con) AS con, "
        f"sum(h.lnc) AS lnc, sum(h.tvse) AS tvse, {figures} FROM sg{i} g JOIN sg{i} h "
        f"ON h.seccion = g.seccion AND h.b <= g.b WHERE g.b IN ({within}) "
        "GROUP BY g.seccion, g.b) "
        "SELECT r.b, ss.sa % z.shards AS s, string_agg(concat('\"', r.seccion, '\":[', "
        "r.cap, ',', r.con, ',', r.lnc, ',', r.tvse, ',[', "
        f"concat_ws(',', {votes}), ']]'), ',' ORDER BY CAST(r.seccion AS VARCHAR)) "
        f"AS secciones FROM run r JOIN ss{i} ss ON ss.seccion = r.seccion "
        "JOIN z ON z.b = r.b GROUP BY ALL ORDER BY r.b")


def segments_sql(i: int, e: Election, buckets: list[int]) -> str:
    """SQL: the segments of ``buckets``, ``(b, s, file)`` (after :func:`segment_tables`)."""
    within = ", ".join(map(str, buckets))
    head = '{"actas":{'
    middle = ('},"campos_acta":' + _dumps(list(ACTA_FIELDS)) + ',"campos_seccion":'
              + _dumps(list(SNAPSHOT_FIELDS)) + ',"eleccion":' + _dumps(e.id) + ',"schema":'
              + _dumps(SEGMENT_SCHEMA) + ',"secciones":{')
    # sr<i> is ordered by bucket: only the row groups of these buckets are read
    return (
        f"WITH a AS (SELECT m.b, m.s, string_agg(x.js, ',' "
        f"ORDER BY m.clave) AS actas FROM sm{i} m JOIN sr{i} x ON x.fn = m.fn AND x.b = m.b "
        f"WHERE m.b IN ({within}) AND x.b IN ({within}) GROUP BY m.b, m.s) "
        f"SELECT a.b, a.s, encode(concat({_lit(head)}, a.actas, {_lit(middle)}, n.secciones, "
        "'},\"segmento\":\"', a.b, '-', a.s, '\"}')) "
        f"FROM a LEFT JOIN sn{i} n ON n.b = a.b AND n.s = a.s ORDER BY a.b, a.s")
