"""Immutable acta segments: everything of the actas registered for one cut, and the figures of
the secciones those actas touched as of that cut.

An acta's segment is the cut in which it first appears (:func:`_records.bucket_of`); a cut's
actas are split into ``ceil(n / segment_actas)`` shards by ámbito (``shard = ámbito id mod
shards``). A sección's votes per column live in the segment of the last cut that touched it, so
the mutable ámbito files carry only a few figures per sección.

A segment names the fields of its actas once (``campos_acta``) and holds each acta as the array
of their values under its clave, as it holds each sección (``campos_seccion``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import is_not
from typing import Any

from prepcast.election.model import Ambito, Proceso
from prepcast.election.rules import Profile
from prepcast.election.tally import ActaRow, ElectionResults, Totals
from prepcast.site import _records as rec
from prepcast.site._ambitos import AmbitoCache

SCHEMA = "prepcast.site.actas/2"
_NO_ROW = ActaRow(None, None, None)  # before the first cut: no casilla has a row yet

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
    of_acta: dict[int, tuple[int, int]] = field(default_factory=dict)  # id(acta) -> (cut, shard)
    of_seccion: dict[int, int] = field(default_factory=dict)  # sección -> cut of its figures


def acta_ambito(results: ElectionResults, row: ActaRow) -> int:
    """The ámbito of a registered acta (0 for fuera de catálogo with no ámbito given)."""
    level = results.election.ambito
    if row.casilla is not None:
        return rec.ambito_of(level)(row.casilla)
    acta = row.acta
    if acta is None:
        return 0
    if level is Ambito.DISTRITO and acta.distrito is not None:
        return int(acta.distrito) + (acta.entidad or 0) * 100
    if level is Ambito.MUNICIPIO and acta.municipio is not None:
        return int(acta.municipio)
    return 0


@dataclass
class _Bucket:
    """The segments of one cut as last written: for reuse while its actas stay the same."""

    actas: tuple[object, ...]  # the acta records it holds (kept, so their ids stay theirs)
    files: list[tuple[str, str]] = field(default_factory=list)  # (key, path)
    of_acta: dict[int, tuple[int, int]] = field(default_factory=dict)  # id(acta) -> (cut, shard)


@dataclass
class SegmentCache:
    """What :func:`build_segments` wrote for earlier cuts of one election of the night.

    A cut's segments are reused while the actas of that cut and of every earlier cut are the
    same records; an acta captured again rewrites its old cut's segments and every later one."""

    buckets: dict[int, _Bucket] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # The ámbitos' catalogs: (fingerprint, ámbito -> path, path -> bytes, the election kept).
    catalogs: tuple[Any, dict[int, str], dict[str, bytes], object] | None = None
    # registro -> its segment (:func:`_records.bucket_of`), found once per record of the night
    # rather than once per cut (the schedule is the same for every cut of the night)
    segment_of: dict[datetime, int] = field(default_factory=dict)
    # id(acta) -> (the acta, its segment, its ámbito): placed once per record of the night
    placed: dict[int, tuple[object, int, int]] = field(default_factory=dict)
    ambitos: AmbitoCache = field(default_factory=AmbitoCache)  # the ámbito files of last cut
    placement: _Placement | None = None  # where last cut's registered rows went


@dataclass
class _Placement:
    """The registered rows of the last cut, by segment and by sección, kept up to date from the
    rows that changed since (a row the tally did not touch is the very same object)."""

    election: object
    rows: list[ActaRow]  # the casilla rows, in their (fixed) order
    fuera: dict[int, ActaRow] = field(default_factory=dict)  # id(acta) -> its row
    members: dict[int, dict[object, tuple[int, ActaRow]]] = field(default_factory=dict)
    of_pos: dict[object, int] = field(default_factory=dict)  # position or fuera key -> segment
    by_seccion: dict[int, dict[int, tuple[int, ActaRow]]] = field(default_factory=dict)
    of_seccion: dict[int, int] = field(default_factory=dict)  # sección -> its newest segment

    def drop(self, key: object, row: ActaRow, dirty: set[int], secs: set[int]) -> None:
        b = self.of_pos.pop(key)
        del self.members[b][key]
        if not self.members[b]:
            del self.members[b]
        dirty.add(b)
        if row.casilla is not None:
            sec = row.casilla.seccion_key
            del self.by_seccion[sec][key]  # type: ignore[arg-type]
            secs.add(sec)

    def put(self, key: object, row: ActaRow, b: int, aid: int, dirty: set[int],
            secs: set[int]) -> None:
        self.of_pos[key] = b
        self.members.setdefault(b, {})[key] = (aid, row)
        dirty.add(b)
        if row.casilla is not None:
            sec = row.casilla.seccion_key
            self.by_seccion.setdefault(sec, {})[key] = (b, row)  # type: ignore[index]
            secs.add(sec)


