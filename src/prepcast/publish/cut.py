"""One cut of an election directory → its package: tally, database zips, site, assemble.

:func:`open_election` → tally → database zips → site files → :func:`assemble`. An election
directory whose files are plain is read, tallied and laid out on columns (DuckDB:
:mod:`prepcast.election.columnar`, :mod:`prepcast.formats.write_prep_csv_columns`,
:mod:`prepcast.site.columns`); any other, or a feed held in memory (a capture system's drop),
on rows. Both give the same bytes. Nothing here reads the wall clock: the same inputs give the
same bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prepcast.election import (
    ElectionDir,
    NightTally,
    Proceso,
    cut_number,
    cut_time,
    is_last_cut,
    load_election_dir,
)
from prepcast.election.columnar import ColumnCut, ColumnElection, load_columns, tally_columns
from prepcast.election.tally import CutResults
from prepcast.errors import InputError, PrepcastError
from prepcast.formats.write_prep_csv import DatabaseWriter
from prepcast.formats.write_prep_csv_columns import ColumnDatabaseWriter, build_databases_columns
from prepcast.package.build import PARALLEL_BYTES, assemble
from prepcast.package.canonical import canonical_json, content_name, sha256_hex
from prepcast.package.ejercicio import JORNADA_NAME, Ejercicio
from prepcast.package.keys import Signer
from prepcast.package.layout import db_dir
from prepcast.package.manifest import Manifest
from prepcast.package.schemas import schema_problems
from prepcast.site import SiteWriter
from prepcast.site.columns import ColumnSiteWriter, columns_site_ok

# A cut's package stays valid this long after the proceso's last cut.
EXPIRES_AFTER_END = timedelta(days=7)


@dataclass(frozen=True)
class CutFiles:
    """Everything of a cut but its signatures: the files and main.json's ``data``."""

    results: CutResults | ColumnCut
    files: dict[str, bytes]
    main_fields: dict[str, Any]
    digests: dict[str, str] = field(default_factory=dict)  # SHA-256 of some files, as named


def open_election(path: Path) -> ElectionDir | ColumnElection:
    """An election directory read on columns when every file is plain, on rows otherwise (the
    row readers report every problem of a file with its line)."""
    ce = load_columns(path)
    if ce is not None:
        if columns_site_ok(ce):
            return ce
        ce.con.close()
    return load_election_dir(path)


def night_engine(ed: ElectionDir) -> ElectionDir | ColumnElection:
    """What a night's :class:`CutBuilder` builds from, given the election as read from its
    directory: a national proceso on columns when its files are plain (on rows it takes tens
    of seconds a cut), a state's on rows (the night's incremental tally is as fast there)."""
    if not ed.proceso.nacional:
        return ed
    ce = load_columns(ed.path)
    if ce is not None:
        if columns_site_ok(ce):
            return ce
        ce.con.close()
    return ed


def prepare_night(ed: ElectionDir | ColumnElection, signer: Signer | None, *,
                  difusores: Sequence[Mapping[str, Any]] = (), ejercicio: str = JORNADA_NAME,
                  first: int = 1) -> tuple[CutBuilder, dict[str, Any]]:
    """A night's :class:`CutBuilder` on its engine (:func:`night_engine`), prepared
    (:meth:`CutBuilder.prepare`, then :meth:`CutBuilder.start_at` ``first``, the first cut it
    will build), and what that took: ``motor`` (``columnas`` or ``filas``), ``lectura_s``
    (reading the election on columns), ``tablas_s`` (the night's tables) and ``segmentos_s``
    (the segments as of the cut before ``first``: ``segmentos_del_corte``, or None)."""
    t0 = time.perf_counter()
    source = night_engine(ed) if isinstance(ed, ElectionDir) else ed
    t1 = time.perf_counter()
    builder = CutBuilder(source, signer, difusores=difusores, ejercicio=ejercicio)
    builder.prepare()
    t2 = time.perf_counter()
    before = builder.start_at(first)
    t3 = time.perf_counter()
    return builder, {"motor": "columnas" if isinstance(source, ColumnElection) else "filas",
                     "lectura_s": round(t1 - t0, 3), "tablas_s": round(t2 - t1, 3),
                     "segmentos_s": round(t3 - t2, 3), "segmentos_del_corte": before}


def proceso_id(proceso: Proceso) -> str:
    """The proceso's id in manifests and main.json, e.g. ``IEEM-2024``."""
    return f"{proceso.institute}-{proceso.year}"


