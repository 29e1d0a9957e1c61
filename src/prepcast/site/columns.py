"""The site of a cut tallied on columns: the same files, byte for byte, as
:class:`prepcast.site.data.SiteWriter` lays out from the row engine's results.

The big files (acta segments, ámbito files, catalogs) are written as JSON text by DuckDB
(:mod:`prepcast.site._columns_sql`); Python writes the small ones (entidad, proceso, history)
from the figures of each ámbito with the row writer's own functions. What never changes in a
night (catalogs, the sección index, each record's JSON) is made once per writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from prepcast.election.columnar import ColumnCut, ColumnElection, ColumnResults
from prepcast.election.model import Ambito, Election
from prepcast.election.tally import CutResults, ElectionResults, Totals
from prepcast.package.canonical import content_name_digest
from prepcast.site import _columns_sql as sql
from prepcast.site import _records as rec
from prepcast.site._nacional import candidaturas_by_distrito, nation_entidad
from prepcast.site.assets import asset_files
from prepcast.site.data import (
    DatabaseZip,
    NightWriter,
    SiteFiles,
    ambito_candidaturas,
    bases_json,
    entidad_json,
    finish,
    proceso_json,
)
from prepcast.site.history import history_json
from prepcast.site.search_index import seccion_index_of

Json = dict[str, Any]


def _s(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _obj(pairs: Mapping[str, str]) -> bytes:
    """A JSON object from its members' JSON texts (keys sorted, as ``dump`` writes them)."""
    return ("{" + ",".join(f"{_s(k)}:{pairs[k]}" for k in sorted(pairs)) + "}").encode()


@dataclass
class _Static:
    """What one election's site keeps all night."""

    election: Election  # as the site shows it (a national one by distrito, with its candidaturas)
    order: list[int]  # the ámbitos, in catalog order
    names: dict[int, str]
    seccion_ambito: dict[int, int]
    catalogs: dict[int, str] = field(default_factory=dict)  # ámbito -> path
    # bucket -> (what its segments are made of, their (key, path, bytes, sha256)), as of the
    # last cut
    segments: dict[int, tuple[tuple[tuple[Any, ...], tuple[Any, ...]],
                              list[tuple[str, str, bytes, str]]]] = field(
        default_factory=dict)
    files: SiteFiles = field(default_factory=SiteFiles)  # made once: the catalogs
    entidades: dict[int, str] = field(default_factory=dict)  # national: entidad -> name


def columns_site_ok(ce: ColumnElection) -> bool:
    """Whether the site of ``ce`` can be laid out on columns (every text plain)."""
    return all(sql.plain_texts(ce, i) for i in range(len(ce.proceso.elections)))


# Actas per query of segments: each query's text held at once, about 1 KB an acta.
_CHUNK_ACTAS = 20_000


def _chunks(counts: list[tuple[int, int]]) -> list[list[int]]:
    """Buckets in runs of about ``_CHUNK_ACTAS`` actas, from ``(bucket, actas)``."""
    runs: list[list[int]] = []
    held = 0
    for b, n in counts:
        if runs and held + n <= _CHUNK_ACTAS:
            runs[-1].append(b)
            held += n
        else:
            runs.append([b])
            held = n
    return runs


def _totals(nv: int, r: tuple[Any, ...]) -> Totals:
    """Totals from ``(key, esperadas, capturadas, contabilizadas, lista_nominal,
    lista_nominal_contabilizadas, total_votos, total_votos_sin_especiales, *votos)``."""
    n = [int(v) for v in r[1:]]
    return Totals(nv, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7:])


