"""Read an election directory: the files a real institute can produce.

::

    ELECTION_DIR/
      election.toml                 the proceso: institute, entidad, schedule, rules, parties, elections
      casillas.csv                  the catalog of casillas (UTF-8, comma-separated, header row)
      candidaturas/<ELECCION>.csv   the candidaturas of each election
      capturas/<ELECCION>.csv       the capture feed of each election (grows during the night)

Every problem found is reported at once, with file, line and field (:class:`InputError`).
See ``docs/election-files.md`` for every field.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.election.acta import Acta
from prepcast.election.feed import read_feed
from prepcast.election.model import (
    Alliance,
    Ambito,
    Candidatura,
    Casilla,
    ColumnKind,
    Election,
    Party,
    Proceso,
    VoteColumn,
)
from prepcast.election.rules import DEFAULT_PROFILE, PROFILES
from prepcast.errors import InputError, Problem
from prepcast.files import read_text

CASILLA_COLUMNS = (
    "ID_ENTIDAD", "ID_DISTRITO_LOCAL", "DISTRITO_LOCAL", "ID_MUNICIPIO", "MUNICIPIO", "SECCION",
    "TIPO_CASILLA", "ID_CASILLA", "EXT_CONTIGUA", "UBICACION_CASILLA", "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI", "BOLETAS_ESPECIAL",
)  # fmt: skip
# A national proceso's catalog (INE's federal layout): each casilla names its entidad, and its
# distrito is the distrito federal.
NACIONAL_CASILLA_COLUMNS = (
    "ID_ENTIDAD", "ENTIDAD", "ID_DISTRITO_FEDERAL", "DISTRITO_FEDERAL", "ID_MUNICIPIO", "MUNICIPIO",
    "SECCION", "TIPO_CASILLA", "ID_CASILLA", "EXT_CONTIGUA", "UBICACION_CASILLA", "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI", "BOLETAS_ESPECIAL",
)  # fmt: skip
CANDIDATURA_COLUMNS = ("ID_AMBITO", "PARTIDO_CI", "CANDIDATURA_PROPIETARIA", "CANDIDATURA_SUPLENTE")
TIPOS = set("BCESMAP")


def casilla_columns(proceso: Proceso) -> tuple[str, ...]:
    """The columns casillas.csv must have for the proceso."""
    return NACIONAL_CASILLA_COLUMNS if proceso.nacional else CASILLA_COLUMNS


@dataclass(frozen=True)
class ElectionDir:
    path: Path
    proceso: Proceso
    casillas: tuple[Casilla, ...]
    feeds: dict[str, tuple[Acta, ...]]


def read_proceso_dir(root: Path, problems: list[Problem]) -> Proceso:
    """The proceso of an election directory with each election's candidaturas; problems of the
    candidaturas files are added to ``problems`` (the caller reports them with its own)."""
    proceso = read_proceso(root / "election.toml")
    elections = []
    for e in proceso.elections:
        try:
            cands = read_candidaturas(root / "candidaturas" / f"{e.id}.csv", e)
        except InputError as exc:
            problems.extend(exc.problems)
            cands = ()
        elections.append(replace(e, candidaturas=cands))
    return replace(proceso, elections=tuple(elections))


def load_election_dir(path: str | Path, *, with_feeds: bool = True) -> ElectionDir:
    root = Path(path)
    if not root.is_dir():
        raise InputError.at(root, "not an election directory")
    problems: list[Problem] = []
    proceso = read_proceso_dir(root, problems)
    try:
        casillas = read_casillas(root / "casillas.csv", proceso)
    except InputError as exc:
        problems.extend(exc.problems)
        casillas = ()
    if problems:
        raise InputError(problems)
    feeds: dict[str, tuple[Acta, ...]] = {}
    if with_feeds:
        for e in proceso.elections:
            feed = root / "capturas" / f"{e.id}.csv"
            feeds[e.id] = (tuple(read_feed(feed, e, proceso.tz, nacional=proceso.nacional))
                           if feed.exists() else ())
    return ElectionDir(root, proceso, casillas, feeds)


def _need(d: dict[str, Any], key: str, kind: type, src: str, where: str, problems: list[Problem]) -> Any:
    if key not in d:
        problems.append(Problem(src, f"missing {where}{key}"))
        return kind()
    v = d[key]
    if kind is datetime and isinstance(v, datetime):
        if v.tzinfo is None:
            problems.append(Problem(src, f"{where}{key} needs a UTC offset", field=key))
        return v
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        problems.append(Problem(src, f"{where}{key} must be a {kind.__name__}", field=key))
        return kind() if kind is not datetime else datetime(2000, 1, 1)
    return v


def _offset_minutes(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    hh, _, mm = text.lstrip("+-").partition(":")
    return sign * (int(hh) * 60 + int(mm or 0))


def read_proceso(path: Path) -> Proceso:
    src = str(path)
    text = read_text(path, missing="missing (the election's description)",
                     not_text="not valid TOML: not text in UTF-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.at(path, f"not valid TOML: {exc}") from None
    p: list[Problem] = []
    parties = []
    for i, raw in enumerate(data.get("partidos", [])):
        w = f"partidos[{i}]."
        parties.append(Party(_need(raw, "id", str, src, w, p), _need(raw, "nombre", str, src, w, p),
                             str(raw.get("color", "#666666"))))
    party_ids = {x.id for x in parties}
    elections = []
    for i, raw in enumerate(data.get("elecciones", [])):
        elections.append(_read_election(raw, f"elecciones[{i}].", src, party_ids, p))
    if not elections:
        p.append(Problem(src, "no [[elecciones]]"))
    offset = _need(data, "utc_offset", str, src, "", p)
    try:
        offset_min = _offset_minutes(offset) if offset else 0
    except ValueError:
        p.append(Problem(src, f"utc_offset {offset!r} is not like -06:00", field="utc_offset"))
        offset_min = 0
    rules = str(data.get("rules", DEFAULT_PROFILE))
    if rules not in PROFILES:
        p.append(Problem(src, f"unknown rules {rules!r} (known: {', '.join(PROFILES)})", field="rules"))
    proceso = Proceso(
        nombre=_need(data, "nombre", str, src, "", p),
        institute=_need(data, "institute", str, src, "", p),
        entidad_id=_need(data, "entidad_id", int, src, "", p),
        entidad=_need(data, "entidad", str, src, "", p),
        utc_offset_minutes=offset_min,
        start=_need(data, "start", datetime, src, "", p),
        end=_need(data, "end", datetime, src, "", p),
        cut_minutes=_need(data, "cut_minutes", int, src, "", p),
        image_base_url=str(data.get("image_base_url", "")),
        rules=rules,
        parties=tuple(parties),
        elections=tuple(elections),
        year=int(data.get("year", 0)),
    )
    national = [e.id for e in proceso.elections if e.ambito is Ambito.NACIONAL]
    if national and not proceso.nacional:
        p.append(Problem(src, f"ambito nacional ({', '.join(national)}) needs a national proceso "
                         "(entidad_id = 0)", field="ambito"))
    if not p and proceso.cut_minutes <= 0:
        p.append(Problem(src, "cut_minutes must be positive", field="cut_minutes"))
    if not p and proceso.end < proceso.start:
        p.append(Problem(src, "end is before start", field="end"))
    if p:
        raise InputError(p)
    return proceso


def _read_election(raw: dict[str, Any], w: str, src: str, party_ids: set[str],
                   p: list[Problem]) -> Election:
    eid = _need(raw, "id", str, src, w, p)
    ambito_text = _need(raw, "ambito", str, src, w, p)
    try:
        ambito = Ambito(ambito_text)
    except ValueError:
        p.append(Problem(src, f"{w}ambito must be nacional, entidad, distrito or municipio",
                         field="ambito"))
        ambito = Ambito.ENTIDAD
    partidos = list(_need(raw, "partidos", list, src, w, p))
    for pid in partidos:
        if pid not in party_ids:
            p.append(Problem(src, f"{w}partidos: unknown party {pid!r}", field="partidos"))
    columns = [VoteColumn(pid, ColumnKind.PARTIDO, (pid,)) for pid in partidos]
    alliances = []
    for j, a in enumerate(raw.get("alianzas", [])):
        aw = f"{w}alianzas[{j}]."
        kind = ColumnKind.COMUN if a.get("tipo") == "comun" else ColumnKind.COALICION
        members = tuple(_need(a, "partidos", list, src, aw, p))
        for pid in members:
            if pid not in partidos:
                p.append(Problem(src, f"{aw}partidos: {pid!r} is not among the election's partidos"))
        al = Alliance(_need(a, "id", str, src, aw, p), _need(a, "nombre", str, src, aw, p), members, kind)
        alliances.append(al)
        for combo in al.combinations():
            columns.append(VoteColumn("-".join(combo), kind, combo, al.nombre, al.id))
    for k in range(1, int(raw.get("independientes", 0)) + 1):
        columns.append(VoteColumn(f"CI_{k}", ColumnKind.INDEPENDIENTE, (), f"Candidatura independiente {k}"))
    columns.append(VoteColumn("NO_REGISTRADAS", ColumnKind.NO_REGISTRADAS, (), "Candidaturas no registradas"))
    columns.append(VoteColumn("NULOS", ColumnKind.NULOS, (), "Votos nulos"))
    return Election(
        id=eid,
        nombre=_need(raw, "nombre", str, src, w, p),
        titulo=str(raw.get("titulo", raw.get("nombre", ""))),
        ambito=ambito,
        tipo_acta=str(raw.get("tipo_acta", "2")),
        columns=tuple(columns),
        alliances=tuple(alliances),
        file_stem=str(raw.get("file_stem", eid)),
    )


def _rows(path: Path, required: Sequence[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = read_text(path, encoding="utf-8-sig", missing="missing")
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError.at(path, "empty file") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError.at(path, f"missing column(s) {', '.join(missing)}", line=1)
    rows = []
    for n, rec in enumerate(reader, start=2):
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) != len(header):
            raise InputError.at(path, f"{len(rec)} fields, header has {len(header)}", line=n)
        rows.append((n, rec))
    return header, rows


def read_casillas(path: Path, proceso: Proceso) -> tuple[Casilla, ...]:
    nacional = proceso.nacional
    header, rows = _rows(path, casilla_columns(proceso))
    ix = {h: i for i, h in enumerate(header)}
    dist = "ID_DISTRITO_FEDERAL" if nacional else "ID_DISTRITO_LOCAL"
    dist_name = "DISTRITO_FEDERAL" if nacional else "DISTRITO_LOCAL"
    has_elecciones = "ELECCIONES" in ix
    known = {e.id for e in proceso.elections}
    problems: list[Problem] = []
    out: list[Casilla] = []
    seen: dict[str, int] = {}
    src = str(path)

    def num(rec: list[str], col: str, line: int) -> int:
        v = rec[ix[col]].strip()
        if not (v.isascii() and v.isdigit()):
            problems.append(Problem(src, f"not a whole number: {v!r}", line, col))
            return 0
        return int(v)

    for line, rec in rows:
        tipo = rec[ix["TIPO_CASILLA"]].strip()
        if tipo not in TIPOS:
            problems.append(Problem(src, f"unknown casilla type {tipo!r} (B, C, E, S, M, A, P)",
                                    line, "TIPO_CASILLA"))
        elecciones = None
        if has_elecciones and rec[ix["ELECCIONES"]].strip():
            elecciones = frozenset(x.strip() for x in rec[ix["ELECCIONES"]].split(";") if x.strip())
            for x in elecciones - known:
                problems.append(Problem(src, f"unknown election {x!r}", line, "ELECCIONES"))
        c = Casilla(
            entidad_id=num(rec, "ID_ENTIDAD", line),
            distrito=num(rec, dist, line),
            distrito_nombre=rec[ix[dist_name]].strip(),
            municipio=num(rec, "ID_MUNICIPIO", line),
            municipio_nombre=rec[ix["MUNICIPIO"]].strip(),
            seccion=num(rec, "SECCION", line),
            tipo=tipo,
            numero=num(rec, "ID_CASILLA", line),
            ext_contigua=num(rec, "EXT_CONTIGUA", line),
            ubicacion=num(rec, "UBICACION_CASILLA", line),
            lista_nominal=num(rec, "LISTA_NOMINAL", line),
            representantes=num(rec, "REPRESENTANTES_PP_CI", line),
            boletas_especial=num(rec, "BOLETAS_ESPECIAL", line),
            elecciones=elecciones,
            nacional=nacional,
            entidad_nombre=rec[ix["ENTIDAD"]].strip() if nacional else proceso.entidad,
        )
        if nacional and not 1 <= c.entidad_id <= 32:
            problems.append(Problem(src, f"entidad {c.entidad_id} is not an entidad federativa "
                                    "(1 to 32)", line, "ID_ENTIDAD"))
        elif not nacional and c.entidad_id != proceso.entidad_id:
            problems.append(Problem(src, f"entidad {c.entidad_id} is not the proceso's "
                                    f"{proceso.entidad_id}", line, "ID_ENTIDAD"))
        if c.clave in seen:
            problems.append(Problem(src, f"casilla {c.clave} repeats line {seen[c.clave]}", line))
        seen[c.clave] = line
        out.append(c)
        if len(problems) > 100:
            break
    if problems:
        raise InputError(problems)
    return tuple(out)


def read_candidaturas(path: Path, election: Election) -> tuple[Candidatura, ...]:
    header, rows = _rows(path, CANDIDATURA_COLUMNS)
    ix = {h: i for i, h in enumerate(header)}
    cols = set(election.column_ids)
    problems: list[Problem] = []
    out = []
    for line, rec in rows:
        aid = rec[ix["ID_AMBITO"]].strip()
        col = rec[ix["PARTIDO_CI"]].strip()
        if not (aid.isascii() and aid.isdigit()):
            problems.append(Problem(str(path), f"not a whole number: {aid!r}", line, "ID_AMBITO"))
            continue
        if col not in cols:
            problems.append(Problem(str(path), f"{col!r} is not a vote column of {election.id}",
                                    line, "PARTIDO_CI"))
            continue
        out.append(Candidatura(election.id, int(aid), col, rec[ix["CANDIDATURA_PROPIETARIA"]].strip(),
                               rec[ix["CANDIDATURA_SUPLENTE"]].strip()))
    if problems:
        raise InputError(problems)
    return tuple(out)
