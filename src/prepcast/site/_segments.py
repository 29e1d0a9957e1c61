"""Immutable acta segments: everything of the actas registered for one cut, and the figures of
the secciones those actas touched as of that cut.

An acta's segment is the cut in which it first appears (:func:`_records.bucket_of`); a cut's
actas are split into ``ceil(n / segment_actas)`` shards by ámbito (``shard = ámbito id mod
shards``). A sección's votes per column live in the segment of the last cut that touched it, so
the mutable ámbito files carry only a few figures per sección.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prepcast.election.model import Ambito, Proceso
from prepcast.election.rules import Profile
from prepcast.election.tally import ActaRow, ElectionResults, Totals
from prepcast.site import _records as rec

# Figures of a sección as of a cut, in a segment.
SNAPSHOT_FIELDS = (
    "capturadas",
    "contabilizadas",
    "lista_nominal_contabilizadas",
    "total_votos_sin_especiales",
    "votos",
)


@dataclass
class Segments:
    paths: dict[str, str] = field(default_factory=dict)  # "<cut>-<shard>" -> path
    of_acta: dict[str, tuple[int, int]] = field(default_factory=dict)  # clave -> (cut, shard)
    of_seccion: dict[int, int] = field(default_factory=dict)  # sección -> cut of its figures


def acta_ambito(results: ElectionResults, row: ActaRow) -> int:
    """The ámbito of a registered acta (0 for fuera de catálogo with no ámbito given)."""
    level = results.election.ambito
    if row.casilla is not None:
        return int(row.casilla.ambito_id(level))
    acta = row.acta
    if acta is None:
        return 0
    if level is Ambito.DISTRITO and acta.distrito is not None:
        return int(acta.distrito)
    if level is Ambito.MUNICIPIO and acta.municipio is not None:
        return int(acta.municipio)
    return 0


def _snapshots(
    results: ElectionResults, rows: list[tuple[int, ActaRow]]
) -> dict[int, dict[int, list[Any]]]:
    """cut -> sección -> its figures as of that cut, for every cut that touched the sección."""
    by_seccion: dict[int, list[tuple[int, ActaRow]]] = defaultdict(list)
    for b, row in rows:
        if row.casilla is not None:
            by_seccion[row.casilla.seccion].append((b, row))
    ncols = len(results.election.columns)
    out: dict[int, dict[int, list[Any]]] = defaultdict(dict)
    for sec, items in by_seccion.items():
        items.sort(key=lambda x: x[0])
        t = Totals(ncols)
        counted: list[tuple[int, ...]] = []
        for i, (b, row) in enumerate(items):
            assert row.casilla is not None and row.acta is not None and row.evaluation is not None
            t.add_registered(row.casilla, row.acta, row.evaluation, counted)
            if i + 1 == len(items) or items[i + 1][0] != b:
                t.add_votes(counted)
                counted = []
                out[b][sec] = [t.capturadas, t.contabilizadas, t.lista_nominal_contabilizadas,
                               t.total_votos_sin_especiales, list(t.votos)]  # fmt: skip
    return out


def build_segments(
    add: Callable[[str, Any], str],
    proceso: Proceso,
    profile: Profile,
    results: ElectionResults,
    segment_actas: int,
) -> Segments:
    """Write the segments of one election with ``add(stem, obj) -> path``."""
    cut_times = proceso.cut_times()
    e = results.election
    buckets: dict[int, list[tuple[int, ActaRow]]] = defaultdict(list)
    dated: list[tuple[int, ActaRow]] = []
    for row in results.registered():
        assert row.acta is not None
        b = rec.bucket_of(cut_times, row.acta.registro)
        buckets[b].append((acta_ambito(results, row), row))
        dated.append((b, row))
    snapshots = _snapshots(results, dated)
    out = Segments()
    for b in sorted(buckets):
        rows = buckets[b]
        shards = max(1, -(-len(rows) // segment_actas))
        actas: dict[int, dict[str, Any]] = defaultdict(dict)
        secciones: dict[int, dict[str, Any]] = defaultdict(dict)
        for aid, row in rows:
            assert row.acta is not None and row.evaluation is not None
            s = aid % shards
            record = rec.acta_json(proceso, profile, row.casilla, row.acta, row.evaluation)
            actas[s][record["clave"]] = record
            out.of_acta[record["clave"]] = (b, s)
        for sec, figures in snapshots.get(b, {}).items():
            secciones[results.seccion_ambito[sec] % shards][str(sec)] = figures
            out.of_seccion[sec] = max(b, out.of_seccion.get(sec, 0))
        for s in sorted(actas):
            key = f"{b}-{s}"
            out.paths[key] = add(
                f"data/{e.id}/actas/{key}.json",
                {
                    "schema": "prepcast.site.actas/1",
                    "eleccion": e.id,
                    "segmento": key,
                    "actas": actas[s],
                    "campos_seccion": list(SNAPSHOT_FIELDS),
                    "secciones": secciones[s],
                },
            )
    return out