def read_difusores(path: Path | None) -> list[dict[str, Any]]:
    """The official difusores from a JSON file (a list, or ``{"difusores": [...]}``)."""
    if path is None:
        return []
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise InputError.at(path, f"cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError.at(path, f"not JSON: {exc}") from None
    items = doc.get("difusores") if isinstance(doc, dict) else doc
    problems = schema_problems(
        "difusores", {"schema": "prepcast.difusores/1", "proceso": "-", "difusores": items}
    )
    if problems:
        raise InputError.at(path, "; ".join(problems))
    return [dict(d) for d in items] if isinstance(items, list) else []


def registry_public_list(path: Path, last: Sequence[Mapping[str, Any]] | None = None
                         ) -> list[dict[str, Any]]:
    """The public list of the registry at ``path`` (its ``activo`` difusores, site and logo),
    read before every cut when no fixed list is given: a difusor blocked during the night is
    gone from the next cut's list. While the registry cannot be read (being edited), ``last``."""
    from prepcast.registry import load_registry, public_list

    try:
        return public_list(load_registry(path))
    except PrepcastError:
        if last is None:
            raise
        return [dict(d) for d in last]


class CutBuilder:
    """Builds the packages of one election night's cuts, keeping across cuts what does not change.

    On rows (an :class:`ElectionDir`) the tally applies only the actas registered since the
    previous cut (``NightTally``), each registered acta's database row is formatted once
    (``DatabaseWriter``) and the site reuses the acta segments of earlier cuts (``SiteWriter``).
    On columns (a :class:`ColumnElection`, see :func:`open_election`) each cut is tallied on
    columns, each record's database row and JSON are formatted once (``ColumnDatabaseWriter``,
    ``ColumnSiteWriter``)."""

    def __init__(self, ed: ElectionDir | ColumnElection, signer: Signer | None, *,
                 difusores: Sequence[Mapping[str, Any]] = (),
                 ejercicio: str = JORNADA_NAME, night: bool = True) -> None:
        self.ed = ed
        self.night = night  # False: one cut alone (nothing kept for a next cut is worth it)
        self.ejercicio = Ejercicio.parse(ejercicio).name
        self.signer = signer
        self.difusores = [dict(d) for d in difusores]
        self.last_results: CutResults | ColumnCut | None = None  # of the cut last built
        self._digests: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, sha256) of last cut
        root_key = signer.root_public if signer else None
        if isinstance(ed, ColumnElection):
            self._columns: tuple[ColumnDatabaseWriter, ColumnSiteWriter] | None = (
                ColumnDatabaseWriter(self.ejercicio), ColumnSiteWriter(ed, ejercicio=self.ejercicio,
                                                         root_key=root_key))
        else:
            self._columns = None
            self._databases = DatabaseWriter(self.ejercicio)
            self._tally = NightTally(ed.proceso, ed.casillas, ed.feeds)
            self._site = SiteWriter(ejercicio=self.ejercicio, root_key=root_key)

    def prepare(self) -> None:
        """Make now what every cut of the night reads and none changes, so that no cut pays it:
        on columns each record's database row and JSON, each election's tables and catalogs
        (a night runner calls it once the election is read, before its first cut is due). The
        cuts' bytes are the same with or without it. On rows nothing is left to make."""
        if self._columns is None or not isinstance(self.ed, ColumnElection):
            return
        writer, site_writer = self._columns
        if self.night:
            writer.prepare(self.ed)
        site_writer.prepare()

    def start_at(self, first: int) -> int | None:
        """A night whose first cut to build is ``first`` (a runner started or restarted late):
        on columns the acta segments laid out now as of the cut before it, a time already past,
        and kept as a cut built before would keep them, so that the first cut lays out only
        what changed since, as every later cut does; returns that cut's number (None: nothing
        to lay out). The cuts' bytes are the same either way."""
        if (self._columns is None or not isinstance(self.ed, ColumnElection) or not self.night
                or first <= 1):
            return None
        proceso = self.ed.proceso
        before = min(first, len(proceso.cut_times()) + 1) - 1
        cut = tally_columns(self.ed, cut_time(proceso, before), number=before,
                            last=is_last_cut(proceso, before))
        try:
            self._columns[1].lay_out_segments(cut)
        finally:
            self.ed.release(cut)
        return before

    def files(self, number: int, *, previous: Path | Manifest | None = None,
              at: datetime | None = None) -> CutFiles:
        """Results, database zips, site and difusores list of cut ``number`` (after
        ``previous``, whose history the site's history extends), as of ``at`` (default: the
        cut's scheduled time; a capture system's drop states its own)."""
        proceso = self.ed.proceso
        at = at or cut_time(proceso, number)
        last = is_last_cut(proceso, number)
        if isinstance(self.ed, ColumnElection) and self._columns is not None:
            writer, site_writer = self._columns
            cut = tally_columns(self.ed, at, number=number, last=last)
            # the database zips beside the site (DuckDB and zlib let go of Python's lock)
            with ThreadPoolExecutor(max_workers=1) as pool:
                zips = pool.submit(writer.build if self.night else build_databases_columns, cut,
                                   **({} if self.night else {"ejercicio": self.ejercicio}))
                site = site_writer.files(cut, zips.result, self.difusores,
                                         history=site_writer.history_after(previous))
                databases = zips.result()
            if isinstance(self.last_results, ColumnCut):
                self.ed.release(self.last_results)  # a night keeps no cut it no longer reads
            self.last_results = cut
        else:
            results = self._tally.cut(at, number=number, last=last)
            self.last_results = results
            databases = self._databases.build(results)
            site = self._site.files(results, databases, self.difusores,
                                    history=self._site.history_after(previous))
        files, main_fields = dict(site.files), dict(site.main_fields)
        for db in databases:
            files[f"{db_dir(self.ejercicio, number)}/{db.name}"] = db.data
        listing = canonical_json(
            {"schema": "prepcast.difusores/1", "proceso": proceso_id(proceso),
             "difusores": self.difusores}
        )
        difusores_path = content_name("difusores.json", listing)
        files[difusores_path] = listing
        main_fields = {**main_fields, "difusores_oficiales": difusores_path}
        return CutFiles(self.last_results, files, main_fields, site.digests)

    def build(self, at: datetime, out: Path, *, previous: Path | Manifest | None = None,
              built_at: datetime | None = None, not_before: datetime | None = None,
              exact: bool = False) -> Manifest:
        """Write the package of the cut at ``at`` (the latest scheduled cut at or before it;
        with ``exact``, dated ``at`` itself, as a capture system's drop states it).

        ``not_before`` (default: the cut's time) is its embargo: a drill of a past election with
        a near-future embargo lets difusores rehearse activation at a real time; the package
        then expires that long after its embargo."""
        if self.signer is None:
            raise InputError("no cut key to sign the package with")
        proceso = self.ed.proceso
        number = cut_number(proceso, at)
        when = at if exact else cut_time(proceso, number)
        cf = self.files(number, previous=previous, at=when)
        # a file that is the very bytes object of the last cut's (most of a night's) keeps its
        # digest: the package is not hashed whole again
        digests = {p: held[1] for p, b in cf.files.items()
                   if (held := self._digests.get(p)) is not None and held[0] is b}
        # and those of the files hashed for their content-addressed names
        digests.update((p, d) for p, d in cf.digests.items() if p not in digests and p in cf.files)
        todo = [cf.files[p] for p in cf.files if p not in digests]
        if sum(map(len, todo)) < PARALLEL_BYTES:  # a state's cut: threads would only cost
            hashed = list(map(sha256_hex, todo))
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib lets go of Python's lock
                hashed = list(pool.map(sha256_hex, todo))
        digests.update(zip([p for p in cf.files if p not in digests], hashed, strict=True))
        self._digests = {p: (b, digests[p]) for p, b in cf.files.items()}
        return assemble(
            out,
            cf.files,
            cut=number,
            proceso=proceso_id(proceso),
            ejercicio=self.ejercicio,
            cut_time=when,
            not_before=not_before or when,
            expires=max(proceso.end, not_before or when) + EXPIRES_AFTER_END,
            previous=previous,
            signer=self.signer,
            main_fields=cf.main_fields,
            built_at=built_at,
            digests=digests,
        )


def cut_files(ed: ElectionDir | ColumnElection, number: int, difusores: Sequence[Mapping[str, Any]] = ()) -> CutFiles:
    """Results, database zips, site and difusores list of cut ``number`` of ``ed``."""
    return CutBuilder(ed, None, difusores=difusores, night=False).files(number)


def build_cut(
    ed: ElectionDir | ColumnElection,
    at: datetime,
    signer: Signer,
    out: Path,
    *,
    previous: Path | Manifest | None = None,
    difusores: Sequence[Mapping[str, Any]] = (),
    built_at: datetime | None = None,
    ejercicio: str = JORNADA_NAME,
    not_before: datetime | None = None,
) -> Manifest:
    """Write the package of the cut at ``at`` (one cut alone; a night uses :class:`CutBuilder`)."""
    return CutBuilder(ed, signer, difusores=difusores, ejercicio=ejercicio, night=False).build(
        at, out, previous=previous, built_at=built_at, not_before=not_before
    )
