"""Read a published PREP database (CSV) in the layouts institutes use.

Handles INE's layout (comma, UTF-8 with BOM, CR line ends, keys as ``'280749B0100'``,
``Sin dato``/``Ilegible``, dates ``dd/mm/yyyy HH:MM:SS``, ``CODIGO_INTEGRIDAD``) and the OPLE
variant of Quintana Roo 2019 (``sep=|`` first line, pipes, keys as ``="230085B0100"``, upper-case
placeholders, ISO dates, ``SHA``), and mixes of both: any line ending, BOM or not, any casing of
the placeholders, cp1252 when the bytes are not UTF-8. A database zip (what institutes publish,
what ``database build`` writes) is read through the database CSV inside it.

Vote columns are the columns between ``TOTAL_VOTOS_SACADOS`` and ``TOTAL_VOTOS_ASENTADO``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from prepcast.election.acta import FieldValue, Mark
from prepcast.election.acta import parse_field as parse_acta_field
from prepcast.election.rules import PREAMBLE_FIELDS
from prepcast.errors import InputError, Problem
from prepcast.files import read_bytes

# Columns a PREP database may carry besides the vote columns, with the names each layout uses.
ALIASES = {
    "ID_ESTADO": "ID_ENTIDAD",
    "ESTADO": "ENTIDAD",
    "ID_DISTRITO": "ID_DISTRITO",
    "ID_DISTRITO_FEDERAL": "ID_DISTRITO",
    "ID_DISTRITO_LOCAL": "ID_DISTRITO",
    "DISTRITO_FEDERAL": "DISTRITO",
    "DISTRITO_LOCAL": "DISTRITO",
    "SHA": "CODIGO_INTEGRIDAD",
    "ACTAS_FUERA_DE_CATALOGO": "ACTAS_FUERA_CATALOGO",
    "PORCENTAJE_ACTAS_CON_INCONSISTENCIAS": "PORCENTAJE_ACTAS_INCONSISTENCIAS",
}
KNOWN_COLUMNS = {
    "CLAVE_CASILLA", "CLAVE_ACTA", "ID_ENTIDAD", "ENTIDAD", "ID_DISTRITO", "DISTRITO",
    "ID_MUNICIPIO", "MUNICIPIO", "SECCION", "ID_CASILLA", "TIPO_CASILLA", "EXT_CONTIGUA",
    "UBICACION_CASILLA", "TIPO_ACTA", "TOTAL_BOLETAS_SOBRANTES", "TOTAL_PERSONAS_VOTARON",
    "TOTAL_REP_PARTIDO_CI_VOTARON", "TOTAL_VOTOS_SACADOS", "TOTAL_VOTOS_ASENTADO",
    "TOTAL_VOTOS_CALCULADO", "LISTA_NOMINAL", "REPRESENTANTES_PP_CI", "OBSERVACIONES",
    "CONTABILIZADA", "MECANISMOS_TRASLADO", "CODIGO_INTEGRIDAD", "FECHA_HORA_ACOPIO",
    "FECHA_HORA_CAPTURA", "FECHA_HORA_VERIFICACION", "ORIGEN", "DIGITALIZACION",
    "TIPO_DOCUMENTO", "COTEJADA",
}  # fmt: skip
REQUIRED_COLUMNS = (
    "TIPO_CASILLA", "TOTAL_VOTOS_SACADOS", "TOTAL_VOTOS_ASENTADO", "TOTAL_VOTOS_CALCULADO",
    "LISTA_NOMINAL", "OBSERVACIONES", "CONTABILIZADA",
)  # fmt: skip
_SPECIAL = {"NO_REGISTRADOS": "NO_REGISTRADAS", "NO_REGISTRADAS": "NO_REGISTRADAS", "NULOS": "NULOS"}
_CUT_LINE = re.compile(r"^\s*(\d{2}/\d{2}/\d{4}|\d{4}[/-]\d{2}[/-]\d{2}) \d{2}:\d{2} \(UTC[+-]\d")


@dataclass
class PublishedDatabase:
    path: str
    title: str
    cut_line: str
    preamble: dict[str, str]
    columns: list[str]  # normalised names, in file order
    vote_columns: list[str]
    rows: list[dict[str, str]]
    row_lines: list[int]  # line number of each row in the file (1-based)
    delimiter: str = ","
    problems: list[Problem] = field(default_factory=list)


def decode_text(data: bytes, source: str | Path) -> str:
    """The text of a CSV as institutes write them: UTF-8 (with or without BOM), else cp1252 (the
    Windows encoding of the older databases). Anything else is refused naming ``source``, never
    read with replacement characters."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        raise InputError.at(source, "not a text file (it holds NUL bytes): give a CSV")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError.at(source, f"not text in UTF-8 nor in cp1252 (byte {exc.start}: "
                                    f"{exc.reason}); give a CSV") from None


