"""Orchestration: access logs (+ event log, incidents) → the informe técnico in a directory.

:func:`write_report` is the one entry point (the CLI and the simulacro call it). Everything is
written into a staging directory beside ``out`` and moved into place at the end, so a failure
never leaves half a report (:mod:`prepcast.analytics.output`: the files and their move).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from prepcast.analytics import _db
from prepcast.analytics._pdf import PdfError, PdfWorkers
from prepcast.analytics.analysis import conclusions, cut_effect
from prepcast.analytics.compat import goaccess_figures
from prepcast.analytics.enrich import enrich, restrict_period
from prepcast.analytics.geo import DBIP_ATTRIBUTION, DBIP_URL, GeoLocator, default_database
from prepcast.analytics.incidents import (
    EventLog,
    in_period,
    incidents_from_errors,
    read_events,
)
from prepcast.analytics.manual import read_incidents_yaml
from prepcast.analytics.metrics import figures, tables
from prepcast.analytics.model import ReportData, ReportSummary
from prepcast.analytics.outages import silences
from prepcast.analytics.outline import OUTLINES
from prepcast.analytics.output import TABLES_DIR, move_into_place, write_informes, write_tables
from prepcast.analytics.parse import ParseStats, load_logs
from prepcast.analytics.sessions import build_sessions
from prepcast.analytics.useragents import warm_up
from prepcast.analytics.views import INSTITUTE_HOSTS
from prepcast.errors import InputError, PrepcastError, Problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOptions:
    """Settings of one report, validated at the edge (CLI or caller)."""

    difusor: str = "Difusor oficial del PREP"
    start: datetime | None = None
    end: datetime | None = None
    site_hosts: tuple[str, ...] = ()
    institute_hosts: tuple[str, ...] = INSTITUTE_HOSTS
    embed_hosts: tuple[str, ...] = ()
    site_path: str | None = None  # the results site's folder (default: found from json/main.json)
    # The outlines to write: "prepcast" (its own), "ieem", "iem"; several give one file each.
    formatos: tuple[str, ...] = ("prepcast",)
    memory_limit: str = "300MB"
    threads: int | None = None
    # Whose probes count when the event log holds the monitor's probes of several difusores
    # (its name in the institute's registry).
    probes_of: str | None = None
    # The offset the informe's times are shown in (default: that of --from, else the logs' own).
    utc_offset: timezone | None = None
    goaccess_files: bool = False  # keep GoAccess-style hits per file (for comparisons)
    # Work in a database file (compressed tables) rather than in memory: None decides by the
    # logs' size (ON_DISK_BYTES, .gz counted 8 times), which is faster once tables outgrow memory.
    on_disk: bool | None = None


ON_DISK_BYTES = 100_000_000


def _version() -> str:
    try:
        from prepcast import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover
        return "?"


def write_report(
    logs: list[Path],
    out: Path,
    *,
    pdf: bool = True,
    events: Path | Sequence[Path] | None = None,
    incidents: Path | None = None,
    geoip_db: Path | None = None,
    options: ReportOptions | None = None,
) -> ReportSummary:
    """Write the informe técnico for ``logs`` into directory ``out``."""
    opts = options or ReportOptions()
    began = time.monotonic()
    unknown = [f for f in opts.formatos if f not in OUTLINES]
    if unknown or not opts.formatos:
        raise InputError.at("--formato", f"unknown outline {', '.join(unknown) or '(none)'}; "
                            f"choose among {', '.join(OUTLINES)}")
    if not logs:
        raise InputError.at("--logs", "give at least one access log")
    if opts.start and opts.end and opts.start >= opts.end:
        raise InputError.at("--from", "must be earlier than --to")
    for value, flag in ((opts.start, "--from"), (opts.end, "--to")):
        if value is not None and value.tzinfo is None:
            raise InputError.at(flag, "needs a UTC offset, e.g. 2024-06-02T20:00-06:00")
    geo = GeoLocator(geoip_db if geoip_db is not None else default_database())
    event_log = (read_events(events, probes_of=opts.probes_of, start=opts.start, end=opts.end)
                 if events else EventLog())

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / TABLES_DIR).mkdir(parents=True)
    formatos = tuple(dict.fromkeys(opts.formatos))
    # The PDF's workers load WeasyPrint while DuckDB parses (see _pdf); two at most, on 2 cores.
    workers = PdfWorkers(min(len(formatos), 2)) if pdf else None
    try:
        on_disk = opts.on_disk
        if on_disk is None:
            size = sum(p.stat().st_size * (8 if p.suffix == ".gz" else 1) for p in logs if p.is_file())
            on_disk = size > ON_DISK_BYTES
        (stage / ".duckdb").mkdir()
        con = _db.connect(
            stage / ".duckdb" / "work.duckdb" if on_disk else None,
            memory_limit=opts.memory_limit,
            temp_dir=stage / ".duckdb",
            threads=opts.threads,
        )
        try:
            with _db.interruptible():  # also the queries streamed outside the helpers
                data = _analyse(con, logs, geo, event_log, incidents, opts, stage / ".duckdb")
            # The informes first: their PDFs are laid out while the database closes.
            files = write_informes(data, formatos, len(opts.formatos) > 1, stage, out, workers)
        finally:
            con.close()
            geo.close()
        table_paths = write_tables(data, stage, out)
        shutil.rmtree(stage / ".duckdb", ignore_errors=True)
        if workers is not None:
            try:
                workers.finish()
            except PdfError as exc:
                raise PrepcastError(f"could not write the PDF: {exc}") from None
        move_into_place(stage, out)
    finally:
        if workers is not None:
            workers.stop()
        shutil.rmtree(stage, ignore_errors=True)
    fig = data.figures
    return ReportSummary(
        out=out,
        html=files["html"],
        pdf=files.get("pdf"),
        tables=tuple(table_paths),
        lines=data.parse.lines,
        malformed=data.parse.malformed,
        requests=fig.requests,
        visitors=fig.visitors,
        sessions=fig.sessions,
        page_views=fig.page_views,
        bot_requests=fig.bot_requests,
        availability=100 * fig.availability_requests,
        incidents=len(data.incidents),
        seconds=time.monotonic() - began,
        files=files,
        warnings=tuple(data.warnings),
    )


def _analyse(
    con: object,
    logs: list[Path],
    geo: GeoLocator,
    event_log: EventLog,
    incidents_yaml: Path | None,
    opts: ReportOptions,
    work_dir: Path,
) -> ReportData:
    t0 = time.monotonic()
    # DuckDB parses without holding the GIL: load what later steps need meanwhile.
    loader = threading.Thread(target=_load_libraries, daemon=True)
    loader.start()
    try:
        stats = load_logs(con, logs, work_dir, keep_query=opts.goaccess_files)
    finally:
        loader.join()
    log.info("parsed %d lines (%d malformed) in %.1f s", stats.lines, stats.malformed, time.monotonic() - t0)
    _require_requests(stats, logs)
    outside = restrict_period(
        con,
        int(opts.start.timestamp()) if opts.start else None,
        int(opts.end.timestamp()) if opts.end else None,
    )
    enrichment = enrich(
        con, geo, site_hosts=opts.site_hosts, institute_hosts=opts.institute_hosts,
        embed_hosts=opts.embed_hosts, site_root=opts.site_path,
    )
    log.info("enriched in %.1f s", time.monotonic() - t0)
    gofig = goaccess_figures(
        con, stats.lines - outside, stats.malformed, with_files=opts.goaccess_files
    )
    _db.run(con, "DROP TABLE hits")
    build_sessions(con)
    fig = figures(con)
    fig.offset_s = _offset_s(opts, fig.offset_s)
    tabs = tables(con, fig)
    log.info("aggregated in %.1f s", time.monotonic() - t0)
    tz = timezone(timedelta(seconds=fig.offset_s))
    found = list(event_log.incidents)
    if incidents_yaml is not None:
        found += read_incidents_yaml(incidents_yaml, tz)
    found += incidents_from_errors(tabs["trafico_por_minuto"].rows, tz)
    window_start = opts.start or (event_log.cuts[0][0] if event_log.cuts else None)
    quiet = silences(
        con,
        int(window_start.timestamp()) if window_start else None,
        int(opts.end.timestamp()) if opts.end else None,
    )
    found += quiet
    found = in_period(found, opts.start, opts.end)
    found.sort(key=lambda i: i.start)
    warnings = list(stats.warnings) + _utc_warnings(stats, opts)
    if fig.requests and not fig.page_views:
        warnings.append(
            "no page views by the report's rules (no HTML page of the portal and no view of the "
            f"results site in {enrichment.site_root}); the informe says so instead of counting 0"
        )
    if not enrichment.site_root_found and fig.requests:
        warnings.append("no request of json/main.json: the results site was assumed at / "
                        "(give its folder with --site-path)")
    probe = (100.0 * event_log.probes_ok / event_log.probes_total) if event_log.probes_total else None
    cuts = [c for c, _ in event_log.cuts]
    effect = cut_effect(tabs["trafico_por_minuto"].rows, cuts, tz)
    analysis, recs = conclusions(
        fig, tabs, found, effect, probe, stats.malformed, stats.lines, geo.is_dbip
    )
    if geo.is_dbip:
        source = (f"{DBIP_ATTRIBUTION} ({DBIP_URL}): base DB-IP City Lite, licencia CC BY 4.0.")
        note = (f"{DBIP_ATTRIBUTION} ({DBIP_URL}), licencia CC BY 4.0. DB-IP ubica en Ciudad de "
                "México muchas direcciones de proveedores de internet nacionales; la cifra de esa "
                "entidad puede incluir lectores de otras.")
    else:
        source = f"Base de geolocalización {geo.database.name} ({geo.database_type})."
        note = source
    period = "Periodo: todas las solicitudes de las bitácoras."
    if opts.start or opts.end:
        period = (f"Periodo solicitado: {opts.start.isoformat() if opts.start else 'inicio'} a "
                  f"{opts.end.isoformat() if opts.end else 'fin'}; {outside:,} solicitudes fuera "
                  "del periodo se excluyeron.")
    return ReportData(
        difusor=opts.difusor,
        version=_version(),
        generated=datetime.now(UTC),
        parse=stats,
        enrichment=enrichment,
        figures=fig,
        tables=tabs,
        goaccess=gofig,
        events=event_log,
        incidents=found,
        probe_availability=probe,
        analysis=analysis,
        recommendations=recs,
        geo_source=source,
        geo_note=note,
        period_note=period,
        outside_period=outside,
        warnings=warnings,
        silences=quiet,
        period_epochs=(int(opts.start.timestamp()) if opts.start else fig.first_epoch,
                       int(opts.end.timestamp()) if opts.end else fig.last_epoch),
    )


UTC_ONLY = {"cloudfront": "CloudFront", "w3c": "IIS (W3C)"}  # formats whose times carry no offset


def _offset_s(opts: ReportOptions, logs_offset_s: int) -> int:
    """The offset the informe's times are shown in: --utc-offset, else that of --from (or
    --to), else the one most frequent in the logs."""
    for value in (opts.utc_offset, opts.start and opts.start.tzinfo, opts.end and opts.end.tzinfo):
        offset = value.utcoffset(None) if value else None
        if offset is not None:
            return int(offset.total_seconds())
    return logs_offset_s


def _utc_warnings(stats: ParseStats, opts: ReportOptions) -> list[str]:
    """What a reader should know of logs in UTC when no offset was chosen for the informe."""
    if opts.utc_offset is not None or opts.start is not None or opts.end is not None:
        return []
    utc = [lf for lf in stats.files if lf.format in UTC_ONLY]
    if not utc or len(utc) < len(stats.files):
        return []
    kinds = " and ".join(dict.fromkeys(UTC_ONLY[lf.format] for lf in utc))
    return [f"{kinds} logs give their times in UTC, so the informe shows them in UTC; give the "
            "election's offset with --utc-offset (e.g. --utc-offset -06:00) or with --from/--to"]


def _require_requests(stats: ParseStats, logs: list[Path]) -> None:
    """An informe needs at least one request: an empty log, or a file none of whose lines is a
    request (not an access log), would give figures of nothing (availability 100 %)."""
    if stats.lines > stats.malformed:
        return
    source = str(logs[0]) if len(logs) == 1 else "--logs"
    if stats.lines == 0:
        message = "no line to read: the log is empty" if len(logs) == 1 else "every log is empty"
    else:
        message = (f"none of its {stats.lines:,} lines is a request of an access log (all "
                   "malformed): is it the web server's access log?")
    damaged = [w for w in stats.warnings if "truncated or damaged" in w]
    raise InputError([Problem(source, message, field="--logs"), *(Problem("", w) for w in damaged)])


def _load_libraries() -> None:
    """ua-parser's rules and the crawler list, loaded ahead of use (WeasyPrint: see _pdf)."""
    try:
        warm_up()
    except Exception:  # the step that needs them reports the problem itself
        log.debug("libraries not loaded ahead", exc_info=True)
