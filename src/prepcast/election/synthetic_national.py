"""Synthetic national (federal) elections shaped like INE's of 2024, generated on columns.

A national proceso (``entidad_id = 0``) with presidencia (one ámbito, the nation), senadurías (by
entidad) and diputaciones federales (by distrito federal), over a catalog whose casillas carry
their entidad. ``ine-2024`` has the 32 entidades with their 300 distritos federales and about
170,000 casillas: half a million actas, too many to draw one Python object at a time, so the
capture feeds are drawn by DuckDB, each random number a hash of (seed, election, casilla, draw):
the same profile and seed give the same bytes, in seconds.

The night and its rates follow :mod:`prepcast.election.synthetic`: arrivals from about 20:00 with a
long tail, 1.8 % of actas never captured, 1.2 % Sin acta, all fields Sin dato 0.45 % and all
Ilegible 0.1 %, votes over the lista nominal 0.55 %, some fields Sin dato in a fifth of the actas,
one field Ilegible in 2 %, and one fuera de catálogo acta per 1,200 casillas.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import _duckdb as duckdb  # the engine alone: `import duckdb` adds 0.1 s to a command

from prepcast.election._columns_read import sql_text
from prepcast.election._synthetic_parts import (
    candidaturas,
    difusores_plazos,
    place,
    write_csv,
)
from prepcast.election.catalog import CANDIDATURA_COLUMNS, NACIONAL_CASILLA_COLUMNS, read_proceso
from prepcast.election.feed import feed_header
from prepcast.election.model import Ambito, ColumnKind, Election, Proceso

# INEGI code, name, distritos federales (2023 distritación: 300 in all)
ENTIDADES = (
    (1, "AGUASCALIENTES", 3), (2, "BAJA CALIFORNIA", 9), (3, "BAJA CALIFORNIA SUR", 2),
    (4, "CAMPECHE", 2), (5, "COAHUILA", 8), (6, "COLIMA", 2), (7, "CHIAPAS", 13),
    (8, "CHIHUAHUA", 9), (9, "CIUDAD DE MÉXICO", 22), (10, "DURANGO", 4), (11, "GUANAJUATO", 15),
    (12, "GUERRERO", 8), (13, "HIDALGO", 7), (14, "JALISCO", 20), (15, "MÉXICO", 40),
    (16, "MICHOACÁN", 11), (17, "MORELOS", 5), (18, "NAYARIT", 3), (19, "NUEVO LEÓN", 14),
    (20, "OAXACA", 10), (21, "PUEBLA", 16), (22, "QUERÉTARO", 6), (23, "QUINTANA ROO", 4),
    (24, "SAN LUIS POTOSÍ", 7), (25, "SINALOA", 7), (26, "SONORA", 7), (27, "TABASCO", 6),
    (28, "TAMAULIPAS", 8), (29, "TLAXCALA", 3), (30, "VERACRUZ", 19), (31, "YUCATÁN", 6),
    (32, "ZACATECAS", 4),
)  # fmt: skip


@dataclass(frozen=True)
class NationalProfile:
    name: str
    entidades: tuple[tuple[int, str, int], ...]
    casillas_per_distrito: int
    especiales_per_distrito: int
    lista_nominal_per_casilla: int


NATIONAL_PROFILES = {
    "ine-2024": NationalProfile("ine-2024", ENTIDADES, 565, 3, 580),
    # for tests: three entidades, six distritos, a few hundred casillas
    "nacional-small": NationalProfile(
        "nacional-small", ((9, "CIUDAD DE MÉXICO", 2), (15, "MÉXICO", 3), (28, "TAMAULIPAS", 1)),
        45, 1, 580),
}

PARTIES = (
    ("PAN", "Partido Acción Nacional", "#0B4FA8", 0.13),
    ("PRI", "Partido Revolucionario Institucional", "#D4001F", 0.11),
    ("PRD", "Partido de la Revolución Democrática", "#F2C200", 0.025),
    ("PVEM", "Partido Verde Ecologista de México", "#2E8B3D", 0.08),
    ("PT", "Partido del Trabajo", "#B71C1C", 0.06),
    ("MC", "Movimiento Ciudadano", "#E8700F", 0.10),
    ("MORENA", "Morena", "#7A1E2B", 0.42),
)
ALLIANCES = (("FCM", "Fuerza y Corazón por México", ("PAN", "PRI", "PRD")),
             ("SHH", "Sigamos Haciendo Historia", ("PVEM", "PT", "MORENA")))
ELECTIONS = (  # id, nombre, ámbito, tipo_acta, independientes
    ("PRES", "Presidencia de la República", "nacional", "1", 0),
    ("SEN", "Senadurías", "entidad", "2", 0),
    ("DIP_FED", "Diputaciones Federales", "distrito", "3", 1),
)


def _election_toml(p: NationalProfile, year: int) -> str:
    out = io.StringIO()
    w = out.write
    w(f'nombre = "Proceso Electoral Federal {year - 1}-{year} (simulado, perfil {p.name})"\n')
    w('institute = "INE"\nentidad_id = 0\nentidad = "NACIONAL"\n')
    w(f'year = {year}\nutc_offset = "-06:00"\n')
    w(f"start = {year}-06-02T20:00:00-06:00\nend = {year}-06-03T20:00:00-06:00\n")
    w('cut_minutes = 20\nimage_base_url = "http://127.0.0.1:8700/actas"\nrules = "ine-2023"\n\n')
    for pid, nombre, color, _ in PARTIES:
        w(f'[[partidos]]\nid = "{pid}"\nnombre = "{nombre}"\ncolor = "{color}"\n\n')
    pids = ", ".join(f'"{x[0]}"' for x in PARTIES)
    for eid, nombre, ambito, tipo_acta, independientes in ELECTIONS:
        w(f'[[elecciones]]\nid = "{eid}"\nnombre = "{nombre}"\n')
        w(f'titulo = "Elección de {nombre} {year}"\nambito = "{ambito}"\ntipo_acta = "{tipo_acta}"\n')
        w(f'file_stem = "{eid}_{year}"\npartidos = [{pids}]\nindependientes = {independientes}\n')
        for aid, anombre, members in ALLIANCES:
            m = ", ".join(f'"{x}"' for x in members)
            w(f'\n[[elecciones.alianzas]]\nid = "{aid}"\nnombre = "{anombre}"\npartidos = [{m}]\n')
        w("\n")
    w(difusores_plazos(year))
    return out.getvalue()


def _catalog(p: NationalProfile, rng: random.Random) -> list[list[str]]:
    """Rows of casillas.csv: per entidad, secciones numbered from 1 in runs per distrito federal,
    two or three municipios per distrito, especiales in each distrito's first sección."""

    rows: list[list[str]] = []
    used: set[str] = set()
    for ent, ent_name, distritos in p.entidades:
        seccion = 0
        municipio = 0
        for d in range(1, distritos + 1):
            dname = place(rng, used)
            first_secc = seccion + 1
            target = int(p.casillas_per_distrito * rng.uniform(0.9, 1.1))
            made = 0
            muns = rng.choice((2, 3))
            mun_names = [place(rng, used) for _ in range(muns)]
            while made < target:
                seccion += 1
                k = rng.choices((1, 2, 3, 4, 5, 6, 8), (22, 28, 20, 12, 9, 6, 3))[0]
                m = min(muns - 1, made * muns // target)
                rural = rng.random() < 0.25
                for c in range(k):
                    tipo, numero, ext = ("B", 1, 0) if c == 0 else ("C", c, 0)
                    if rural and c == k - 1 and k > 1 and rng.random() < 0.5:
                        tipo, numero, ext = "E", 1, rng.choice((0, 1))
                    ln = max(60, min(750, int(rng.gauss(p.lista_nominal_per_casilla, 95))))
                    rows.append([str(ent), ent_name, str(d), dname, str(municipio + m + 1),
                                 mun_names[m], str(seccion), tipo, str(numero), str(ext),
                                 "2" if rural else "1", str(ln), str(rng.randint(2, 20)), "0"])
                made += k
            for j in range(p.especiales_per_distrito):
                rows.append([str(ent), ent_name, str(d), dname, str(municipio + 1), mun_names[0],
                             str(first_secc), "S", str(j + 1), "0", "1", "0",
                             str(rng.randint(2, 20)), "750"])
            municipio += muns
    rows.sort(key=lambda r: (int(r[0]), int(r[6]), r[7], int(r[8]), int(r[9])))
    return rows


def _ambito_key(a: Ambito) -> str:
    return {Ambito.DISTRITO: "ent * 100 + distrito", Ambito.ENTIDAD: "ent"}.get(a, "0")


def _share_base(e: Election) -> list[float]:
    base = {pid: share for pid, _, _, share in PARTIES}
    out = []
    for c in e.columns:
        if c.kind is ColumnKind.PARTIDO:
            out.append(base.get(c.id, 0.01))
        elif c.kind in (ColumnKind.COALICION, ColumnKind.COMUN):
            out.append(0.012 if len(c.partidos) == 3 else 0.004)
        elif c.kind is ColumnKind.INDEPENDIENTE:
            out.append(0.03)
        elif c.kind is ColumnKind.NO_REGISTRADAS:
            out.append(0.001)
        else:
            out.append(0.025)
    return out


def _feed_sql(proceso: Proceso, i: int, e: Election, seed: int, ci_ambitos: set[int],
              path: Path) -> str:
    """One COPY writing the election's feed: every draw ``u(k)`` a hash of the casilla's row."""
    nv = len(e.columns)
    salt = f"{seed}:{i}"

    def u(k: int, row: str = "n") -> str:
        # one integer per (row, draw), hashed on its own: DuckDB combines the hashes of several
        # arguments by a cheap mix, which leaves draws of the same row correlated
        return f"(hash({row} * 4096 + {k}, {sql_text(salt)}) / 18446744073709551616.0)"

    def gauss(k: int, row: str = "n") -> str:
        return f"(sqrt(-2 * ln(1 - {u(k, row)})) * cos(2 * pi() * {u(k + 2000, row)}))"

    ci = [k for k, c in enumerate(e.columns) if c.kind is ColumnKind.INDEPENDIENTE]
    base = _share_base(e)
    amb_shares = ", ".join(
        f"{b} * exp({0.5 if k in ci else 0.25} * {gauss(1100 + k, 'aid')}) AS s{k}"
        for k, b in enumerate(base))
    close = f"TIMESTAMP '{proceso.start.replace(tzinfo=None):%Y-%m-%d %H:%M:%S}' - INTERVAL 30 MINUTE"
    end = f"TIMESTAMP '{proceso.end.replace(tzinfo=None):%Y-%m-%d %H:%M:%S}'"
    ts = "strftime({}, '%Y-%m-%dT%H:%M:%S') || '-06:00'"
    # votes: a number, NULL for '-' (an independent not running there)
    votes = ", ".join(
        ("CASE WHEN NOT ci_runs THEN NULL ELSE " if k in ci else "CASE WHEN true THEN ")
        + f"greatest(0, CAST(floor(voters * a.s{k} / a.stotal + {gauss(500 + k)} * "
        f"sqrt(voters * a.s{k} / a.stotal + 1) * 0.9 + 0.5) AS BIGINT)) END AS v{k}"
        for k in range(nv))
    excede = f"CAST(floor(lista_nominal * (0.4 + 0.5 * {u(30)})) AS BIGINT)"
    # the field each draw picks: Sin dato (a zero, or any), Ilegible (any applicable)
    marked = []
    for k in range(nv):
        last = k == nv - 1  # NULOS, always applicable: where an excede acta puts its votes
        num = f"CASE WHEN q >= 0.0055 AND q < 0.011 AND tipo <> 'S' THEN {excede} ELSE v{k} END" \
            if last else f"v{k}"
        marked.append(
            f"CASE WHEN v{k} IS NULL THEN '-' WHEN q < 0.0045 THEN 'Sin dato' "
            f"WHEN q < 0.0055 THEN 'Ilegible' "
            f"WHEN ileg AND {u(40)} * {nv} >= {k} AND {u(40)} * {nv} < {k + 1} THEN 'Ilegible' "
            f"WHEN sind AND ((v{k} = 0 AND {u(300 + k)} < 0.6) OR ({u(41)} * {nv} >= {k} "
            f"AND {u(41)} * {nv} < {k + 1})) THEN 'Sin dato' ELSE CAST({num} AS VARCHAR) END AS t{k}")
    texts = [f"t{k}" for k in range(nv)]
    total = " + ".join(f"coalesce(try_cast(t{k} AS BIGINT), 0)" for k in range(nv))
    names = [*feed_header(e, nacional=True)]
    sin_dato_votes = ["'Sin dato'"] * nv
    cap = [  # a captured acta, in the feed's column order
        f"{ts.format('registro')}", "'CAPTURADA'", "seccion", "tipo", "numero", "ext", "NULL",
        "NULL", "NULL", "CAST(greatest(0, ln_c - total) AS VARCHAR)",
        f"CASE WHEN {u(60)} > 0.05 THEN CAST(total AS VARCHAR) ELSE 'Sin dato' END",
        f"CAST(CAST(floor({u(61)} * (representantes + 1)) AS BIGINT) AS VARCHAR)",
        f"CASE WHEN {u(62)} > 0.08 THEN CAST(total AS VARCHAR) ELSE 'Sin dato' END",
        *texts, "CAST(total AS VARCHAR)",
        f"['', '', 'D', 'F', 'I'][1 + CAST(floor({u(63)} * 5) AS INTEGER)]",
        f"sha256({sql_text(e.id)} || '|' || clave || '|' || concat_ws(',', {', '.join(texts)}))",
        ts.format("acopio"), ts.format("captura"), ts.format("registro"),
        "CASE WHEN movil THEN 'CASILLA' ELSE 'CATD' END",
        "CASE WHEN movil THEN 'MOVIL' ELSE 'ESCANER' END",
        f"CASE WHEN {u(64)} < 0.875 THEN 'Acta PREP' WHEN {u(64)} < 0.9375 THEN 'Copia PE' "
        "ELSE 'Acta Consejo' END", "'1'", "CAST(ent AS VARCHAR)",
    ]
    sin = [
        f"{ts.format('registro')}", "'SIN_ACTA'", "seccion", "tipo", "numero", "ext", "NULL",
        "NULL", f"CAST([1, 2, 3, 3, 3][1 + CAST(floor({u(65)} * 5) AS INTEGER)] AS VARCHAR)",
        *["'Sin dato'"] * 4, *sin_dato_votes, "'Sin dato'", "NULL", "NULL", "NULL", "NULL",
        "NULL", "'CATD'", "'ESCANER'", "'-'", "NULL", "CAST(ent AS VARCHAR)",
    ]
    fuera = [
        f"{ts.format('registro')}", "'FUERA_CATALOGO'", "seccion", "'C'",
        f"CAST(90 + floor({u(66)} * 10) AS BIGINT)", "0", "NULL", "NULL", "NULL",
        *["'Sin dato'"] * 4, *sin_dato_votes, "'Sin dato'", "NULL", "NULL", "NULL", "NULL", "NULL",
        "'CASILLA'", "'MOVIL'", "'-'", "NULL", "CAST(ent AS VARCHAR)",
    ]

    def select(parts: list[str]) -> str:
        return ", ".join(f'{x} AS "{n}"' for x, n in zip(parts, names, strict=True))

    votes_in = f"(elecciones IS NULL OR list_contains(elecciones, {sql_text(e.id)}))"
    arrival = (f"CASE WHEN {u(3)} < 0.04 THEN 6 + 17.5 * {u(4)} "
               f"ELSE exp(ln(3.6) + 0.62 * {gauss(5)}) END")
    return f"""
COPY (
WITH amb AS (
  SELECT aid, {amb_shares}, 0.44 + 0.2 * {u(1200, 'aid')} AS turnout,
    coalesce(aid IN ({', '.join(map(str, sorted(ci_ambitos))) or 'NULL'}), false) AS ci_runs
  FROM (SELECT DISTINCT {_ambito_key(e.ambito)} AS aid FROM cas WHERE {votes_in})
), amb2 AS (SELECT *, {' + '.join(f's{k}' for k in range(nv))} AS stotal FROM amb),
c AS (
  SELECT cas.*, {_ambito_key(e.ambito)} AS aid, {u(1)} AS r,
    {close} + to_microseconds(CAST(round(least({arrival}, 24.3) * 3600) AS BIGINT) * 1000000)
      AS registro
  FROM cas WHERE {votes_in}
), v AS (
  SELECT c.*,
    CASE WHEN tipo = 'S' THEN 150 + CAST(floor({u(6)} * 551) AS BIGINT) ELSE lista_nominal END AS ln_c,
    CAST(floor((CASE WHEN tipo = 'S' THEN 150 + CAST(floor({u(6)} * 551) AS BIGINT)
      ELSE lista_nominal END) * a.turnout * (0.85 + 0.3 * {u(7)})) AS BIGINT) AS voters,
    {u(10)} AS q, {u(11)} < 0.20 AS sind, {u(12)} < 0.02 AS ileg, {u(13)} < 0.55 AS movil,
    registro - to_microseconds(CAST(20 + floor({u(14)} * 381) AS BIGINT) * 1000000) AS captura
  FROM c JOIN amb2 a ON a.aid = c.aid
  WHERE r >= 0.018 AND registro <= {end}
), w AS (SELECT v.*, a.ci_runs, {votes} FROM v JOIN amb2 a ON a.aid = v.aid),
m AS (SELECT *, {', '.join(marked)} FROM w),
t AS (
  SELECT *, CAST({total} AS BIGINT) AS total,
    captura - to_microseconds(CAST(CASE WHEN movil THEN floor({u(15)} * 6)
      ELSE 1 + floor({u(15)} * 90) END AS BIGINT) * 60000000) AS acopio
  FROM m
), f AS (
  SELECT cas.ent, cas.seccion, 1000000000 + k AS n, c2.registro
  FROM range(greatest(1, (SELECT count(*) FROM cas WHERE {votes_in}) // 1200)) AS g(k)
  JOIN cas ON cas.n = 1 + CAST(floor({u(3001, 'k')} * (SELECT count(*) FROM cas)) AS BIGINT)
  CROSS JOIN LATERAL (SELECT {close} + to_microseconds(CAST(round(least(
    exp(ln(3.6) + 0.62 * {gauss(1500, 'k')}), 24.3) * 3600) AS BIGINT) * 1000000) AS registro) c2
  WHERE c2.registro <= {end}
)
SELECT {', '.join(f'"{x}"' for x in names)} FROM (
  SELECT registro AS o1, ent AS o2, seccion AS o3, tipo AS o4, numero AS o5, n AS o6,
    {select(cap)} FROM t WHERE r >= 0.030
  UNION ALL
  SELECT registro, ent, seccion, tipo, numero, n, {select(sin)} FROM v WHERE r < 0.030
  UNION ALL
  SELECT registro, ent, seccion, 'C', 90, n, {select(fuera)} FROM f
) ORDER BY o1, o2, o3, o4, o5, o6
) TO {sql_text(str(path))} (FORMAT csv, HEADER true)"""


def write_national(p: NationalProfile, seed: int, root: Path, year: int) -> None:
    """Write the election directory of a national profile into ``root`` (an empty folder)."""

    rng = random.Random(f"{p.name}:{seed}")
    (root / "election.toml").write_text(_election_toml(p, year), encoding="utf-8")
    rows = _catalog(p, rng)
    write_csv(root / "casillas.csv", NACIONAL_CASILLA_COLUMNS, rows)
    (root / "candidaturas").mkdir()
    (root / "capturas").mkdir()
    proceso = read_proceso(root / "election.toml")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            "CREATE TABLE cas AS SELECT row_number() OVER () AS n, CAST(ID_ENTIDAD AS BIGINT) AS ent, "
            "CAST(ID_DISTRITO_FEDERAL AS BIGINT) AS distrito, CAST(SECCION AS BIGINT) AS seccion, "
            "TIPO_CASILLA AS tipo, CAST(ID_CASILLA AS BIGINT) AS numero, "
            "CAST(EXT_CONTIGUA AS BIGINT) AS ext, CAST(LISTA_NOMINAL AS BIGINT) AS lista_nominal, "
            "CAST(REPRESENTANTES_PP_CI AS BIGINT) AS representantes, NULL::VARCHAR[] AS elecciones, "
            "printf('%02d%04d%s%02d%02d', CAST(ID_ENTIDAD AS BIGINT), CAST(SECCION AS BIGINT), "
            "TIPO_CASILLA, CAST(ID_CASILLA AS BIGINT), CAST(EXT_CONTIGUA AS BIGINT)) AS clave "
            f"FROM read_csv({sql_text(str(root / 'casillas.csv'))}, all_varchar=true)")
        for i, e in enumerate(proceso.elections):
            ambitos = sorted({int(a) for (a,) in con.execute(
                f"SELECT DISTINCT {_ambito_key(e.ambito)} FROM cas").fetchall()})
            ci = {a for a in ambitos if rng.random() < 0.12}
            write_csv(root / "candidaturas" / f"{e.id}.csv", CANDIDATURA_COLUMNS,
                       candidaturas(e, ambitos, rng, ci))
            feed = root / "capturas" / f"{e.id}.csv"
            con.execute(_feed_sql(proceso, i, e, seed, ci, feed))
    finally:
        con.close()
