"""Import a published PREP database (INE's layout and its variants) as an election directory.

The rows give the catalog (each registered casilla with its lista nominal and representantes),
the vote columns give the parties, coalitions (every combination of two or more parties, largest
first) and independents, the candidaturas file gives the candidaturas, and each row becomes one
record of the capture feed, registered at its verification time (else its capture time, else the
cut). The result reads with :func:`prepcast.election.load_election_dir`; the database of its last
cut recounts to the figures the institute published.

Every bad row is reported at once, with its line (:class:`InputError`).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path, PurePosixPath

from prepcast.election.acta import Acta, FieldValue, Mark, Status
from prepcast.election.catalog import (
    CANDIDATURA_COLUMNS,
    CASILLA_COLUMNS,
    TIPOS,
    read_casillas,
    read_proceso,
)
from prepcast.election.feed import feed_header, feed_row
from prepcast.election.model import Election, Proceso, offset_text
from prepcast.election.rules import DEFAULT_PROFILE, PROFILES
from prepcast.errors import InputError, Problem
from prepcast.formats.read_candidaturas_csv import read_candidaturas_csv
from prepcast.formats.read_prep_csv import (
    PublishedDatabase,
    clean_key,
    column_id,
    parse_field,
    read_prep_csv,
)

_CUT = re.compile(r"(\d{2})/(\d{2})/(\d{4})|(\d{4})[/-](\d{2})[/-](\d{2})")
_TIME = re.compile(r"^(?:(\d{2})/(\d{2})/(\d{4})|(\d{4})[/-](\d{2})[/-](\d{2}))[ T](\d{2}):(\d{2})(?::(\d{2}))?$")
_OFFSET = re.compile(r"\(UTC([+-])(\d{1,2})(?::(\d{2}))?\)")
_SIN_ACTA = {"no entregado": 1, "no instalada": 2, "sin sobre": 3}


@dataclass(frozen=True)
class Imported:
    """What an import found: enough to say it in one line."""

    path: Path
    eleccion: str
    casillas: int
    actas: int
    cut: datetime


def _vote_columns(db: PublishedDatabase, problems: list[Problem]) -> tuple[list[str], list[tuple[str, ...]], int]:
    """The election's parties, its alliances (each as its parties, largest combination first) and
    its number of independents, checked against the order prepcast gives vote columns."""
    parties: list[str] = []
    combos: list[tuple[str, ...]] = []
    independents = 0
    for name in db.vote_columns:
        cid, members = column_id(name)
        if cid.startswith("CI_"):
            independents += 1
        elif len(members) == 1:
            parties.append(members[0])
        elif len(members) > 1:
            combos.append(members)
    alliances = [c for c in combos if not any(set(c) < set(d) for d in combos)]
    expected = [*parties, *("-".join(c) for a in alliances for size in range(len(a), 1, -1)
                            for c in combinations(a, size)),
                *(f"CI_{k}" for k in range(1, independents + 1)), "NO_REGISTRADAS", "NULOS"]
    got = [column_id(n)[0] for n in db.vote_columns]
    if sorted(got) != sorted(expected):
        problems.append(Problem(db.path, "vote columns are not parties, every combination of two "
                                f"or more parties of each coalition, independents, NO_REGISTRADAS "
                                f"and NULOS: {', '.join(db.vote_columns)}"))
    return parties, alliances, independents


def _when(text: str, tz: timezone) -> datetime | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    g = m.groups()
    d, mo, y = (g[0], g[1], g[2]) if g[0] else (g[5], g[4], g[3])
    return datetime(int(y), int(mo), int(d), int(g[6]), int(g[7]), int(g[8] or 0), tzinfo=tz)


def _cut_time(db: PublishedDatabase) -> datetime:
    m, o = _CUT.search(db.cut_line), _OFFSET.search(db.cut_line)
    if not m or not o:
        raise InputError.at(db.path, f"no cut date and time like 20/02/2023 11:05 (UTC-6): "
                            f"{db.cut_line!r}", line=2)
    minutes = (int(o.group(2)) * 60 + int(o.group(3) or 0)) * (-1 if o.group(1) == "-" else 1)
    tz = timezone(timedelta(minutes=minutes))
    hm = re.search(r"(\d{2}):(\d{2})", db.cut_line[m.end():])
    g = m.groups()
    d, mo, y = (g[0], g[1], g[2]) if g[0] else (g[5], g[4], g[3])
    assert hm is not None
    return datetime(int(y), int(mo), int(d), int(hm.group(1)), int(hm.group(2)), tzinfo=tz)


def _whole(text: str) -> bool:
    """Whether ``text`` (stripped) is a whole number in ASCII digits (``int`` takes other
    scripts' digits, and ``str.isdigit`` takes superscripts ``int`` refuses)."""
    s = text.strip()
    return s.isascii() and s.isdigit()


def _int(text: str, default: int = 0) -> int:
    return int(text.strip()) if _whole(text) else default


def import_database(file: Path, out: Path, *, candidaturas: Path | None = None,
                    catalogo: Path | None = None, rules: str = DEFAULT_PROFILE,
                    eleccion: str | None = None, cut_minutes: int = 20,
                    instituto: str | None = None, last_cut: datetime | None = None) -> Imported:
    """Write the election directory ``out`` (a new directory) from the published database.

    ``file`` is the database CSV or a database zip holding exactly one (its candidaturas CSV and
    LEEME aside). ``instituto`` names the institute in the proceso id (``QROO-2019``); by default
    the first part of the CSV's name (``QROO_DIP_LOC_2019.csv`` → ``QROO``), inside a zip too. ``last_cut`` is the night's
    last scheduled cut (default: the file's own cut), for a directory made from an early cut
    (the first drop of a capture system) to serve the whole night."""
    if cut_minutes < 1:
        raise InputError(f"--cut-minutes {cut_minutes}: at least 1")
    if rules not in PROFILES:
        raise InputError(f"unknown rules {rules!r} (known: {', '.join(PROFILES)})")
    if instituto is not None:
        _check_institute(instituto)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):  # an empty one is taken
        raise InputError.at(out, "already exists; give a new or empty directory")
    if catalogo is not None and not catalogo.is_file():
        raise InputError.at(catalogo, "missing")
    db = read_prep_csv(file)
    stem = database_stem(file, db)
    institute = instituto if instituto is not None else stem.split("_", 1)[0].upper()
    _check_institute(institute)
    cut = _cut_time(db)
    tz = cut.tzinfo
    assert isinstance(tz, timezone)
    problems: list[Problem] = []
    parties, alliances, independents = _vote_columns(db, problems)
    eid = eleccion or re.sub(r"[^A-Z0-9_]", "_", stem.upper())
    ids = [column_id(n)[0] for n in db.vote_columns]
    ent_ids = Counter(_int(r.get("ID_ENTIDAD", "")) for r in db.rows)
    entidad_id = ent_ids.most_common(1)[0][0] if ent_ids else 0
    entidad = Counter(r.get("ENTIDAD", "").strip() for r in db.rows).most_common(1)[0][0] if db.rows else ""
    has_municipio = "ID_MUNICIPIO" in db.columns
    cand_rows, ambito = read_candidaturas_csv(candidaturas, db, problems)
    casillas: dict[str, list[str]] = {}
    lines: dict[str, int] = {}  # each casilla's line in the database
    actas: list[Acta] = []
    for row, line in zip(db.rows, db.row_lines, strict=True):
        acta = _acta(db, row, line, eid, ids, cut, tz, problems)
        if acta is None:
            continue
        actas.append(acta)
        if acta.status is Status.FUERA_CATALOGO:
            continue
        clave = acta.casilla_clave(entidad_id)
        if clave in casillas:
            problems.append(Problem(db.path, f"casilla {clave} repeats", line, "CLAVE_CASILLA"))
            continue
        total = sum(v for v in acta.votes if isinstance(v, int))
        lines[clave] = line
        casillas[clave] = [
            str(entidad_id), str(_int(row.get("ID_DISTRITO", ""))), row.get("DISTRITO", "").strip(),
            str(_int(row.get("ID_MUNICIPIO", ""))) if has_municipio else "0",
            row.get("MUNICIPIO", "").strip() if has_municipio else "",
            str(acta.seccion), acta.tipo_casilla, str(acta.id_casilla), str(acta.ext_contigua),
            str(_int(row.get("UBICACION_CASILLA", ""), 1)), str(_int(row.get("LISTA_NOMINAL", ""))),
            str(_int(row.get("REPRESENTANTES_PP_CI", ""))),
            # the database does not say how many ballots an especial had: never fewer than its votes
            str(max(750, total)) if acta.tipo_casilla == "S" else "0",
        ]
    esperadas = _int(db.preamble.get("ACTAS_ESPERADAS", ""))
    if catalogo is None and len(casillas) != esperadas:
        problems.append(Problem(db.path, f"ACTAS_ESPERADAS is {esperadas} but the rows name "
                                f"{len(casillas)} casillas; give the catalog with --catalogo",
                                field="ACTAS_ESPERADAS"))
    if problems:
        raise InputError(problems[:100])
    end = cut if last_cut is None else last_cut
    if end < cut:
        raise InputError(f"--last-cut {end.isoformat()} is before the file's cut {cut.isoformat()}")
    first = min((a.registro for a in actas), default=cut)
    steps = max(0, -(-int((end - first).total_seconds()) // (cut_minutes * 60)))
    toml = _election_toml(db, eid, end - timedelta(minutes=cut_minutes * steps), end, cut_minutes,
                          rules, entidad_id, entidad, parties, alliances, independents, ambito,
                          Counter(r.get("TIPO_ACTA", "").strip() for r in db.rows).most_common(1)[0][0]
                          if db.rows else "2", stem, institute)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_dir(tmp, toml, eid, ids, actas, casillas, cand_rows, catalogo)
        if catalogo is not None:
            _check_catalog(tmp, catalogo, db.path, lines)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(out)
    return Imported(out, eid, len(casillas), len(actas), cut)


def database_stem(file: Path, db: PublishedDatabase) -> str:
    """The name the ids default to: the database CSV's, without its suffix, also when ``file``
    is a database zip (``20240602_2020_PREP_DIP_LOC.zip`` holding ``IEEM_DIP_LOC_2024.csv``:
    ``IEEM_DIP_LOC_2024``), so a zip imports as the CSV inside it would."""
    inside = db.path.removeprefix(f"{file}:") if db.path != str(file) else None
    return PurePosixPath(inside).stem if inside else file.stem


def _check_institute(institute: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", institute):
        raise InputError(f"--instituto {institute[:40]!r}: letters, digits and '-' only "
                         "(e.g. IEEM), at most 32")


def database_cut_time(db: PublishedDatabase) -> datetime:
    """The cut date and time the database's second line states, with its UTC offset."""
    return _cut_time(db)


def actas_of_database(db: PublishedDatabase, election: Election) -> tuple[Acta, ...]:
    """The capture feed of ``election`` that the database's rows make (as an import makes it),
    its vote columns in the election's order; every bad row at once (:class:`InputError`)."""
    cut = _cut_time(db)
    tz = cut.tzinfo
    assert isinstance(tz, timezone)
    ids = [column_id(n)[0] for n in db.vote_columns]
    if sorted(ids) != sorted(election.column_ids):
        raise InputError.at(db.path, f"vote columns {', '.join(db.vote_columns)} are not those "
                            f"of election {election.id}: {', '.join(election.column_ids)}")
    order = [ids.index(c) for c in election.column_ids]
    problems: list[Problem] = []
    actas = []
    for row, line in zip(db.rows, db.row_lines, strict=True):
        acta = _acta(db, row, line, election.id, ids, cut, tz, problems)
        if acta is not None:
            actas.append(_reorder(acta, order))
    if problems:
        raise InputError(problems[:100])
    return tuple(actas)


def _write_dir(tmp: Path, toml: str, eid: str, ids: list[str], actas: list[Acta],
               casillas: dict[str, list[str]], cand_rows: list[list[str]],
               catalogo: Path | None) -> None:
    (tmp / "capturas").mkdir(parents=True)
    (tmp / "candidaturas").mkdir()
    (tmp / "election.toml").write_text(toml, encoding="utf-8")
    if catalogo is not None:
        (tmp / "casillas.csv").write_bytes(catalogo.read_bytes())
    else:
        _write_csv(tmp / "casillas.csv", list(CASILLA_COLUMNS), list(casillas.values()))
    _write_csv(tmp / "candidaturas" / f"{eid}.csv", list(CANDIDATURA_COLUMNS), cand_rows)
    proceso: Proceso = read_proceso(tmp / "election.toml")
    election: Election = proceso.elections[0]
    order = [ids.index(c) for c in election.column_ids]
    _write_csv(tmp / "capturas" / f"{eid}.csv", feed_header(election),
               [feed_row(_reorder(a, order)) for a in actas])


def _check_catalog(tmp: Path, catalogo: Path, db_path: str, lines: dict[str, int]) -> None:
    """The catalog given with --catalogo is read as ``database build`` reads it, and names every
    casilla of the database's rows (those not fuera de catálogo)."""
    try:
        known = {c.clave for c in read_casillas(tmp / "casillas.csv", read_proceso(tmp / "election.toml"))}
    except InputError as exc:  # the problems name the catalog given, not the copy
        copy = str(tmp / "casillas.csv")
        raise InputError([replace(p, source=str(catalogo)) if p.source == copy else p
                          for p in exc.problems]) from None
    problems = [Problem(db_path, f"casilla {clave} is not in the catalog {catalogo}", line,
                        "CLAVE_CASILLA") for clave, line in lines.items() if clave not in known]
    if problems:
        raise InputError(problems[:100])


def _reorder(a: Acta, order: list[int]) -> Acta:
    return replace(a, votes=tuple(a.votes[i] for i in order))


def _acta(db: PublishedDatabase, row: dict[str, str], line: int, eid: str, ids: list[str],
          cut: datetime, tz: timezone, problems: list[Problem]) -> Acta | None:
    obs = row["OBSERVACIONES"].strip()
    low = obs.lower()
    fuera = clean_key(row.get("CLAVE_CASILLA", "")) == "-" or "fuera de cat" in low
    sin_acta = low.startswith("sin acta")
    key = clean_key(row.get("CLAVE_CASILLA", ""))
    seccion = _int(row.get("SECCION", ""), -1)
    numero = _int(row.get("ID_CASILLA", ""), -1)
    ext = _int(row.get("EXT_CONTIGUA", ""), -1)
    tipo = row.get("TIPO_CASILLA", "").strip().upper()
    if len(key) == 11 and key[6] in TIPOS:  # the key says what N/A hides (e.g. voto en el extranjero)
        seccion = seccion if seccion >= 0 else int(key[2:6]) if key[2:6].isascii() and key[2:6].isdigit() else -1
        numero = numero if numero >= 0 else int(key[7:9]) if key[7:9].isascii() and key[7:9].isdigit() else -1
        ext = ext if ext >= 0 else int(key[9:11]) if key[9:11].isascii() and key[9:11].isdigit() else -1
    for name, v in (("SECCION", seccion), ("ID_CASILLA", numero), ("EXT_CONTIGUA", ext)):
        if v < 0:
            problems.append(Problem(db.path, f"not a whole number: {row.get(name, '')!r}", line, name))
    if tipo not in TIPOS:
        problems.append(Problem(db.path, f"unknown casilla type {tipo!r}", line, "TIPO_CASILLA"))
    votes: list[FieldValue] = []
    if not (fuera or sin_acta):
        for col in db.vote_columns:
            try:
                votes.append(parse_field(row[col]))
            except ValueError:
                problems.append(Problem(db.path, f"not a vote count: {row[col]!r}", line, col))
    if len(problems) > 100 or seccion < 0 or numero < 0 or ext < 0 or tipo not in TIPOS:
        return None
    if fuera or sin_acta:
        votes = [Mark.SIN_DATO] * len(ids)

    def value(col: str) -> FieldValue:
        try:
            return parse_field(row.get(col, ""))
        except ValueError:
            return Mark.SIN_DATO

    def text(col: str) -> str:
        v = row.get(col, "").strip()
        return "" if v == "-" else v

    captura = _when(row.get("FECHA_HORA_CAPTURA", ""), tz)
    verificacion = _when(row.get("FECHA_HORA_VERIFICACION", ""), tz)
    motivo = None
    if sin_acta:
        m = re.search(r"\((\d)\)", obs)
        motivo = int(m.group(1)) if m else next((n for k, n in _SIN_ACTA.items() if k in low), None)
    return Acta(
        eleccion=eid, seccion=seccion, tipo_casilla=tipo, id_casilla=numero, ext_contigua=ext,
        status=Status.FUERA_CATALOGO if fuera else Status.SIN_ACTA if sin_acta else Status.CAPTURADA,
        registro=min(verificacion or captura or cut, cut), votes=tuple(votes),
        sin_acta_motivo=motivo,
        boletas_sobrantes=value("TOTAL_BOLETAS_SOBRANTES"), personas_votaron=value("TOTAL_PERSONAS_VOTARON"),
        representantes_votaron=value("TOTAL_REP_PARTIDO_CI_VOTARON"),
        votos_sacados=value("TOTAL_VOTOS_SACADOS"), total_asentado=value("TOTAL_VOTOS_ASENTADO"),
        mecanismos_traslado=text("MECANISMOS_TRASLADO"), codigo_integridad=text("CODIGO_INTEGRIDAD"),
        acopio=_when(row.get("FECHA_HORA_ACOPIO", ""), tz), captura=captura, verificacion=verificacion,
        origen=text("ORIGEN"), digitalizacion=text("DIGITALIZACION"),
        tipo_documento=text("TIPO_DOCUMENTO"),
        cotejada=_int(row["COTEJADA"]) if _whole(row.get("COTEJADA", "")) else None,
        distrito=_int(row.get("ID_DISTRITO", "")) if fuera else None,
        municipio=_int(row.get("ID_MUNICIPIO", "")) if fuera and "ID_MUNICIPIO" in row else None,
    )


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a TOML basic string


def _election_toml(db: PublishedDatabase, eid: str, start: datetime, end: datetime, cut_minutes: int,
                   rules: str, entidad_id: int, entidad: str, parties: list[str],
                   alliances: list[tuple[str, ...]], independents: int, ambito: str, tipo_acta: str,
                   stem: str, institute: str) -> str:
    off = end.utcoffset()
    assert off is not None
    offset = offset_text(int(off.total_seconds() // 60))
    out = [f"nombre = {_q(db.title or eid)}", f"institute = {_q(institute)}", f"entidad_id = {entidad_id}",
           f"entidad = {_q(entidad)}", f"year = {end.year}", f'utc_offset = "{offset}"',
           f"start = {start.isoformat()}", f"end = {end.isoformat()}", f"cut_minutes = {cut_minutes}",
           f'rules = "{rules}"', ""]
    for p in parties:
        out += ["[[partidos]]", f"id = {_q(p)}", f"nombre = {_q(p)}", ""]
    out += ["[[elecciones]]", f"id = {_q(eid)}", f"nombre = {_q(db.title or eid)}",
            f"titulo = {_q(db.title or eid)}", f'ambito = "{ambito}"', f"tipo_acta = {_q(tipo_acta)}",
            f"file_stem = {_q(stem)}", f"partidos = [{', '.join(_q(p) for p in parties)}]",
            f"independientes = {independents}", ""]
    for a in alliances:
        name = "-".join(a)
        out += ["[[elecciones.alianzas]]", f"id = {_q(name)}", f"nombre = {_q(name)}",
                f"partidos = [{', '.join(_q(p) for p in a)}]", ""]
    return "\n".join(out)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
