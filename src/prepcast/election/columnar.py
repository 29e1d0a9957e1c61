"""The columnar engine: an election read into DuckDB and each cut tallied on columns.

The same figures as :func:`prepcast.election.tally.tally_cut` — the same rules, the same exact
integer sums, the same truncated percentages — computed by SQL over one table per file instead
of one Python object per acta, which is what a national night (half a million actas) needs.

:func:`load_columns` answers ``None`` when a file is not in the plain form the columnar readers
take (see :mod:`prepcast.election._columns_read`); the caller then uses the row engine, which
reads everything and reports every problem with its line.

A cut leaves, per election, the table ``cut_<i>``: one row per registered acta (the catalog's
casillas in catalog order, then fuera de catálogo by registration; ``o`` that order as a number),
with its evaluation; the database writer (:mod:`prepcast.formats.write_prep_csv_columns`) formats it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import _duckdb as duckdb  # the engine alone: `import duckdb` adds 0.1 s to a 1 s command

from prepcast.election._columns_read import load_casillas, load_feed, sql_text
from prepcast.election.catalog import read_proceso_dir
from prepcast.election.model import Ambito, Election, Proceso
from prepcast.election.rules import (
    EXCEDE,
    FUERA_CATALOGO,
    ILEGIBLE,
    SIN_ACTA,
    SIN_DATO,
    TODOS_ILEGIBLES,
    TODOS_ILEGIBLES_O_SIN_DATO,
    TODOS_VACIOS,
    Evaluation,
    Preamble,
    Profile,
    format_observaciones,
    preamble_from_counts,
)
from prepcast.election.tally import Totals
from prepcast.errors import InputError, Problem

_AMBITO = {Ambito.DISTRITO: ("distrito", "distrito_nombre"),
           Ambito.MUNICIPIO: ("municipio", "municipio_nombre")}
# A national proceso's ámbitos keyed as Casilla.ambito_id keys them.
_AMBITO_NACIONAL = {Ambito.DISTRITO: ("ent * 100 + distrito", "distrito_nombre"),
                    Ambito.MUNICIPIO: ("ent * 1000 + municipio", "municipio_nombre"),
                    Ambito.ENTIDAD: ("ent", "entidad_nombre")}


# A cut's fuera de catálogo rows are numbered (``o``) from here, after every casilla's row.
FUERA_ORDER = 1 << 40


def _ambito_sql(proceso: Proceso, ambito: Ambito) -> tuple[str, str]:
    """SQL of an ámbito's key and name over the catalog table."""
    levels = _AMBITO_NACIONAL if proceso.nacional else _AMBITO
    return levels.get(ambito, ("0", sql_text(proceso.entidad)))


@dataclass
class ColumnElection:
    """An election directory read into columns (a DuckDB connection of its own)."""

    path: Path
    proceso: Proceso
    profile: Profile
    con: duckdb.DuckDBPyConnection
    cuts: int = 0
    evaluated: set[int] = field(default_factory=set)
    catalogs: set[int] = field(default_factory=set)
    # a table made once (record_evaluations) is made by one thread, each with its own lock
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _made: dict[int, threading.Lock] = field(default_factory=dict, repr=False, compare=False)

    def table(self, eid: str) -> str:
        return f"e{[e.id for e in self.proceso.elections].index(eid)}"

    def record_evaluations(self, eid: str) -> str:
        """Table ``ev_<i>``: every record of the election's feed as any cut holding it counts it
        (a record's row does not change from cut to cut: a recapture is a record of its own),
        with the columns of a cut's table but its order keys; made once."""
        i = [e.id for e in self.proceso.elections].index(eid)
        with self.lock:
            made = self._made.setdefault(i, threading.Lock())
        with made:  # the site and the database writer may ask for it at once
            if i not in self.evaluated:
                self.catalog(i)
                with self.con.cursor() as cur:
                    # each record looked up in the catalog once (cn NULL: fuera de catálogo)
                    cur.execute(
                        f"CREATE OR REPLACE TABLE ev_{i} AS WITH j AS "
                        f"({_looked_up(f'e{i} f', f'ecat_{i}')}) "
                        f"SELECT f.n AS fn, 0 AS part, f.cn, {_evaluation(self.profile, 'f.vlimit')} "
                        "FROM j f WHERE f.cn IS NOT NULL UNION ALL "
                        "SELECT f.n, 1, NULL, 'F', 2 FROM j f WHERE f.cn IS NULL")
                self.evaluated.add(i)
        return f"ev_{i}"

    def catalog(self, i: int) -> str:
        """Table ``ecat_<i>``: the casillas voting in election ``i``, with their ámbito and the
        most votes an acta of theirs may hold; made once."""
        if i not in self.catalogs:
            e = self.proceso.elections[i]
            self.con.execute(f"CREATE OR REPLACE TABLE ecat_{i} AS {_catalog_sql(self, e)}")
            self.catalogs.add(i)
        return f"ecat_{i}"

    def release(self, cut: ColumnCut) -> None:
        """Drop the tables of a cut no longer read (a night keeps only the cuts it still needs)."""
        for er in cut.elections.values():
            self.con.execute(f"DROP TABLE IF EXISTS {er.table}")


