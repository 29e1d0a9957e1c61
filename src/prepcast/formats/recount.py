"""Recount a published PREP database: every row's CONTABILIZADA and TOTAL_VOTOS_CALCULADO, and the
13 figures of its preamble, under a named counting-rules profile.

ACTAS_ESPERADAS comes from the published preamble: the rows alone cannot say which casillas were
expected but never registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prepcast.election.acta import FieldValue, Mark
from prepcast.election.rules import (
    EvaluatedActa,
    Evaluation,
    Preamble,
    Profile,
    evaluate_fuera_catalogo,
    evaluate_sin_acta,
    evaluate_votes,
    preamble,
)
from prepcast.errors import InputError, Problem
from prepcast.formats.read_prep_csv import PublishedDatabase, clean_key, parse_field

_SIN_ACTA_NUM = re.compile(r"sin acta\s*\(?(\d)\)?", re.IGNORECASE)
_SIN_ACTA_PHRASES = {
    "no entregado": 1,
    "no instalada": 2,
    "sin sobre": 3,
}


@dataclass(frozen=True)
class Recount:
    preamble: Preamble
    published: dict[str, str]
    rows: int
    rows_mismatched: int
    mismatched_lines: tuple[int, ...]
    evaluations: tuple[Evaluation, ...]

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, value in self.preamble.as_dict().items():
            out[name] = f"{value}" if not isinstance(value, int) else value
        out["rows_mismatched"] = self.rows_mismatched
        return out

    def differences(self) -> list[tuple[str, str, str]]:
        """(figure, published, recounted) of every preamble figure whose recount differs."""
        out = []
        for name, value in self.preamble.as_dict().items():
            pub = self.published.get(name, "").strip()
            if pub != str(value):
                out.append((name, pub, str(value)))
        return out

    def differs_from_published(self) -> list[str]:
        """Preamble figures whose recount differs from the published value."""
        return [f"{name}: published {pub}, recounted {value}"
                for name, pub, value in self.differences()]


def _sin_acta_motivo(obs: str) -> int | None:
    m = _SIN_ACTA_NUM.search(obs)
    if m:
        return int(m.group(1))
    low = obs.lower()
    for phrase, n in _SIN_ACTA_PHRASES.items():
        if phrase in low:
            return n
    return None


def _int(value: str) -> int:
    v = value.strip()
    return int(v) if v.isascii() and v.isdigit() else 0


def recount(db: PublishedDatabase, profile: Profile, *, last_cut: bool) -> Recount:
    evaluated: list[EvaluatedActa] = []
    evaluations: list[Evaluation] = []
    mismatched: list[int] = []
    problems: list[Problem] = []
    for row, line in zip(db.rows, db.row_lines, strict=True):
        obs = row["OBSERVACIONES"].strip()
        low = obs.lower()
        especial = row["TIPO_CASILLA"].strip().upper() == "S"
        if clean_key(row.get("CLAVE_CASILLA", "")) == "-" or "fuera de cat" in low:
            ev = evaluate_fuera_catalogo()
        elif low.startswith("sin acta") or all(
            row[c].strip().lower() == "sin acta" for c in db.vote_columns
        ):
            ev = evaluate_sin_acta(_sin_acta_motivo(obs))
        else:
            votes: list[FieldValue] = []
            for col in db.vote_columns:
                try:
                    votes.append(parse_field(row[col]))
                except ValueError:
                    problems.append(Problem(db.path, f"not a vote count: {row[col]!r}", line, col))
                    votes.append(Mark.SIN_DATO)
            ln = _int(row["LISTA_NOMINAL"])
            rep = _int(row.get("REPRESENTANTES_PP_CI", "0"))
            # The database does not carry the ballots approved for an especial: no limit known.
            limit = None if especial else ln + rep
            ev = evaluate_votes(profile, votes, limit)
        evaluations.append(ev)
        evaluated.append(EvaluatedActa(ev, _int(row["LISTA_NOMINAL"]), especial))
        pub_c = row["CONTABILIZADA"].strip()
        pub_t = row["TOTAL_VOTOS_CALCULADO"].strip()
        if pub_c != str(ev.contabilizada) or (pub_t.isascii() and pub_t.isdigit() and int(pub_t) != ev.total_calculado):
            mismatched.append(line)
    if problems:
        raise InputError(problems[:50])
    try:
        esperadas = int(db.preamble["ACTAS_ESPERADAS"])
    except ValueError:
        raise InputError.at(db.path, "ACTAS_ESPERADAS is not a number", field="ACTAS_ESPERADAS") from None
    pre = preamble(evaluated, esperadas, last_cut=last_cut)
    return Recount(pre, db.preamble, len(db.rows), len(mismatched), tuple(mismatched), tuple(evaluations))