def _snapshots(
    results: ElectionResults, placement: _Placement, todo: set[int]
) -> dict[int, dict[int, list[Any]]]:
    """cut -> sección -> its figures as of that cut, for the cuts in ``todo`` that touched it."""
    touched = {row.casilla.seccion_key for b in todo for _, row in placement.members[b].values()
               if row.casilla is not None}
    by_seccion = {sec: list(placement.by_seccion[sec].values()) for sec in touched}
    ncols = len(results.election.columns)
    out: dict[int, dict[int, list[Any]]] = defaultdict(dict)
    for sec, items in by_seccion.items():
        items.sort(key=lambda x: x[0])
        t = Totals(ncols)
        counted: list[tuple[int, ...]] = []
        for i, (b, row) in enumerate(items):
            assert row.casilla is not None and row.acta is not None and row.evaluation is not None
            t.add_registered(row.casilla, row.acta, row.evaluation, counted)
            if (i + 1 == len(items) or items[i + 1][0] != b) and b in todo:
                t.add_votes(counted)
                counted = []
                out[b][sec] = [t.capturadas, t.contabilizadas, t.lista_nominal_contabilizadas,
                               t.total_votos_sin_especiales, list(t.votos)]  # fmt: skip
    return out


def build_segments(
    add: Callable[[str, Any], str],
    files: dict[str, bytes],
    proceso: Proceso,
    profile: Profile,
    results: ElectionResults,
    segment_actas: int,
    cache: SegmentCache,
) -> Segments:
    """Write the segments of one election with ``add(stem, obj) -> path`` into ``files``,
    reusing from ``cache`` the segments of earlier cuts that did not change."""
    cut_times = proceso.cut_times()
    e = results.election
    ambito = rec.ambito_of(e.ambito)
    placed, segment_of = cache.placed, cache.segment_of

    def where(row: ActaRow) -> tuple[int, int]:
        acta = row.acta
        hit = placed.get(id(acta))
        if hit is None or hit[0] is not acta:  # a record seen for the first time this night
            assert acta is not None
            b = segment_of.get(acta.registro, 0)
            if not b:
                b = segment_of[acta.registro] = rec.bucket_of(cut_times, acta.registro)
            c = row.casilla
            hit = placed[id(acta)] = (acta, b, ambito(c) if c is not None
                                      else acta_ambito(results, row))
        return hit[1], hit[2]

    rows = [r for r in results.rows if r.casilla is not None]
    pl = cache.placement
    if pl is None or pl.election is not results.election or len(pl.rows) != len(rows):
        pl = cache.placement = _Placement(results.election, [_NO_ROW] * len(rows))
    dirty: set[int] = set()
    secs: set[int] = set()
    for i in compress(range(len(rows)), map(is_not, rows, pl.rows)):
        old, new = pl.rows[i], rows[i]
        if old.acta is not None:
            pl.drop(i, old, dirty, secs)
        if new.acta is not None:
            pl.put(i, new, *where(new), dirty, secs)
    pl.rows = rows
    fuera = {id(r.acta): r for r in results.rows if r.casilla is None and r.acta is not None}
    for k in [k for k in pl.fuera if k not in fuera or fuera[k].acta is not pl.fuera[k].acta]:
        pl.drop(("fuera", k), pl.fuera.pop(k), dirty, secs)
    for k, row in fuera.items():
        if k not in pl.fuera:
            pl.fuera[k] = row
            pl.put(("fuera", k), row, *where(row), dirty, secs)
    for sec in secs:
        held = pl.by_seccion.get(sec)
        if held:
            pl.of_seccion[sec] = max(b for b, _ in held.values())
        else:
            pl.by_seccion.pop(sec, None)
            pl.of_seccion.pop(sec, None)
    out = Segments(of_seccion=dict(pl.of_seccion))
    buckets = pl.members
    stale = min(
        [*dirty, *(b for b in buckets if b not in cache.buckets),
         *(b for b in cache.buckets if b not in buckets)],
        default=max(buckets, default=0) + 1,
    )
    todo = {b for b in buckets if b >= stale}
    snapshots = _snapshots(results, pl, todo)
    for b in [b for b in cache.buckets if b >= stale]:
        del cache.buckets[b]
    for b in sorted(buckets):
        if b not in todo:  # the same records as last time: the same segments
            kept = cache.buckets[b]
            out.of_acta.update(kept.of_acta)
            for key, path in kept.files:
                files[path] = cache.files[path]
                out.paths[key] = path
            continue
        members = list(buckets[b].values())
        shards = max(1, -(-len(members) // segment_actas))
        of_acta = {id(row.acta): (b, aid % shards) for aid, row in members}
        out.of_acta.update(of_acta)
        actas: dict[int, dict[str, Any]] = defaultdict(dict)
        secciones: dict[int, dict[str, Any]] = defaultdict(dict)
        for aid, row in members:
            assert row.acta is not None and row.evaluation is not None
            clave, values = rec.acta_record(proceso, profile, row.casilla, row.acta,
                                            row.evaluation)
            actas[aid % shards][clave] = values
        for sec, figures in snapshots.get(b, {}).items():
            secciones[results.seccion_ambito[sec] % shards][str(sec)] = figures
        entry = _Bucket(tuple(row.acta for _, row in members), of_acta=of_acta)
        for s in sorted(actas):
            key = f"{b}-{s}"
            path = add(
                f"data/{e.id}/actas/{key}.json",
                {
                    "schema": SCHEMA,
                    "eleccion": e.id,
                    "segmento": key,
                    "actas": actas[s],
                    "campos_acta": list(rec.ACTA_FIELDS),
                    "campos_seccion": list(SNAPSHOT_FIELDS),
                    "secciones": secciones[s],
                },
            )
            out.paths[key] = path
            entry.files.append((key, path))
            cache.files[path] = files[path]
        cache.buckets[b] = entry
    live = {path for entry in cache.buckets.values() for _, path in entry.files}
    for path in [p for p in cache.files if p not in live]:
        del cache.files[path]
    return out