class ColumnResults:
    """One election's figures at every level (the same values as ``ElectionResults``). The
    entidad and the preamble are computed with the cut; ámbitos and secciones when first asked
    for."""

    def __init__(self, con: duckdb.DuckDBPyConnection, election: Election, table: str, feed: str,
                 catalog: str, last: bool) -> None:
        self.election = election
        self.table = table  # the cut's rows (feed row fn, catalog row cn, evaluation)
        self.feed = feed  # the election's feed table
        self._con = con
        self._catalog = catalog  # the casillas voting in the election, with their ámbito
        ncols = len(election.columns)
        row = con.execute(_totals_sql(ncols, table, feed, catalog, "")).fetchone()
        assert row is not None
        self.entidad = _totals(ncols, row)
        fig = con.execute(
            f"SELECT count(*), count(CASE WHEN part = 1 THEN 1 END), count(CASE WHEN part = 0 "
            f"AND code <> '' AND code[1] <> 'A' THEN 1 END) FROM {table}").fetchone()
        assert fig is not None
        t = self.entidad
        self.preamble: Preamble = preamble_from_counts(
            esperadas=t.esperadas, registradas=int(fig[0]), fuera=int(fig[1]),
            contabilizadas=t.contabilizadas, inconsistentes=int(fig[2]),
            lista_nominal=t.lista_nominal_contabilizadas, votos_c_cs=t.total_votos,
            votos_s_cs=t.total_votos_sin_especiales, last_cut=last)

    @cached_property
    def _levels(self) -> tuple[dict[int, Totals], dict[int, Totals], dict[int, str], dict[int, int]]:
        """Each sección, and each ámbito as the sum of its secciones (a sección belongs to the
        ámbito of its first casilla), as the row engine adds them."""
        ncols = len(self.election.columns)
        rows = self._con.execute(_totals_sql(ncols, self.table, self.feed, self._catalog,
                                             "c.seccion")).fetchall()
        names = {int(k): str(v) for k, v in self._con.execute(
            f"SELECT ambito, arg_min(ambito_nombre, n) FROM {self._catalog} GROUP BY ambito "
            "ORDER BY min(n)").fetchall()}
        secciones: dict[int, Totals] = {}
        seccion_ambito: dict[int, int] = {}
        ambitos = {aid: Totals(ncols) for aid in names}
        for r in rows:
            secciones[int(r[-3])] = t = _totals(ncols, r)
            seccion_ambito[int(r[-3])] = aid = int(r[-1])
            ambitos[aid].add(t)
        return ambitos, secciones, names, seccion_ambito

    @property
    def ambitos(self) -> dict[int, Totals]:
        return self._levels[0]

    @property
    def secciones(self) -> dict[int, Totals]:
        return self._levels[1]

    @property
    def ambito_names(self) -> dict[int, str]:
        return self._levels[2]

    @property
    def seccion_ambito(self) -> dict[int, int]:
        return self._levels[3]


def _totals_sql(ncols: int, table: str, feed: str, catalog: str, group: str) -> str:
    """The Totals of the catalog's casillas, all together or per ``group``."""
    counted = "r.contabilizada = 1"
    sums = "".join(f", sum(CASE WHEN {counted} THEN f.v{k}_v ELSE 0 END)" for k in range(ncols))
    by = f", {group}, min(c.n), arg_min(c.ambito, c.n)" if group else ""
    return (
        f"SELECT count(*), count(r.fn), count(CASE WHEN {counted} THEN 1 END), "
        f"sum(c.lista_nominal), sum(CASE WHEN {counted} THEN c.lista_nominal ELSE 0 END), "
        f"sum(CASE WHEN {counted} THEN f.total ELSE 0 END), "
        f"sum(CASE WHEN {counted} AND c.tipo <> 'S' THEN f.total ELSE 0 END){sums}{by} "
        f"FROM {catalog} c LEFT JOIN {table} r ON r.cn = c.n LEFT JOIN {feed} f ON f.n = r.fn"
        + (f" GROUP BY {group} ORDER BY min(c.n)" if group else ""))


