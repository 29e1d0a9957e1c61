"""The "Mi sección" index: which ámbito holds each sección, per election, in runs of consecutive
secciones (``data/secciones.<h>.json``, ``prepcast.site.secciones/1``). It never changes in a
night and the page fetches it only when the search field is used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prepcast.election.tally import CutResults

SCHEMA = "prepcast.site.secciones/1"
MAIN_FIELD = "secciones"
Json = dict[str, Any]


def seccion_index(cut: CutResults) -> Json:
    """Per election: ``tramos`` ``[first, last, ámbito]``, every sección from first to last
    inclusive existing and belonging to that ámbito (sorted, not overlapping)."""
    return seccion_index_of({eid: (results.election.ambito.value, results.seccion_ambito)
                             for eid, results in cut.elections.items()})


def seccion_index_of(elections: Mapping[str, tuple[str, Mapping[int, int]]]) -> Json:
    """:func:`seccion_index` from each election's ámbito level and ``sección -> ámbito`` (what
    it reads of a cut: the same in every cut of a night)."""
    elecciones: dict[str, Json] = {}
    for eid, (level, seccion_ambito) in elections.items():
        runs: list[list[int]] = []
        for sec in sorted(seccion_ambito):
            aid = seccion_ambito[sec]
            if runs and runs[-1][1] == sec - 1 and runs[-1][2] == aid:
                runs[-1][1] = sec
            else:
                runs.append([sec, sec, aid])
        elecciones[eid] = {"ambito": level, "tramos": runs}
    return {"schema": SCHEMA, "elecciones": elecciones}