def database_members(names: list[str]) -> list[str]:
    """The database CSVs among the names of a zip's files (not its candidaturas CSV)."""
    return [n for n in names if n.lower().endswith(".csv") and "candidaturas" not in n.lower()]


UNREADABLE_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
                  NotImplementedError, RuntimeError)  # RuntimeError: an encrypted member


def database_of_zip(data: bytes, source: str | Path) -> tuple[str, bytes]:
    """The name and bytes of the one database CSV of a database zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = database_members(zf.namelist())
            if len(names) != 1:
                raise InputError.at(source, f"holds {len(names)} database CSVs, not one "
                                            f"({', '.join(names) or 'none'})")
            return names[0], zf.read(names[0])
    except UNREADABLE_ZIP as exc:
        raise InputError.at(source, f"not a readable zip ({exc})") from None


def column_id(name: str) -> tuple[str, tuple[str, ...]]:
    """A vote column's id in prepcast's spelling and its parties (``C_PAN_PRD`` → ``PAN-PRD``,
    ``CAND_IND_2`` → ``CI_2``, ``NO_REGISTRADOS`` → ``NO_REGISTRADAS``)."""
    up = name.strip().upper()
    if up in _SPECIAL:
        return _SPECIAL[up], ()
    m = re.fullmatch(r"(?:CAND_IND|CI|IND)_?(\d+)", up)
    if m:
        return f"CI_{int(m.group(1))}", ()
    parties = tuple(up[2:].split("_")) if up.startswith("C_") else tuple(up.split("-"))
    return "-".join(parties), parties


def clean_key(value: str) -> str:
    """``'280749B0100'`` and ``="230085B0100"`` become ``280749B0100``."""
    v = value.strip()
    if v.startswith("="):
        v = v[1:]
    return v.strip("'\"")


def parse_field(value: str) -> FieldValue:
    """A vote field of a published database: what :func:`prepcast.election.acta.parse_field`
    reads, plus ``Sin acta`` (counted as Sin dato; the acta is recognised by its OBSERVACIONES)
    and ``N/A``."""
    low = value.strip().lower()
    if low.startswith("sin acta"):
        return Mark.SIN_DATO
    if low == "n/a":
        return Mark.NO_APLICA
    return parse_acta_field(value)


def read_prep_csv(path: str | Path) -> PublishedDatabase:
    p = Path(path)
    data = read_bytes(p)
    if data.startswith(b"PK\x03\x04"):  # a database zip: the CSV inside it
        name, data = database_of_zip(data, p)
        source = f"{p}:{name}"
        return parse_prep_csv(decode_text(data, source), source)
    return parse_prep_csv(decode_text(data, p), str(p))


@dataclass(frozen=True)
class Head:
    """What precedes the rows: title, cut line and the preamble's figures."""

    delimiter: str
    title: str
    cut_line: str
    preamble: dict[str, str]
    end: int  # index of the line after the preamble's values