def _totals(ncols: int, r: tuple[object, ...]) -> Totals:
    def n(v: object) -> int:
        return 0 if v is None else int(v)  # type: ignore[call-overload]

    return Totals(ncols, n(r[0]), n(r[1]), n(r[2]), n(r[3]), n(r[4]), n(r[5]), n(r[6]),
                  [n(v) for v in r[7:7 + ncols]])


@dataclass
class ColumnCut:
    columns: ColumnElection
    number: int
    at: datetime
    last: bool
    elections: dict[str, ColumnResults]

    @property
    def proceso(self) -> Proceso:
        return self.columns.proceso


def load_columns(path: str | Path) -> ColumnElection | None:
    """Read an election directory into columns; ``None`` when the row engine must read it."""
    root = Path(path)
    if not root.is_dir():
        raise InputError.at(root, "not an election directory")
    problems: list[Problem] = []
    proceso = read_proceso_dir(root, problems)
    if problems:
        raise InputError(problems)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")

    def load(i: int) -> bool:
        with con.cursor() as cur:  # one per thread: DuckDB runs them side by side
            if i < 0:
                return load_casillas(cur, root / "casillas.csv", proceso)
            e = proceso.elections[i]
            feed = root / "capturas" / f"{e.id}.csv"
            return load_feed(cur, f"e{i}", feed if feed.exists() else None, e, proceso)

    # the catalog and each feed side by side, each read by one DuckDB thread (more only add
    # work), all at once: with a worker per file none waits for another on a free core. The
    # connection keeps one thread per query afterwards: every user runs the elections side by
    # side on workers of its own (tally, databases, site), so DuckDB's own threads only split
    # and merge each query's work again (a national cut build: 1.3 s of CPU more with two)
    con.execute("SET threads = 1")
    with ThreadPoolExecutor(max_workers=len(proceso.elections) + 1) as pool:
        loaded = list(pool.map(load, range(-1, len(proceso.elections))))
    if not all(loaded):
        con.close()
        return None
    return ColumnElection(root, proceso, proceso.profile, con)


def tally_columns(ce: ColumnElection, at: datetime, *, number: int, last: bool = False) -> ColumnCut:
    """Every election's results for the cut at ``at``."""
    seq = ce.cuts = ce.cuts + 1  # each cut's tables apart: a cut's levels are read when asked for
    for i in range(len(ce.proceso.elections)):
        ce.catalog(i)

    def tally(i: int) -> ColumnResults:
        # a cursor per thread, kept by the results for the levels read later
        return _tally(ce, ce.con.cursor(), seq, i, ce.proceso.elections[i], at, last)

    with ThreadPoolExecutor(max_workers=len(ce.proceso.elections)) as pool:
        results = list(pool.map(tally, range(len(ce.proceso.elections))))
    return ColumnCut(ce, number, at, last, {r.election.id: r for r in results})


def _looked_up(records: str, catalog: str) -> str:
    """SQL: feed records ``records`` (aliased ``f``), each looked up in ``catalog`` once, with
    what their evaluation and their place in a cut read: ``cn`` the casilla's row (NULL: fuera
    de catálogo) and ``vlimit`` its most votes."""
    return ("SELECT f.n, f.clave, f.estado, f.registro_at, f.motivo, f.total, f.nnum, f.nileg, "
            f"f.nsin, c.n AS cn, c.vlimit FROM {records} LEFT JOIN {catalog} c "
            "ON c.clave = f.clave AND f.estado <> 'FUERA_CATALOGO'")


def _evaluation(profile: Profile, vlimit: str = "c.vlimit") -> str:
    """SQL for the rules of :func:`prepcast.election.rules.evaluate_counts` over a feed record
    ``f`` whose casilla holds at most ``vlimit`` votes: the columns ``contabilizada``,
    ``inconsistente`` and ``code`` (what OBSERVACIONES says)."""
    exclude = "true" if profile.exclude_excede_lista_nominal else "false"
    mixed = "true" if profile.mixed_empty_not_counted else "false"
    excede = f"f.total > {vlimit}"
    empty = "(f.nnum = 0 AND (f.nileg > 0 OR f.nsin > 0))"
    todos = (f"CASE WHEN f.nsin = 0 THEN 'TI' WHEN f.nileg = 0 THEN 'TV' "
             f"WHEN {mixed} THEN 'TM' END")
    flags = (f"CASE WHEN {excede} AND {exclude} THEN 'E' ELSE '' END || "
             "CASE WHEN f.nileg > 0 THEN 'I' ELSE '' END || CASE WHEN f.nsin > 0 THEN 'S' ELSE '' END")
    code = (f"CASE WHEN f.estado = 'SIN_ACTA' THEN 'A' || f.motivo "
            f"WHEN {empty} AND ({todos}) IS NOT NULL THEN {todos} ELSE {flags} END")
    contab = (f"CASE WHEN f.estado = 'SIN_ACTA' THEN 0 WHEN {empty} AND ({todos}) IS NOT NULL "
              f"THEN 0 WHEN {excede} AND {exclude} THEN 0 ELSE 1 END")
    return f"{code} AS code, {contab} AS contabilizada"


