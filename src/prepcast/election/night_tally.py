"""The cuts of one night, tallied in order, each doing only the work of what changed.

``tally_cut`` recounts every acta for every cut; during a night only the actas registered since
the previous cut change the figures. :class:`NightTally` keeps each election's totals at every
level and applies each new record once (a recapture first takes back the record it replaces),
giving exactly what ``tally_cut`` gives for the same cut (a property test holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import add, sub

from prepcast.election.acta import Acta, Status
from prepcast.election.model import Casilla, Election, Proceso
from prepcast.election.rules import (
    Evaluation,
    Profile,
    evaluate_fuera_catalogo,
    preamble_from_counts,
)
from prepcast.election.tally import (
    ActaRow,
    CutResults,
    ElectionResults,
    Totals,
    ambito_name,
    evaluate,
    tally_cut,
)


class NightTally:
    """Tallies a night's cuts in time order; an earlier cut than the last falls back to a full
    tally."""

    def __init__(self, proceso: Proceso, casillas: Sequence[Casilla],
                 feeds: Mapping[str, Sequence[Acta]]) -> None:
        self.proceso = proceso
        self.casillas = casillas
        self.feeds = feeds
        profile = proceso.profile
        self._states = {e.id: _ElectionState(proceso, e, casillas, feeds.get(e.id, ()), profile)
                        for e in proceso.elections}
        self._at: datetime | None = None

    def cut(self, at: datetime, *, number: int, last: bool = False) -> CutResults:
        if self._at is not None and at < self._at:
            return tally_cut(self.proceso, self.casillas, self.feeds, at, number=number, last=last)
        self._at = at
        elections = {eid: st.advance(at).results(last) for eid, st in self._states.items()}
        return CutResults(self.proceso, number, at, last, elections)


class _ElectionState:
    def __init__(self, proceso: Proceso, election: Election, casillas: Sequence[Casilla],
                 actas: Sequence[Acta], profile: Profile) -> None:
        self.election = election
        self.profile = profile
        self.ent = proceso.entidad_id
        ncols = len(election.columns)
        self.ncols = ncols
        self.casillas = [c for c in casillas if c.votes_in(election.id)]
        self.by_key = {c.clave: c for c in self.casillas}
        self.entidad = Totals(ncols)
        self.ambitos: dict[int, Totals] = {}
        self.secciones: dict[int, Totals] = {}
        self.names: dict[int, str] = {}
        self.seccion_ambito: dict[int, int] = {}
        self.empty_rows = [ActaRow(c, None, None) for c in self.casillas]
        for c in self.casillas:
            aid = c.ambito_id(election.ambito)
            if aid not in self.ambitos:
                self.ambitos[aid] = Totals(ncols)
                self.names[aid] = ambito_name(c, election.ambito, proceso)
            if c.seccion_key not in self.secciones:
                self.secciones[c.seccion_key] = Totals(ncols)
                self.seccion_ambito[c.seccion_key] = aid
            for t in self._levels(c):
                t.add_expected(c)
        # records in the order they take effect: by registration time, then file order
        self.records = sorted(actas, key=lambda a: a.registro)
        self.next = 0
        # the copies handed out with the last results: only those of the secciones and ámbitos
        # a record touched since are copied again (a sección's figures change a few times a night)
        self._copies = ({k: _copy(t) for k, t in self.ambitos.items()},
                        {k: _copy(t) for k, t in self.secciones.items()})
        self._touched: tuple[set[int], set[int]] = (set(), set())
        self.current: dict[str, ActaRow] = {}
        self.fuera: dict[str, Acta] = {}
        self.inconsistentes = 0

    def _levels(self, c: Casilla) -> tuple[Totals, Totals, Totals]:
        return (self.entidad, self.ambitos[c.ambito_id(self.election.ambito)],
                self.secciones[c.seccion_key])

    def advance(self, at: datetime) -> _ElectionState:
        records = self.records
        i = self.next
        while i < len(records) and records[i].registro <= at:
            self._apply(records[i])
            i += 1
        self.next = i
        return self

    def _apply(self, a: Acta) -> None:
        key = a.record_key(self.ent)
        old = self.current.pop(key, None)
        if old is not None and old.casilla is not None and old.acta is not None and old.evaluation:
            self._count(old.casilla, old.acta, old.evaluation, sub, -1)
        self.fuera.pop(key, None)
        c = self.by_key.get(key)
        if c is None or a.status is Status.FUERA_CATALOGO:
            self.fuera[key] = a
            return
        ev = evaluate(self.profile, a, c)
        self.current[key] = ActaRow(c, a, ev)
        self._count(c, a, ev, add, 1)

    def _count(self, c: Casilla, a: Acta, ev: Evaluation, op: object, sign: int) -> None:
        self.inconsistentes += sign if ev.inconsistente else 0
        self._touched[0].add(c.ambito_id(self.election.ambito))
        self._touched[1].add(c.seccion_key)
        counted = ev.contabilizada == 1
        for t in self._levels(c):
            t.capturadas += sign
            if counted:
                t.contabilizadas += sign
                t.lista_nominal_contabilizadas += sign * c.lista_nominal
                t.total_votos += sign * ev.total_calculado
                if c.tipo != "S":
                    t.total_votos_sin_especiales += sign * ev.total_calculado
                t.votos = list(map(op, t.votos, a.counted_votes))  # type: ignore[call-overload]

    def results(self, last_cut: bool) -> ElectionResults:
        current = self.current
        rows = [current.get(c.clave) or empty for c, empty in zip(self.casillas, self.empty_rows,
                                                                 strict=True)]
        fuera_ev = evaluate_fuera_catalogo()
        fuera = sorted(self.fuera.items(), key=lambda kv: kv[1].fuera_order(self.ent))
        rows.extend(ActaRow(None, a, fuera_ev) for _, a in fuera)
        e = self.entidad
        pre = preamble_from_counts(
            esperadas=e.esperadas, registradas=len(current) + len(fuera), fuera=len(fuera),
            contabilizadas=e.contabilizadas, inconsistentes=self.inconsistentes,
            lista_nominal=e.lista_nominal_contabilizadas, votos_c_cs=e.total_votos,
            votos_s_cs=e.total_votos_sin_especiales, last_cut=last_cut)
        for copies, touched, totals in zip(self._copies, self._touched,
                                           (self.ambitos, self.secciones), strict=True):
            for k in touched:
                copies[k] = _copy(totals[k])
            touched.clear()
        return ElectionResults(
            self.election, pre, _copy(e), dict(self._copies[0]), dict(self._copies[1]), rows,
            dict(self.names), dict(self.seccion_ambito))


def _copy(t: Totals) -> Totals:
    """``t`` with a list of votos of its own: its fields copied as they are, without running
    ``__init__`` again (``dataclasses.replace``) for each of thousands of secciones every cut."""
    c = object.__new__(Totals)
    c.__dict__.update(t.__dict__)
    c.votos = list(t.votos)
    return c
