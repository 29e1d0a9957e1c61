"""A national proceso on the site: nation → entidad → distrito federal → sección → acta.

Whatever ámbito an election is won in (the nation for presidencia, each entidad for
senadurías, each distrito federal for diputaciones), the site shows every election of a national
proceso by distrito federal, the unit of a few hundred casillas its files are made for: the
results of a cut are seen through :class:`NationalView` as results by distrito (keyed entidad·100
+ distrito, each holding the candidaturas that compete there), and the nation's file lists the
entidades with their totals and who leads in each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from prepcast.election.model import Ambito, Candidatura, Election
from prepcast.election.tally import CutResults, ElectionResults, Totals
from prepcast.site import _records as rec

Json = dict[str, Any]


@dataclass(frozen=True)
class _Layout:
    """What never changes in a night for one election: its distritos and entidades."""

    election: Election  # by distrito, with the candidaturas competing in each
    distrito_of: dict[int, int]  # sección key -> distrito key
    distritos: dict[int, str]  # distrito key -> name, in catalog order
    entidades: dict[int, str]  # entidad -> name, in catalog order


class NationalView:
    """Sees the cuts of one national night by distrito federal (one view per night)."""

    def __init__(self) -> None:
        self._layouts: dict[str, tuple[Election, _Layout]] = {}

    def cut(self, cut: CutResults) -> tuple[CutResults, dict[str, list[Json]]]:
        """The cut by distrito, and each election's entidades for the nation's file."""
        parties = {p.id: p.nombre for p in cut.proceso.parties}
        elections: dict[str, ElectionResults] = {}
        entidades: dict[str, list[Json]] = {}
        for eid, r in cut.elections.items():
            lay = self._layout(r)
            ncols = len(r.election.columns)
            ambitos = {d: Totals(ncols) for d in lay.distritos}
            for sec, t in r.secciones.items():
                ambitos[lay.distrito_of[sec]].add(t)
            view = ElectionResults(lay.election, r.preamble, r.entidad, ambitos, r.secciones,
                                   r.rows, dict(lay.distritos), dict(lay.distrito_of))
            elections[eid] = view
            entidades[eid] = [nation_entidad(view, ent, name, parties)
                              for ent, name in sorted(lay.entidades.items())]
        return CutResults(cut.proceso, cut.number, cut.at, cut.last, elections), entidades

    def _layout(self, r: ElectionResults) -> _Layout:
        held = self._layouts.get(r.election.id)
        if held is not None and held[0] is r.election:
            return held[1]
        distrito_of: dict[int, int] = {}
        distritos: dict[int, str] = {}
        entidades: dict[int, str] = {}
        for row in r.rows:
            c = row.casilla
            if c is not None:
                distrito_of.setdefault(c.seccion_key, c.distrito_key)
                distritos.setdefault(c.distrito_key, c.distrito_nombre)
                entidades.setdefault(c.entidad_id, c.entidad_nombre)
        e = r.election
        by_distrito = replace(e, ambito=Ambito.DISTRITO,
                              candidaturas=candidaturas_by_distrito(e, sorted(distritos)))
        lay = _Layout(by_distrito, distrito_of, distritos, entidades)
        self._layouts[e.id] = (e, lay)
        return lay


def candidaturas_by_distrito(e: Election, distritos: list[int]) -> tuple[Candidatura, ...]:
    """The candidaturas competing in each distrito: the nation's (presidencia), the entidad's
    (senadurías) or the distrito's own (diputaciones)."""
    if e.ambito is Ambito.DISTRITO:
        return e.candidaturas
    out: list[Candidatura] = []
    for d in distritos:
        contest = d // 100 if e.ambito is Ambito.ENTIDAD else 0
        out.extend(replace(c, ambito_id=d) for c in e.candidaturas_by_ambito.get(contest, ()))
    return tuple(out)


def nation_entidad(view: ElectionResults, ent: int, nombre: str,
                   parties: dict[str, str]) -> Json:
    """An entidad in the nation's file: its totals, its distritos and who leads there."""
    ambitos = {d: t for d, t in view.ambitos.items() if d // 100 == ent}
    totals = Totals(len(view.election.columns))
    for t in ambitos.values():
        totals.add(t)
    sub = replace(view, ambitos=ambitos, entidad=totals)
    cands = rec.candidaturas_entidad(sub, parties)
    lider = cands[0] if cands and cands[0]["votos"] > 0 else None
    summary = rec.totals_json(totals)
    del summary["votos"]
    return {"id": ent, "nombre": nombre, "totales": summary, "distritos": sorted(ambitos),
            "lider": lider}
