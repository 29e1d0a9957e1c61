"""Lay out the data files the site reads, from one cut's results.

The layout keeps what changes between cuts small and everything else immutable (paths carry the
first 12 hex digits of the content's SHA-256, so a file that does not change keeps its name and
is never sent again):

``data/proceso.<h>.json``                     proceso, parties, elections, ámbitos (immutable)
``data/<E>/<ambito>/<NN>-catalogo.<h>.json``  an ámbito's secciones, casillas, candidatures (immutable)
``data/<E>/entidad.<h>.json``                 entidad totals, ámbitos with leader, segment index (each cut)
``data/<E>/<ambito>/<NN>.<h>.json``           an ámbito's totals, secciones, casilla states (when touched)
``data/<E>/actas/<b>-<s>.<h>.json``           every field of the actas registered for cut ``b``, shard ``s``
``data/bases.<h>.json``                       the cut's database zips (path, SHA-256, size) and LEEME
``data/difusores.<h>.json``                   the official difusores

An acta's full record (times, CODIGO_INTEGRIDAD, every figure) lives in the segment of the cut
in which it was registered; an ámbito file names, per casilla, the segment holding its acta.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from prepcast.election.model import Election, Proceso, display_time
from prepcast.election.tally import CutResults, ElectionResults
from prepcast.package.canonical import content_name_digest
from prepcast.package.ejercicio import JORNADA_NAME
from prepcast.package.layout import db_dir
from prepcast.site import _records as rec
from prepcast.site._ambitos import ambito_files
from prepcast.site._nacional import NationalView
from prepcast.site._segments import SegmentCache, acta_ambito, build_segments
from prepcast.site.assets import asset_files
from prepcast.site.history import history_json, read_history
from prepcast.site.search_index import seccion_index

SCHEMA = "prepcast.site/2"
# Actas per segment file: a cut's registered actas are split into this many per shard at most.
SEGMENT_ACTAS = 600
Json = dict[str, Any]


class DatabaseZip(Protocol):
    """What the site needs of one PREP database zip of the cut."""

    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def data(self) -> bytes: ...


@dataclass
class SiteFiles:
    """The site of one cut: ``files`` (path in the package -> bytes), ``main_fields`` (what
    goes under ``signed.data`` in ``json/main.json``) and ``history`` (the night's history
    document, which the next cut extends); ``digests``: the SHA-256 (hex) of some of
    ``files``, made with their content-addressed names (the manifest takes them as they are)."""

    files: dict[str, bytes] = field(default_factory=dict)
    main_fields: Json = field(default_factory=dict)
    history: Json = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    def add(self, stem: str, obj: Any) -> str:
        """Add a JSON file under its content-addressed name; returns its path."""
        return self.put(stem, dump(obj))

    def put(self, stem: str, data: bytes) -> str:
        """Add ``data`` under its content-addressed name, with its digest; returns its path."""
        path, digest = content_name_digest(stem, data)
        self.digests[path] = digest
        self.files[path] = data
        return path

    def merge(self, other: SiteFiles) -> None:
        """Take every file of ``other``, with its digest."""
        self.files.update(other.files)
        self.digests.update(other.digests)


def dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def database_path(ejercicio: str, cut: int, name: str) -> str:
    """Where the package carries a database zip (see docs/package.md)."""
    return f"{db_dir(ejercicio, cut)}/{name}"


def site_files(
    cut: CutResults,
    databases: Sequence[DatabaseZip],
    difusores: Sequence[Mapping[str, Any]],
    *,
    segment_actas: int = SEGMENT_ACTAS,
    ejercicio: str = JORNADA_NAME,
    root_key: bytes | None = None,
    history: Mapping[str, Any] | None = None,
) -> SiteFiles:
    """Every file of the site for ``cut``: assets, ``index.html`` and the data files.

    ``segment_actas``: most actas per segment file (a cut's actas are split in shards by ámbito).
    ``root_key``: the institute's raw root public key, carried in the site's script.
    ``history``: the previous cut's history document (:class:`SiteFiles` ``.history``).
    A night's cuts in a row are faster with one :class:`SiteWriter`; the bytes are the same.
    """
    writer = SiteWriter(segment_actas=segment_actas, ejercicio=ejercicio, root_key=root_key)
    return writer.files(cut, databases, difusores, history=history)


class _Cut(Protocol):
    @property
    def cut(self) -> int: ...


class NightWriter:
    """What every writer of a night's sites keeps: its settings and the history of each cut."""

    def __init__(self, *, segment_actas: int = SEGMENT_ACTAS, ejercicio: str = JORNADA_NAME,
                 root_key: bytes | None = None) -> None:
        self.segment_actas = segment_actas
        self.ejercicio = ejercicio
        self.root_key = root_key
        self._histories: dict[int, Json] = {}

    def history_after(self, previous: Path | _Cut | None) -> Json | None:
        """The history of the cut a new cut follows: read from its package directory, or the
        one this writer laid out for that cut (a manifest or anything with ``.cut``)."""
        if previous is None:
            return None
        if isinstance(previous, Path):
            return read_history(previous)
        return self._histories.get(previous.cut)


class SiteWriter(NightWriter):
    """Lays out the site of each cut of one night, reusing the acta segments of earlier cuts
    that did not change (one writer per election night: same proceso, cuts in any order)."""

    def __init__(self, *, segment_actas: int = SEGMENT_ACTAS, ejercicio: str = JORNADA_NAME,
                 root_key: bytes | None = None) -> None:
        super().__init__(segment_actas=segment_actas, ejercicio=ejercicio, root_key=root_key)
        self._caches: dict[str, SegmentCache] = {}
        self._national = NationalView()

    def files(
        self,
        cut: CutResults,
        databases: Sequence[DatabaseZip],
        difusores: Sequence[Mapping[str, Any]],
        *,
        history: Mapping[str, Any] | None = None,
    ) -> SiteFiles:
        """Every file of the site for ``cut`` (see :func:`site_files`); ``history``: the previous
        cut's history document (see :meth:`history_after`)."""
        caches = {eid: self._caches.setdefault(eid, SegmentCache()) for eid in cut.elections}
        entidades = None
        if cut.proceso.nacional:  # shown by distrito federal, below each entidad
            cut, entidades = self._national.cut(cut)
        out = _site_files(cut, databases, difusores, self.segment_actas, caches, self.ejercicio,
                          entidades)
        out.files.update(asset_files(self.root_key))
        out.history = history_json(history, cut)
        self._histories[cut.number] = out.history
        out.main_fields["historial"] = out.add("data/historial.json", out.history)
        out.main_fields["secciones"] = out.add("data/secciones.json", seccion_index(cut))
        return out


def _site_files(
    cut: CutResults,
    databases: Sequence[DatabaseZip],
    difusores: Sequence[Mapping[str, Any]],
    segment_actas: int,
    caches: dict[str, SegmentCache],
    ejercicio: str,
    entidades: dict[str, list[Json]] | None = None,
) -> SiteFiles:
    out = SiteFiles()
    proceso = cut.proceso
    elecciones: list[Json] = []
    proceso_elecciones: list[Json] = []
    for eid, results in cut.elections.items():
        catalogs = _cached_catalogs(out, results, caches[eid])
        entidad_path = _election_files(out, cut, results, segment_actas, caches[eid],
                                       None if entidades is None else entidades[eid])
        elecciones.append({"id": eid, "entidad": entidad_path})
        proceso_elecciones.append(
            {
                **rec.election_json(results.election),
                "ambitos": [
                    {"id": aid, "nombre": results.ambito_names[aid], "catalogo": catalogs[aid]}
                    for aid in sorted(results.ambitos)
                ],
            }
        )
    proceso_path = out.add("data/proceso.json", proceso_json(proceso, proceso_elecciones))
    finish(out, proceso_path, elecciones, bases_json(proceso, cut.number, cut.at, databases, ejercicio), difusores)
    return out


def proceso_json(proceso: Proceso, elecciones: list[Json]) -> Json:
    """``data/proceso.json``: the proceso, its parties and ``elecciones`` (each with its ámbitos)."""
    return {
        "schema": "prepcast.site.proceso/1",
        "nombre": proceso.nombre,
        "instituto": proceso.institute,
        "entidad": proceso.entidad,
        "entidad_id": proceso.entidad_id,
        "anio": proceso.year,
        "image_base_url": proceso.image_base_url,
        "partidos": [{"id": p.id, "nombre": p.nombre, "color": p.color} for p in proceso.parties],
        "elecciones": elecciones,
        **({"nacional": True} if proceso.nacional else {}),
    }


def finish(out: SiteFiles, proceso_path: str, elecciones: list[Json], bases: Json,
           difusores: Sequence[Mapping[str, Any]]) -> None:
    """Add the bases and difusores files and set ``main_fields``."""
    bases_path = out.add("data/bases.json", bases)
    difusores_path = out.add(
        "data/difusores.json",
        {"schema": "prepcast.site.difusores/1", "difusores": [dict(d) for d in difusores]},
    )
    out.main_fields = {
        "schema": SCHEMA,
        "proceso": proceso_path,
        "elecciones": elecciones,
        "bases": bases_path,
        "difusores": difusores_path,
    }


def _ambito_stem(results: ElectionResults, aid: int) -> str:
    e = results.election
    return f"data/{e.id}/{e.ambito.value}/{aid:02d}"


def _cached_catalogs(out: SiteFiles, results: ElectionResults, cache: SegmentCache) -> dict[int, str]:
    """The catalogs never change in a night: laid out once per election and writer."""
    key = (id(results.election), len(results.rows) - sum(1 for r in results.rows if r.casilla is None))
    if cache.catalogs is None or cache.catalogs[0] != key:
        files = SiteFiles()
        paths = _catalog_files(files, results)
        cache.catalogs = (key, paths, files.files, results.election)
    out.files.update(cache.catalogs[2])
    return dict(cache.catalogs[1])


def _catalog_files(out: SiteFiles, results: ElectionResults) -> dict[int, str]:
    """One immutable catalog per ámbito: its secciones, casillas and candidatures."""
    casillas: dict[int, list[list[Any]]] = defaultdict(list)
    secciones: dict[int, list[int]] = defaultdict(list)
    level = results.election.ambito
    ambito_of = rec.ambito_of(level)
    for row in results.rows:
        c = row.casilla
        if c is None:
            continue
        aid = ambito_of(c)
        casillas[aid].append(rec.casilla_row(c))
        if not secciones[aid] or secciones[aid][-1] != c.seccion_key:
            secciones[aid].append(c.seccion_key)
    paths = {}
    for aid in results.ambitos:
        paths[aid] = out.add(
            _ambito_stem(results, aid) + "-catalogo.json",
            {
                "schema": "prepcast.site.catalogo/1",
                "eleccion": results.election.id,
                "ambito": level.value,
                "id": aid,
                "nombre": results.ambito_names[aid],
                "candidaturas": ambito_candidaturas(results.election, aid),
                "campos_seccion": list(rec.SECCION_CATALOG_FIELDS),
                "secciones": [
                    [sec, results.secciones[sec].esperadas, results.secciones[sec].lista_nominal]
                    for sec in sorted(set(secciones[aid]))
                ],
                "campos_casilla": list(rec.CASILLA_FIELDS),
                "casillas": casillas[aid],
            },
        )
    return paths


def ambito_candidaturas(election: Election, aid: int) -> list[list[Any]]:
    """An ámbito's candidatures for its catalog: a person and every column registered for them
    (in column order)."""
    cands: dict[str, list[Any]] = {}
    for cand in election.candidaturas:
        if cand.ambito_id == aid:
            cands.setdefault(cand.propietaria, [cand.propietaria, cand.suplente, []])[2].append(
                cand.columna
            )
    return sorted(cands.values())


def _election_files(
    out: SiteFiles,
    cut: CutResults,
    results: ElectionResults,
    segment_actas: int,
    cache: SegmentCache,
    entidades: list[Json] | None = None,
) -> str:
    """The segments, the ámbito files and the entidad file (the nation's, with ``entidades``,
    in a national proceso) of one election; returns the entidad file's path."""
    proceso = cut.proceso
    e = results.election
    segs = build_segments(
        out.add, out.files, proceso, proceso.profile, results, segment_actas, cache
    )
    segment_of = segs.of_acta
    ambito_paths = ambito_files(out.add, out.files, results, segs.of_acta, segs.of_seccion,
                                cache.ambitos)
    fuera = [
        {"clave": row.acta.casilla_clave(proceso.entidad_id), "ambito": acta_ambito(results, row),
         "segmento": list(segment_of[id(row.acta)])}
        for row in results.rows
        if row.casilla is None and row.acta is not None
    ]  # fmt: skip
    return out.add(f"data/{e.id}/entidad.json",
                   entidad_json(proceso, cut.number, cut.last, results, ambito_paths, fuera,
                                segs.paths, entidades))


def entidad_json(proceso: Proceso, number: int, last: bool, results: ElectionResults,
                 ambito_paths: Mapping[int, str], fuera: list[Json], segmentos: Mapping[str, str],
                 entidades: list[Json] | None) -> Json:
    """The entidad file of one election (the nation's, with ``entidades``)."""
    e = results.election
    ambitos = []
    for aid in sorted(results.ambitos):
        t = results.ambitos[aid]
        cands = rec.candidaturas_ambito(results, aid, t)
        lider = cands[0] if cands and cands[0]["votos"] > 0 else None
        summary = rec.totals_json(t)
        del summary["votos"]
        ambitos.append(
            {
                "id": aid,
                "totales": summary,
                "lider": None if lider is None else {k: lider[k] for k in ("nombre", "columnas", "votos")},
                "resultados": ambito_paths[aid],
            }
        )
    return {
        "schema": "prepcast.site.entidad/1",
        "eleccion": e.id,
        "corte": number,
        "ultimo_corte": last,
        "preambulo": {k: str(v) for k, v in results.preamble.as_dict().items()},
        "totales": rec.totals_json(results.entidad),
        "candidaturas": rec.candidaturas_entidad(results, {p.id: p.nombre for p in proceso.parties}),
        "ambitos": ambitos,
        "fuera_catalogo": fuera,
        "segmentos": dict(segmentos),
        **({} if entidades is None else {"entidades": entidades}),
    }


def bases_json(proceso: Proceso, number: int, at: datetime, databases: Iterable[DatabaseZip],
               ejercicio: str) -> Json:
    return {
        "schema": "prepcast.site.bases/1",
        "corte": number,
        "corte_hora": display_time(at.astimezone(proceso.tz)),
        "bases": [
            {
                "nombre": db.name,
                "ruta": database_path(ejercicio, number, db.name),
                "sha256": db.sha256,
                "bytes": len(db.data),
                "leeme": _leeme(db.data),
            }
            for db in databases
        ],
    }


def _leeme(data: bytes) -> str:
    """The LEEME text carried in a database zip ('' when there is none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                if "LEEME" in name.upper():
                    raw = z.read(name)
                    try:
                        return raw.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        return raw.decode("cp1252", errors="replace")
    except zipfile.BadZipFile:
        return ""
    return ""
