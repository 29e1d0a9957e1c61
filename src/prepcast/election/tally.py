"""The figures of a cut: every acta evaluated, and aggregates at every level per election.

Pure: takes the proceso, the catalog and the captured actas; returns values. A cut at time T
holds, for each acta, the newest record registered at or before T.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import add

from prepcast.election.acta import Acta, Status
from prepcast.election.model import Ambito, Casilla, ColumnKind, Election, Proceso
from prepcast.election.rules import (
    EvaluatedActa,
    Evaluation,
    Preamble,
    Profile,
    evaluate_counts,
    evaluate_fuera_catalogo,
    evaluate_sin_acta,
    preamble,
    truncate4,
)


@dataclass
class Totals:
    """Aggregates of one territory (entidad, distrito, municipio, sección) for one election."""

    ncols: int
    esperadas: int = 0
    capturadas: int = 0
    contabilizadas: int = 0
    lista_nominal: int = 0  # of every expected casilla
    lista_nominal_contabilizadas: int = 0
    total_votos: int = 0  # counted actas, especiales included
    total_votos_sin_especiales: int = 0
    votos: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.votos:
            self.votos = [0] * self.ncols

    def participacion(self, *, last_cut: bool) -> Decimal:
        num = self.total_votos if last_cut else self.total_votos_sin_especiales
        return truncate4(num, self.lista_nominal_contabilizadas)

    def add_expected(self, casilla: Casilla) -> None:
        self.esperadas += 1
        self.lista_nominal += casilla.lista_nominal

    def add_registered(self, casilla: Casilla, acta: Acta, ev: Evaluation,
                       counted: list[tuple[int, ...]] | None = None) -> None:
        """Count a registered acta. Its votes are added now, or, when ``counted`` is given,
        collected there to be summed at once by :meth:`add_votes` (faster for many actas)."""
        self.capturadas += 1
        if ev.contabilizada != 1:
            return
        self.contabilizadas += 1
        self.lista_nominal_contabilizadas += casilla.lista_nominal
        self.total_votos += ev.total_calculado
        if casilla.tipo != "S":
            self.total_votos_sin_especiales += ev.total_calculado
        if counted is None:
            self.votos = list(map(add, self.votos, acta.counted_votes))
        else:
            counted.append(acta.counted_votes)

    def add_votes(self, counted: list[tuple[int, ...]]) -> None:
        if counted:
            self.votos = list(map(add, self.votos, map(sum, zip(*counted, strict=True))))

    def add(self, other: Totals) -> None:
        """Add the totals of a territory below this one."""
        self.esperadas += other.esperadas
        self.capturadas += other.capturadas
        self.contabilizadas += other.contabilizadas
        self.lista_nominal += other.lista_nominal
        self.lista_nominal_contabilizadas += other.lista_nominal_contabilizadas
        self.total_votos += other.total_votos
        self.total_votos_sin_especiales += other.total_votos_sin_especiales
        self.votos = list(map(add, self.votos, other.votos))


@dataclass(frozen=True)
class ActaRow:
    """One row of the cut's database: an expected casilla (registered or not) or a fuera de
    catálogo acta."""

    casilla: Casilla | None
    acta: Acta | None
    evaluation: Evaluation | None


@dataclass
class ElectionResults:
    election: Election
    preamble: Preamble
    entidad: Totals
    ambitos: dict[int, Totals]
    secciones: dict[int, Totals]
    rows: list[ActaRow]  # catalog order, then fuera de catálogo in registration order
    ambito_names: dict[int, str]
    seccion_ambito: dict[int, int]

    def registered(self) -> Iterator[ActaRow]:
        return (r for r in self.rows if r.acta is not None)

    def votos_partido(self, totals: Totals) -> dict[str, int]:
        """Votes per party: its own column only (coalition combinations are kept apart)."""
        return {
            c.id: totals.votos[i]
            for i, c in enumerate(self.election.columns)
            if c.kind is ColumnKind.PARTIDO
        }

    def votos_candidatura(self, ambito_id: int, totals: Totals) -> list[tuple[str, tuple[str, ...], int]]:
        """Votes per candidature of an ámbito: (propietaria, columns, votes), most votes first.

        A candidature gathers every column registered for the same person (a coalition's parties
        and their combinations)."""
        idx = self.election.column_index()
        groups: dict[str, list[str]] = {}
        for cand in self.election.candidaturas_by_ambito.get(ambito_id, ()):
            if cand.columna in idx:
                groups.setdefault(cand.propietaria, []).append(cand.columna)
        out = [
            (name, tuple(cols), sum(totals.votos[idx[c]] for c in cols))
            for name, cols in groups.items()
        ]
        out.sort(key=lambda t: (-t[2], t[0]))
        return out


@dataclass
class CutResults:
    proceso: Proceso
    number: int
    at: datetime
    last: bool
    elections: dict[str, ElectionResults]


def latest_records(actas: Iterable[Acta], at: datetime, entidad_id: int) -> dict[str, Acta]:
    """The newest record of each acta registered at or before ``at``, keyed by casilla."""
    out: dict[str, Acta] = {}
    for a in actas:
        if a.registro <= at:
            key = a.record_key(entidad_id)
            prev = out.get(key)
            if prev is None or a.registro >= prev.registro:
                out[key] = a
    return out


def evaluate(profile: Profile, acta: Acta, casilla: Casilla | None) -> Evaluation:
    if casilla is None or acta.status is Status.FUERA_CATALOGO:
        return evaluate_fuera_catalogo()
    if acta.status is Status.SIN_ACTA:
        return evaluate_sin_acta(acta.sin_acta_motivo)
    return evaluate_counts(profile, acta.vote_counts, casilla.vote_limit())


def tally_election(
    proceso: Proceso,
    election: Election,
    casillas: Sequence[Casilla],
    actas: Iterable[Acta],
    at: datetime,
    *,
    last_cut: bool = False,
) -> ElectionResults:
    profile = proceso.profile
    ent = proceso.entidad_id
    records = latest_records(actas, at, ent)
    ncols = len(election.columns)
    entidad = Totals(ncols)
    ambitos: dict[int, Totals] = {}
    secciones: dict[int, Totals] = {}
    names: dict[int, str] = {}
    seccion_ambito: dict[int, int] = {}
    votes_of: dict[int, list[tuple[int, ...]]] = {}
    rows: list[ActaRow] = []
    evaluated: list[EvaluatedActa] = []
    level = election.ambito
    for c in casillas:
        if not c.votes_in(election.id):
            continue
        aid = c.ambito_id(level)
        if aid not in ambitos:
            ambitos[aid] = Totals(ncols)
            names[aid] = ambito_name(c, level, proceso)
        skey = c.seccion_key
        sec = secciones.get(skey)
        if sec is None:
            sec = secciones[skey] = Totals(ncols)
            seccion_ambito[skey] = aid
            counted = votes_of[skey] = []
        else:
            counted = votes_of[skey]
        sec.add_expected(c)
        acta = records.pop(c.clave, None)
        if acta is None or acta.status is Status.FUERA_CATALOGO:
            if acta is not None:
                records[c.clave] = acta  # marked fuera de catálogo by the capture system
            rows.append(ActaRow(c, None, None))
            continue
        ev = evaluate(profile, acta, c)
        sec.add_registered(c, acta, ev, counted)
        rows.append(ActaRow(c, acta, ev))
        evaluated.append(EvaluatedActa(ev, c.lista_nominal, c.tipo == "S"))
    # Each level is the sum of the level below: sección -> ámbito -> entidad.
    for seccion, totals in secciones.items():
        totals.add_votes(votes_of[seccion])
        ambitos[seccion_ambito[seccion]].add(totals)
    for totals in ambitos.values():
        entidad.add(totals)
    fuera = sorted(records.values(), key=lambda a: a.fuera_order(ent))
    for a in fuera:
        ev = evaluate_fuera_catalogo()
        rows.append(ActaRow(None, a, ev))
        evaluated.append(EvaluatedActa(ev, 0, a.tipo_casilla == "S"))
    pre = preamble(evaluated, entidad.esperadas, last_cut=last_cut)
    return ElectionResults(election, pre, entidad, ambitos, secciones, rows, names, seccion_ambito)


def ambito_name(c: Casilla, level: Ambito, proceso: Proceso) -> str:
    if level is Ambito.DISTRITO:
        return c.distrito_nombre
    if level is Ambito.MUNICIPIO:
        return c.municipio_nombre
    if level is Ambito.ENTIDAD and c.nacional:
        return c.entidad_nombre
    return proceso.entidad


def tally_cut(
    proceso: Proceso,
    casillas: Sequence[Casilla],
    feeds: Mapping[str, Sequence[Acta]],
    at: datetime,
    *,
    number: int,
    last: bool = False,
) -> CutResults:
    """Every election's results for the cut at ``at``."""
    elections = {
        e.id: tally_election(proceso, e, casillas, feeds.get(e.id, ()), at, last_cut=last)
        for e in proceso.elections
    }
    return CutResults(proceso, number, at, last, elections)