def parse_head(lines: list[str], source: str = "<csv>") -> Head:
    delimiter = ""
    start = 0
    if lines and lines[0].lower().startswith("sep="):
        delimiter = lines[0][4:5] or ","
        start = 1
    pre_idx = next(
        (i for i in range(start, len(lines)) if lines[i].strip().startswith("ACTAS_ESPERADAS")),
        None,
    )
    if pre_idx is None:
        raise InputError.at(source, "no preamble: no line starts with ACTAS_ESPERADAS; "
                            "not a PREP database")
    if not delimiter:
        head = lines[pre_idx]
        delimiter = "|" if head.count("|") > head.count(",") else ","
    title = ""
    cut_line = ""
    for i in range(start, pre_idx):
        s = lines[i].strip()
        if not s:
            continue
        if _CUT_LINE.match(s):
            cut_line = s
        elif not title:
            title = s
    pre_names = [ALIASES.get(n.strip(), n.strip()) for n in lines[pre_idx].split(delimiter)]
    if pre_idx + 1 >= len(lines):
        raise InputError.at(source, "preamble has no values", line=pre_idx + 2)
    pre_values = [v.strip() for v in lines[pre_idx + 1].split(delimiter)]
    preamble = dict(zip(pre_names, pre_values, strict=False))
    missing_pre = [n for n in PREAMBLE_FIELDS if n not in preamble]
    if missing_pre:
        raise InputError.at(source, f"preamble lacks {', '.join(missing_pre)}", line=pre_idx + 1)
    return Head(delimiter, title, cut_line, preamble, pre_idx + 2)


def parse_prep_csv(text: str, source: str = "<csv>") -> PublishedDatabase:
    lines = text.splitlines()
    head = parse_head(lines, source)
    delimiter, title, cut_line, preamble = head.delimiter, head.title, head.cut_line, head.preamble
    pre_idx = head.end - 2
    head_idx = next(
        (i for i in range(pre_idx + 2, len(lines)) if clean_key(lines[i]).startswith("CLAVE_")),
        None,
    )
    if head_idx is None:
        raise InputError.at(source, "no header row (a line starting with CLAVE_CASILLA)")
    reader = csv.reader(lines[head_idx:], delimiter=delimiter)
    header = [ALIASES.get(h.strip(), h.strip()) for h in next(reader)]
    problems: list[Problem] = []
    for req in REQUIRED_COLUMNS:
        if req not in header:
            problems.append(Problem(source, f"missing column {req}", head_idx + 1))
    if problems:
        raise InputError(problems)
    i0 = header.index("TOTAL_VOTOS_SACADOS") + 1
    i1 = header.index("TOTAL_VOTOS_ASENTADO")
    vote_columns = header[i0:i1]
    if not vote_columns:
        raise InputError.at(source, "no vote columns between TOTAL_VOTOS_SACADOS and "
                            "TOTAL_VOTOS_ASENTADO", line=head_idx + 1)
    for col in header[:i0] + header[i1:]:
        if col and col not in KNOWN_COLUMNS:
            problems.append(Problem(source, f"unknown column {col}", head_idx + 1, col))
    if problems:
        raise InputError(problems)
    rows: list[dict[str, str]] = []
    row_lines: list[int] = []
    ncol = len(header)
    for offset, rec in enumerate(reader, start=1):
        line_no = head_idx + 1 + offset
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue
        if len(rec) == ncol + 1 and not rec[-1].strip():
            rec = rec[:-1]
        if len(rec) != ncol:
            problems.append(Problem(source, f"{len(rec)} fields, header has {ncol}", line_no))
            continue
        rows.append(dict(zip(header, rec, strict=True)))
        row_lines.append(line_no)
    if problems:
        raise InputError(problems[:50] + ([Problem(source, f"... and {len(problems) - 50} more")]
                                          if len(problems) > 50 else []))
    return PublishedDatabase(source, title, cut_line, preamble, header, vote_columns, rows,
                             row_lines, delimiter)