def observaciones_by_code(profile: Profile) -> dict[str, str]:
    """What OBSERVACIONES says for each ``code`` of :func:`_evaluation`, by the rules of
    ``profile`` (the database's column and the site's acta view both say it)."""
    codes: dict[str, Evaluation] = {
        "F": Evaluation(0, 2, (FUERA_CATALOGO,), False),
        "TI": Evaluation(0, 0, (TODOS_ILEGIBLES,), True),
        "TV": Evaluation(0, 0, (TODOS_VACIOS,), True),
        "TM": Evaluation(0, 0, (TODOS_ILEGIBLES_O_SIN_DATO,), True),
        "A": Evaluation(0, 0, (SIN_ACTA,), False, None),
        **{f"A{m}": Evaluation(0, 0, (SIN_ACTA,), False, m) for m in range(4)},
    }
    for e in ("", "E"):
        for i in ("", "I"):
            for s in ("", "S"):
                tags = tuple(t for t, on in ((EXCEDE, e), (ILEGIBLE, i), (SIN_DATO, s)) if on)
                codes[e + i + s] = Evaluation(0, 1, tags, bool(tags))
    return {k: format_observaciones(profile, ev) for k, ev in codes.items()}


def _catalog_sql(ce: ColumnElection, e: Election) -> str:
    """The casillas voting in the election, with their ámbito and the most votes they hold."""
    level, name = _ambito_sql(ce.proceso, e.ambito)
    votes_in = f"(c.elecciones IS NULL OR list_contains(c.elecciones, {sql_text(e.id)}))"
    return (f"SELECT n, clave, seccion_key AS seccion, tipo, lista_nominal, {level} AS ambito, "
            f"{name} AS ambito_nombre, CASE WHEN tipo = 'S' THEN boletas_especial "
            "+ representantes ELSE lista_nominal + representantes END AS vlimit FROM cas c "
            f"WHERE {votes_in}")


def _tally(ce: ColumnElection, con: duckdb.DuckDBPyConnection, seq: int, i: int, e: Election,
           at: datetime, last: bool) -> ColumnResults:
    instant = sql_text(at.astimezone(UTC).isoformat())
    # each acta's last record by the cut (registration, then place in the feed, as one number;
    # a multiplication, not a shift, which DuckDB refuses for a registration before 1970):
    # a grouping, not a sort of the feed
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE latest_{i} AS SELECT arg_max(n, "
        "epoch_us(registro_at)::HUGEINT * 4294967296 + n) AS n "
        f"FROM e{i} WHERE registro_at <= CAST({instant} AS TIMESTAMPTZ) "
        "GROUP BY clave, estado = 'FUERA_CATALOGO'")
    catalog = f"ecat_{i}"
    # one row per registered acta: the catalog's (part 0, in catalog order), then fuera de
    # catálogo (part 1, by registration then clave); fn is the record's row in the feed; o
    # the row's place in that order as one number (the few fuera de catálogo ranked here),
    # what the database sorts and groups its rows by; each record looked up in the catalog
    # once (cn NULL: fuera de catálogo)
    con.execute(
        f"CREATE OR REPLACE TABLE cut_{seq}_{i} AS WITH j AS "
        f"({_looked_up(f'latest_{i} l JOIN e{i} f ON f.n = l.n', catalog)}) "
        "SELECT 0 AS part, f.cn AS k, NULL::TIMESTAMPTZ AS k2, false AS k3, f.clave, f.n AS fn, "
        f"f.cn, {_evaluation(ce.profile, 'f.vlimit')}, f.cn AS o FROM j f WHERE f.cn IS NOT NULL "
        "UNION ALL "
        "SELECT 1, 0, f.registro_at, f.estado = 'FUERA_CATALOGO', f.clave, f.n, NULL, 'F', 2, "
        f"{FUERA_ORDER} + row_number() OVER (ORDER BY f.registro_at, f.clave, "
        "f.estado = 'FUERA_CATALOGO') FROM j f WHERE f.cn IS NULL")
    con.execute(f"DROP TABLE latest_{i}")  # the cursor lives on with the results: not this
    return ColumnResults(con, e, f"cut_{seq}_{i}", f"e{i}", catalog, last)
