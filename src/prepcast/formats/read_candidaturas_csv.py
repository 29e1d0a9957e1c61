"""Read the candidaturas CSV an institute publishes beside its PREP database.

``ID_ESTADO`` (or ``ID_ENTIDAD``), the ámbito's id column (``ID_DISTRITO…`` or
``ID_MUNICIPIO``; none for an election of the whole entidad), ``PARTIDO_CI``,
``CANDIDATURA_PROPIETARIA`` and ``CANDIDATURA_SUPLENTE``; comma or pipe; UTF-8 or cp1252 as the
databases themselves (:func:`prepcast.formats.read_prep_csv.decode_text`), never read with
replacement characters. The file must be the database's own: its entidad, its ámbitos and its
parties are checked against the database's rows and vote columns, and every one that does not
match is reported at once.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from prepcast.election.model import Ambito
from prepcast.errors import InputError, Problem
from prepcast.files import read_bytes
from prepcast.formats.read_prep_csv import PublishedDatabase, column_id, decode_text


def _int(text: str) -> int:
    s = text.strip()
    return int(s) if s.isascii() and s.isdigit() else 0


def _ids(values: Counter[str]) -> str:
    return ", ".join(sorted(values, key=lambda v: (len(v), v)))


def read_candidaturas_csv(path: Path | None, db: PublishedDatabase,
                          problems: list[Problem]) -> tuple[list[list[str]], str]:
    """The rows of candidaturas/<ELECCION>.csv (ámbito id, column id, propietaria, suplente) and
    the election's ámbito; what does not match ``db`` is added to ``problems``."""
    if path is None:
        return [], Ambito.DISTRITO.value if "ID_DISTRITO" in db.columns else Ambito.ENTIDAD.value
    text = decode_text(read_bytes(path), path)
    rows = list(csv.reader(text.splitlines(),
                           delimiter="|" if text.count("|") > text.count(",") else ","))
    if not rows:
        raise InputError.at(path, "empty file")
    header = [h.strip().upper() for h in rows[0]]
    amb_col = next((h for h in header if h.startswith("ID_DISTRITO")), None) or next(
        (h for h in header if h == "ID_MUNICIPIO"), None)
    ambito = (Ambito.ENTIDAD.value if amb_col is None else
              Ambito.MUNICIPIO.value if amb_col == "ID_MUNICIPIO" else Ambito.DISTRITO.value)
    need = ["PARTIDO_CI", "CANDIDATURA_PROPIETARIA"]
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError.at(path, f"missing column(s) {', '.join(missing)}", line=1)
    ix = {h: i for i, h in enumerate(header)}
    ent_col = next((h for h in ("ID_ESTADO", "ID_ENTIDAD") if h in ix), None)
    out = []
    entidades: Counter[str] = Counter()
    parties: Counter[str] = Counter()
    ambitos: Counter[str] = Counter()
    first: dict[tuple[str, str], int] = {}  # (what, value) → its first line
    for n, rec in enumerate(rows[1:], start=2):
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) != len(header):
            problems.append(Problem(str(path), f"{len(rec)} fields, header has {len(header)}", n))
            continue
        aid = str(_int(rec[ix[amb_col]])) if amb_col else "0"
        cid = column_id(rec[ix["PARTIDO_CI"]])[0]
        for what, value in (("entidad", str(_int(rec[ix[ent_col]])) if ent_col else ""),
                            ("party", cid), ("ambito", aid)):
            first.setdefault((what, value), n)
        if ent_col:
            entidades[str(_int(rec[ix[ent_col]]))] += 1
        parties[cid] += 1
        ambitos[aid] += 1
        out.append([aid, cid, rec[ix["CANDIDATURA_PROPIETARIA"]].strip(),
                    rec[ix["CANDIDATURA_SUPLENTE"]].strip() if "CANDIDATURA_SUPLENTE" in ix else ""])
    problems += _not_the_database(path, db, amb_col, ent_col, entidades, parties, ambitos, first)
    return out, ambito


def _not_the_database(path: Path, db: PublishedDatabase, amb_col: str | None, ent_col: str | None,
                      entidades: Counter[str], parties: Counter[str], ambitos: Counter[str],
                      first: dict[tuple[str, str], int]) -> list[Problem]:
    """What the candidaturas name that the database does not hold: another entidad, ámbitos
    its rows do not have, parties or candidaturas that are none of its vote columns."""
    out: list[Problem] = []
    src = str(path)
    db_entidades = {str(_int(r.get("ID_ENTIDAD", ""))) for r in db.rows} - {"0"}
    wrong = Counter({e: c for e, c in entidades.items() if db_entidades and e not in db_entidades})
    if wrong:
        out.append(Problem(src, f"{_ids(wrong)} ({sum(wrong.values())} rows) is not the "
                                f"entidad of the database {db.path} ({_ids(Counter(db_entidades))}): "
                                "the candidaturas of another election?",
                           first[("entidad", min(wrong, key=lambda e: first[("entidad", e)]))],
                           ent_col))
    columns = {column_id(c)[0] for c in db.vote_columns}
    wrong = Counter({p: c for p, c in parties.items() if p not in columns})
    if wrong:
        out.append(Problem(src, f"{_ids(wrong)} ({sum(wrong.values())} rows): no such "
                                f"vote column in the database {db.path} "
                                f"({', '.join(db.vote_columns)})",
                           first[("party", min(wrong, key=lambda p: first[("party", p)]))],
                           "PARTIDO_CI"))
    if amb_col is not None:
        db_col = "ID_MUNICIPIO" if amb_col == "ID_MUNICIPIO" else "ID_DISTRITO"
        held = {str(_int(r.get(db_col, ""))) for r in db.rows}
        wrong = Counter({a: c for a, c in ambitos.items() if a not in held})
        if wrong:
            out.append(Problem(src, f"{_ids(wrong)} ({sum(wrong.values())} rows): "
                                    f"not an {db_col} of the database {db.path}"
                                    + ("" if db_col in db.columns else f", which has no {db_col}"),
                               first[("ambito", min(wrong, key=lambda a: first[("ambito", a)]))],
                               amb_col))
    return out
