"""The capture feed: one CSV per election that the capture system appends to during the night.

Each line is one record of one acta; a later record of the same casilla replaces an earlier one
(a recapture after cotejo). A cut at time T holds every record whose FECHA_HORA_REGISTRO is at
or before T. A last line without its line end is still being written: it is left for the next
read.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path

from prepcast.election.acta import Acta, FieldValue, Status, parse_field
from prepcast.election.model import Election
from prepcast.errors import InputError, Problem
from prepcast.files import decode_utf8, read_bytes

log = logging.getLogger(__name__)

HEAD = (
    "FECHA_HORA_REGISTRO", "ESTADO", "SECCION", "TIPO_CASILLA", "ID_CASILLA", "EXT_CONTIGUA",
    "ID_DISTRITO_LOCAL", "ID_MUNICIPIO", "SIN_ACTA_MOTIVO", "TOTAL_BOLETAS_SOBRANTES",
    "TOTAL_PERSONAS_VOTARON", "TOTAL_REP_PARTIDO_CI_VOTARON", "TOTAL_VOTOS_SACADOS",
)  # fmt: skip
TAIL = (
    "TOTAL_VOTOS_ASENTADO", "MECANISMOS_TRASLADO", "CODIGO_INTEGRIDAD", "FECHA_HORA_ACOPIO",
    "FECHA_HORA_CAPTURA", "FECHA_HORA_VERIFICACION", "ORIGEN", "DIGITALIZACION",
    "TIPO_DOCUMENTO", "COTEJADA",
)  # fmt: skip
ESTADOS = {"CAPTURADA": Status.CAPTURADA, "SIN_ACTA": Status.SIN_ACTA,
           "FUERA_CATALOGO": Status.FUERA_CATALOGO}


def feed_header(election: Election, *, nacional: bool = False) -> list[str]:
    """The feed's columns; a national proceso's feed ends with the acta's ID_ENTIDAD."""
    return [*HEAD, *election.column_ids, *TAIL, *(("ID_ENTIDAD",) if nacional else ())]


def format_value(v: FieldValue) -> str:
    return str(v) if isinstance(v, int) else v.value


def _time(t: datetime | None) -> str:
    return t.isoformat() if t else ""


def feed_row(a: Acta) -> list[str]:
    return [
        a.registro.isoformat(), a.status.name, str(a.seccion), a.tipo_casilla, str(a.id_casilla),
        str(a.ext_contigua), "" if a.distrito is None else str(a.distrito),
        "" if a.municipio is None else str(a.municipio),
        "" if a.sin_acta_motivo is None else str(a.sin_acta_motivo),
        format_value(a.boletas_sobrantes), format_value(a.personas_votaron),
        format_value(a.representantes_votaron), format_value(a.votos_sacados),
        *(format_value(v) for v in a.votes),
        format_value(a.total_asentado), a.mecanismos_traslado, a.codigo_integridad,
        _time(a.acopio), _time(a.captura), _time(a.verificacion), a.origen, a.digitalizacion,
        a.tipo_documento, "" if a.cotejada is None else str(a.cotejada),
        *(() if a.entidad is None else (str(a.entidad),)),
    ]


def write_feed(path: Path, election: Election, actas: Iterable[Acta], *,
               nacional: bool = False) -> None:
    """Write a whole feed (temporary name, then rename); in a national proceso every acta
    carries its entidad."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(feed_header(election, nacional=nacional))
    for a in actas:
        w.writerow(feed_row(a))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)


def read_feed(path: Path, election: Election, tz: tzinfo, *,
              nacional: bool = False) -> Iterator[Acta]:
    """Every complete record of the feed, in file order."""
    data = read_bytes(path)
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        log.info("%s: last line still being written; left for the next read", path)
        data = data[:cut]
    text = decode_utf8(data, path, encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    expected = feed_header(election, nacional=nacional)
    if header != expected:
        unknown = [h for h in header if h not in expected]
        missing = [h for h in expected if h not in header]
        parts = []
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        raise InputError.at(path, "; ".join(parts) or "columns out of order", line=1)
    nv = len(election.columns)
    v0 = len(HEAD)
    src = str(path)
    problems: list[Problem] = []
    for line, rec in enumerate(reader, start=2):
        if not rec:
            continue
        if len(rec) != len(expected):
            problems.append(Problem(src, f"{len(rec)} fields, header has {len(expected)}", line))
            continue
        try:
            yield _record(rec, v0, nv, expected, tz, election.id, nacional)
        except _FieldError as exc:
            problems.append(Problem(src, exc.message, line, exc.field))
        if len(problems) >= 50:
            break
    if problems:
        raise InputError(problems)


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


def _record(rec: list[str], v0: int, nv: int, names: list[str], tz: tzinfo, eid: str,
            nacional: bool = False) -> Acta:
    def val(i: int) -> FieldValue:
        try:
            return parse_field(rec[i])
        except ValueError:
            raise _FieldError(names[i], f"not a number, Ilegible or Sin dato: {rec[i]!r}") from None

    def whole(i: int, optional: bool = False) -> int | None:
        s = rec[i].strip()
        if optional and not s:
            return None
        if not (s.isascii() and s.isdigit()):
            raise _FieldError(names[i], f"not a whole number: {s!r}")
        return int(s)

    def when(i: int, optional: bool = True) -> datetime | None:
        s = rec[i].strip()
        if not s and optional:
            return None
        try:
            t = datetime.fromisoformat(s)
        except ValueError:
            raise _FieldError(names[i], f"not a date-time like 2024-06-02T21:05:00-06:00: {s!r}") from None
        return t if t.tzinfo else t.replace(tzinfo=tz)

    estado = rec[1].strip().upper()
    if estado not in ESTADOS:
        raise _FieldError("ESTADO", f"{estado!r} is not CAPTURADA, SIN_ACTA or FUERA_CATALOGO")
    tail = v0 + nv
    registro = when(0, optional=False)
    assert registro is not None
    return Acta(
        eleccion=eid,
        seccion=whole(2) or 0,
        tipo_casilla=rec[3].strip(),
        id_casilla=whole(4) or 0,
        ext_contigua=whole(5) or 0,
        status=ESTADOS[estado],
        registro=registro,
        distrito=whole(6, True),
        municipio=whole(7, True),
        sin_acta_motivo=whole(8, True),
        boletas_sobrantes=val(9),
        personas_votaron=val(10),
        representantes_votaron=val(11),
        votos_sacados=val(12),
        votes=tuple(val(i) for i in range(v0, tail)),
        total_asentado=val(tail),
        mecanismos_traslado=rec[tail + 1].strip(),
        codigo_integridad=rec[tail + 2].strip(),
        acopio=when(tail + 3),
        captura=when(tail + 4),
        verificacion=when(tail + 5),
        origen=rec[tail + 6].strip(),
        digitalizacion=rec[tail + 7].strip(),
        tipo_documento=rec[tail + 8].strip(),
        cotejada=whole(tail + 9, True),
        entidad=whole(tail + 10) if nacional else None,
    )
