"""The ámbito files of one election (totals, secciones, the state of every casilla), laid out
again each cut only for the ámbitos whose casillas changed.

An ámbito file is a function of the rows of its casillas (each one's acta, evaluation and
segment, fixed for a record) and of the figures of its secciones (functions of those same rows).
During a night the tally hands a row that did not change as the very same object cut after cut,
so an ámbito none of whose casillas' rows changed (compared by identity) keeps the path and bytes
it had; any other row (a new acta, an earlier cut tallied in full, another election) lays its
ámbito out again. The bytes are those a full layout gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from operator import is_not
from typing import Any

from prepcast.election.model import Casilla
from prepcast.election.tally import ActaRow, ElectionResults
from prepcast.site import _records as rec


@dataclass
class AmbitoCache:
    """What :func:`ambito_files` laid out for the last cut of one election."""

    election: object = None
    rows: list[ActaRow] = field(default_factory=list)  # the casilla rows, in their order
    casillas: list[Casilla] = field(default_factory=list)
    of_row: list[int] = field(default_factory=list)  # position -> ámbito
    positions: dict[int, list[int]] = field(default_factory=dict)  # ámbito -> positions
    secciones: dict[int, list[int]] = field(default_factory=dict)  # ámbito -> its secciones
    files: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # ámbito -> path, bytes


def _layout(cache: AmbitoCache, results: ElectionResults, rows: list[ActaRow]) -> None:
    ambito_of = rec.ambito_of(results.election.ambito)
    cache.election = results.election
    cache.casillas = [r.casilla for r in rows]  # type: ignore[misc]
    cache.of_row = [ambito_of(c) for c in cache.casillas]
    cache.positions = defaultdict(list)
    for i, aid in enumerate(cache.of_row):
        cache.positions[aid].append(i)
    cache.secciones = defaultdict(list)
    for sec in sorted(results.secciones):
        cache.secciones[results.seccion_ambito[sec]].append(sec)
    cache.files = {}


def _dirty(cache: AmbitoCache, results: ElectionResults, rows: list[ActaRow]) -> set[int] | None:
    """The ámbitos whose rows changed since the last cut; None: every one (no usable layout)."""
    if (cache.election is not results.election or len(cache.rows) != len(rows)):
        return None
    dirty: set[int] = set()
    for i in compress(range(len(rows)), map(is_not, rows, cache.rows)):
        c = rows[i].casilla
        if c is not cache.casillas[i]:
            return None
        dirty.add(cache.of_row[i])
        dirty.add(results.seccion_ambito.get(c.seccion_key, cache.of_row[i]))
    return dirty


def ambito_files(add: Callable[[str, Any], str], files: dict[str, bytes],
                 results: ElectionResults, of_acta: dict[int, tuple[int, int]],
                 of_seccion: dict[int, int], cache: AmbitoCache) -> dict[int, str]:
    """Write (or take from ``cache``) every ámbito file into ``files``; ámbito -> its path."""
    rows = [r for r in results.rows if r.casilla is not None]
    dirty = _dirty(cache, results, rows)
    if dirty is None:
        _layout(cache, results, rows)
    cache.rows = rows
    e = results.election
    paths = {}
    for aid, t in results.ambitos.items():
        kept = cache.files.get(aid)
        if kept is not None and dirty is not None and aid not in dirty:
            files[kept[0]] = kept[1]
            paths[aid] = kept[0]
            continue
        states: list[list[int] | None] = []
        for i in cache.positions.get(aid, ()):
            row = rows[i]
            if row.acta is None or row.evaluation is None:
                states.append(None)
            else:
                states.append([of_acta[id(row.acta)][0], row.evaluation.contabilizada])
        path = paths[aid] = add(
            f"data/{e.id}/{e.ambito.value}/{aid:02d}.json",
            {
                "schema": "prepcast.site.ambito/1",
                "eleccion": e.id,
                "ambito": e.ambito.value,
                "id": aid,
                "totales": rec.totals_json(t),
                "campos_seccion": list(rec.SECCION_FIELDS),
                "secciones": [rec.seccion_row(sec, results.secciones[sec], of_seccion.get(sec, 0))
                              for sec in cache.secciones.get(aid, ())],
                "casillas": states,
            },
        )
        cache.files[aid] = (path, files[path])
    return paths