class ColumnSiteWriter(NightWriter):
    """Lays out the site of each cut of one night tallied on columns (one writer per
    :class:`~prepcast.election.columnar.ColumnElection`)."""

    def __init__(self, ce: ColumnElection, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ce = ce
        self._static: dict[int, _Static] = {}
        self._index: bytes | None = None

    def prepare(self) -> None:
        """Make now what every cut of the night reads and no cut changes (each election's
        tables, each record's JSON, the catalogs, the Mi sección index), each election on a
        thread of its own: a night does it before its first cut is due."""
        for i in range(len(self.ce.proceso.elections)):
            self.ce.catalog(i)  # on this thread: the tables the election's tables read
        with ThreadPoolExecutor(max_workers=len(self.ce.proceso.elections)) as pool:
            list(pool.map(self._election_static, range(len(self.ce.proceso.elections))))
        if self._index is None:
            self._index = self._seccion_index()

    def lay_out_segments(self, cut: ColumnCut) -> None:
        """Lay out the acta segments of ``cut`` and keep them as the last cut's (nothing else
        of its site is made): the next cut takes those whose actas and secciones are what they
        were, as it takes those of a cut built before it. A night started late does it for the
        cut before its first one (a time already past) while it prepares."""
        def one(i: int) -> None:
            st = self._election_static(i)
            er = cut.elections[self.ce.proceso.elections[i].id]
            with self.ce.con.cursor() as con:  # one per thread: DuckDB runs them side by side
                sql.cut_tables(con, self.ce, i, er.table, self.segment_actas)
                self._segments(con, i, st.election, st, SiteFiles())

        with ThreadPoolExecutor(max_workers=len(self.ce.proceso.elections)) as pool:
            list(pool.map(one, range(len(self.ce.proceso.elections))))

    def _seccion_index(self) -> bytes:
        statics = [self._election_static(i) for i in range(len(self.ce.proceso.elections))]
        return _s(seccion_index_of({st.election.id: (st.election.ambito.value, st.seccion_ambito)
                                    for st in statics})).encode()

    def _election_static(self, i: int) -> _Static:
        st = self._static.get(i)
        if st is None:
            with self.ce.con.cursor() as con:  # one per thread: DuckDB runs them side by side
                st = self._static[i] = self._make_static(con, i)
        return st

    def _make_static(self, con: Any, i: int) -> _Static:
        ce = self.ce
        e = ce.proceso.elections[i]
        sql.static_tables(con, ce, i)
        rows = con.execute(f"SELECT sa, arg_min(sa_nombre, n) FROM sc{i} GROUP BY sa "
                           "ORDER BY min(n)").fetchall()
        order = [int(r[0]) for r in rows]
        names = {int(r[0]): str(r[1]) for r in rows}
        if ce.proceso.nacional:
            e = replace(e, ambito=Ambito.DISTRITO,
                        candidaturas=candidaturas_by_distrito(e, sorted(order)))
        sec = dict(con.execute(f"SELECT seccion, sa FROM ss{i}").fetchall())
        st = _Static(e, order, names, {int(k): int(v) for k, v in sorted(sec.items())})
        if ce.proceso.nacional:
            st.entidades = {int(k): str(v) for k, v in con.execute(
                f"SELECT k.ent, arg_min(k.entidad_nombre, k.n) FROM sc{i} c JOIN cas k "
                "ON k.n = c.n GROUP BY k.ent ORDER BY min(k.n)").fetchall()}
        self._catalogs(con, i, st)
        return st

    def _catalogs(self, con: Any, i: int, st: _Static) -> None:
        e = st.election
        q = sql.js
        casillas = dict(con.execute(
            f"SELECT sa, string_agg('[' || {q('clave')} || ',' || seccion || ',' || {q('tipo')} "
            "|| ',' || numero || ',' || ext || ',' || ubicacion || ',' || lista_nominal || ']', "
            f"',' ORDER BY n) FROM sc{i} GROUP BY sa").fetchall())
        secciones = dict(con.execute(
            "SELECT d.sa, string_agg('[' || s.seccion || ',' || s.esperadas || ',' || s.ln || ']',"
            f" ',' ORDER BY s.seccion) FROM (SELECT DISTINCT sa, seccion FROM sc{i}) d "
            f"JOIN ss{i} s ON s.seccion = d.seccion GROUP BY d.sa").fetchall())
        for aid in st.order:
            data = _obj({
                "schema": _s("prepcast.site.catalogo/1"), "eleccion": _s(e.id),
                "ambito": _s(e.ambito.value), "id": str(aid), "nombre": _s(st.names[aid]),
                "candidaturas": _s(ambito_candidaturas(e, aid)),
                "campos_seccion": _s(list(rec.SECCION_CATALOG_FIELDS)),
                "secciones": f"[{secciones.get(aid) or ''}]",
                "campos_casilla": _s(list(rec.CASILLA_FIELDS)),
                "casillas": f"[{casillas.get(aid) or ''}]",
            })
            st.catalogs[aid] = st.files.put(
                f"data/{e.id}/{e.ambito.value}/{aid:02d}-catalogo.json", data)

    def files(self, cut: ColumnCut,
              databases: Sequence[DatabaseZip] | Callable[[], Sequence[DatabaseZip]],
              difusores: Sequence[Mapping[str, Any]], *,
              history: Mapping[str, Any] | None = None) -> SiteFiles:
        """Every file of the site for ``cut`` (see :func:`prepcast.site.data.site_files`);
        ``databases`` may be a call that waits for them (zipped beside the site: only
        ``bases.json`` reads them, last)."""
        proceso = cut.proceso
        eids = [e.id for e in proceso.elections]

        def one(i: int) -> tuple[SiteFiles, ElectionResults, str]:
            return self._election(cut, i, self._election_static(i))

        with ThreadPoolExecutor(max_workers=len(eids)) as pool:
            done = list(pool.map(one, range(len(eids))))
        statics = [self._static[i] for i in range(len(eids))]
        out = SiteFiles()
        elecciones, proceso_elecciones = [], []
        view: dict[str, ElectionResults] = {}
        for (files, results, entidad_path), st, eid in zip(done, statics, eids, strict=True):
            out.merge(st.files)
            out.merge(files)
            view[eid] = results
            elecciones.append({"id": eid, "entidad": entidad_path})
            proceso_elecciones.append({
                **rec.election_json(st.election),
                "ambitos": [{"id": aid, "nombre": st.names[aid], "catalogo": st.catalogs[aid]}
                            for aid in sorted(st.order)],
            })
        proceso_path = out.add("data/proceso.json", proceso_json(proceso, proceso_elecciones))
        zips = databases() if callable(databases) else databases
        finish(out, proceso_path, elecciones,
               bases_json(proceso, cut.number, cut.at, zips, self.ejercicio), difusores)
        out.files.update(asset_files(self.root_key))
        rows = CutResults(proceso, cut.number, cut.at, cut.last, view)
        out.history = history_json(history, rows)
        self._histories[cut.number] = out.history
        out.main_fields["historial"] = out.add("data/historial.json", out.history)
        if self._index is None:
            self._index = self._seccion_index()
        out.main_fields["secciones"] = out.put("data/secciones.json", self._index)
        return out

    def _segments(self, con: Any, i: int, e: Election, st: _Static, out: SiteFiles
                  ) -> dict[str, str]:
        """The acta segments of the cut into ``out``: those of a bucket whose actas and
        secciones are what they were at the last cut are taken as they were."""
        prints = sql.bucket_prints(con, i, len(e.columns))
        held = st.segments
        # the earliest bucket whose actas add something else to their secciones than last cut
        # (or that came or went): its segments and every later one's are made again
        stale = min([b for b in prints if b not in held or held[b][0][1] != prints[b][1]]
                    + [b for b in held if b not in prints], default=max(prints, default=0) + 1)
        for b in [b for b in held if b >= stale or prints.get(b, ((), ()))[0] != held[b][0][0]]:
            del held[b]
        todo = sorted((b, int(p[0][0])) for b, p in prints.items() if b not in held)
        sql.segment_tables(con, i, len(e.columns), [b for b, _ in todo])
        for run in _chunks(todo):
            made: dict[int, list[tuple[str, str, bytes, str]]] = {b: [] for b in run}
            for b, s, data in con.execute(sql.segments_sql(i, e, run)).fetchall():
                key = f"{b}-{s}"
                path, digest = content_name_digest(f"data/{e.id}/actas/{key}.json", data)
                made[b].append((key, path, data, digest))
            for b, files in made.items():
                st.segments[b] = (prints[b], files)
        segs: dict[str, str] = {}
        for b in sorted(st.segments):
            for key, path, data, digest in st.segments[b][1]:
                segs[key] = path
                out.files[path] = data
                out.digests[path] = digest
        return segs

    def _election(self, cut: ColumnCut, i: int, st: _Static) -> tuple[SiteFiles, ElectionResults, str]:
        """The segments, ámbito files and entidad file of election ``i``."""
        ce = self.ce
        er: ColumnResults = cut.elections[ce.proceso.elections[i].id]
        with ce.con.cursor() as con:  # one per thread: DuckDB runs them side by side
            return self._election_on(con, cut, er, i, st)

    def _election_on(self, con: Any, cut: ColumnCut, er: ColumnResults, i: int, st: _Static
                     ) -> tuple[SiteFiles, ElectionResults, str]:
        ce = self.ce
        e = st.election
        nv = len(e.columns)
        out = SiteFiles()
        sql.cut_tables(con, ce, i, er.table, self.segment_actas)
        segs = self._segments(con, i, e, st, out)
        votes = ", ".join(f"sum(v{k})" for k in range(nv))
        sums = {int(r[0]): _totals(nv, r) for r in con.execute(
                    "SELECT sa, sum(esperadas), sum(cap), sum(con), sum(ln), sum(lnc), sum(tv), "
                    f"sum(tvse), {votes} FROM st{i} GROUP BY sa").fetchall()}
        ambitos = {aid: sums.get(aid) or Totals(nv) for aid in st.order}
        secciones = dict(con.execute(
            "SELECT sa, string_agg('[' || seccion || ',' || cap || ',' || con || ',' || lnc || ',' "
            f"|| tv || ',' || tvse || ',' || corte || ']', ',' ORDER BY seccion) FROM st{i} "
            "GROUP BY sa").fetchall())
        states = dict(con.execute(
            "SELECT c.sa, string_agg(CASE WHEN r.fn IS NULL THEN 'null' ELSE '[' || r.b || ',' || "
            f"r.contabilizada || ']' END, ',' ORDER BY c.n) FROM sc{i} c LEFT JOIN cr{i} r "
            "ON r.cn = c.n AND r.part = 0 GROUP BY c.sa").fetchall())
        paths = {}
        for aid in st.order:
            data = _obj({
                "schema": _s("prepcast.site.ambito/1"), "eleccion": _s(e.id),
                "ambito": _s(e.ambito.value), "id": str(aid),
                "totales": _s(rec.totals_json(ambitos[aid])),
                "campos_seccion": _s(list(rec.SECCION_FIELDS)),
                "secciones": f"[{secciones.get(aid) or ''}]",
                "casillas": f"[{states.get(aid) or ''}]",
            })
            paths[aid] = out.put(f"data/{e.id}/{e.ambito.value}/{aid:02d}.json", data)
        fuera = [{"clave": str(r[0]), "ambito": int(r[1]), "segmento": [int(r[2]), int(r[3])]}
                 for r in con.execute(f"SELECT clave, aid, b, s FROM cr{i} WHERE part = 1 "
                                      "ORDER BY k2, clave, k3").fetchall()]
        results = ElectionResults(e, er.preamble, er.entidad, ambitos, {}, [], dict(st.names),
                                  st.seccion_ambito)
        entidades = None
        if ce.proceso.nacional:
            parties = {p.id: p.nombre for p in ce.proceso.parties}
            entidades = [nation_entidad(results, ent, name, parties)
                         for ent, name in sorted(st.entidades.items())]
        doc = entidad_json(ce.proceso, cut.number, cut.last, results, paths, fuera, segs,
                           entidades)
        return out, results, out.add(f"data/{e.id}/entidad.json", doc)
