"""``prepcast report``: the informe técnico from web access logs."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from prepcast.errors import InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the informe técnico (HTML, PDF, CSV, JSON) from access logs",
        description=(
            "Read web server access logs (nginx/Apache combined or vcombined, JSON lines, "
            "CloudFront; .gz too) and write the informe técnico / memoria técnica in Spanish: "
            "informe.html, informe.pdf and tablas/*.csv|json in --out."
        ),
    )
    parser.add_argument("--logs", nargs="+", type=Path, required=True, metavar="PATH",
                        help="access log files")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    parser.add_argument("--pdf", action="store_true", help="also write informe.pdf (WeasyPrint)")
    parser.add_argument("--formato", action="append", default=[], metavar="OUTLINE",
                        help="the outline: ieem (informe técnico, items i–ix), iem (memoria "
                        "técnica, a–c) or prepcast (default); repeat or separate with commas for "
                        "several (informe-ieem.html, informe-iem.html)")
    parser.add_argument("--from", dest="start", metavar="TIME",
                        help="first moment analysed, ISO 8601 with offset (2024-06-02T20:00-06:00)")
    parser.add_argument("--to", dest="end", metavar="TIME", help="end of the period (exclusive)")
    parser.add_argument("--events", type=Path, action="append", default=[], metavar="FILE",
                        help="an event log (JSON lines; see docs/report.md): the difusor daemon's "
                        "and/or the monitor's file of this difusor; repeat it to merge several")
    parser.add_argument("--probes-of", metavar="NAME",
                        help="the difusor (its name in the institute's registry) whose monitor "
                        "probes count, when an event log holds the probes of several")
    parser.add_argument("--utc-offset", metavar="OFFSET",
                        help="show the informe's times at this UTC offset, e.g. -06:00 (default: "
                        "the offset of --from, else the logs' own; CloudFront and IIS logs are UTC)")
    parser.add_argument("--incidents", type=Path, metavar="FILE",
                        help="incidents entered by a person (YAML; see docs/report.md)")
    parser.add_argument("--geoip-db", type=Path, metavar="FILE",
                        help="MaxMind-format City database (default: DB-IP City Lite)")
    parser.add_argument("--difusor", default="Difusor oficial del PREP",
                        help="the difusor's name, shown on the report's first page")
    parser.add_argument("--site-host", action="append", default=[], metavar="HOST",
                        help="the site's own host name (default: detected from the logs)")
    parser.add_argument("--institute-host", action="append", default=[], metavar="HOST",
                        help="a host of the institute's own site (adds to ieem.org.mx, iem.mx, iem.org.mx, ine.mx)")
    parser.add_argument("--site-path", metavar="PATH",
                        help="folder of the results site, e.g. /prep/ (default: where json/main.json "
                        "is requested)")
    parser.add_argument("--embed-host", action="append", default=[], metavar="HOST",
                        help="a host known to embed the PREP in its pages")
    parser.add_argument("--memory-limit", default="300MB",
                        help="DuckDB memory limit (default 300MB; beyond it DuckDB spills to disk)")
    parser.set_defaults(handler=run)


def prepare_argv(argv: list[str]) -> list[str]:
    """``--utc-offset -06:00`` as ``--utc-offset=-06:00``: argparse takes a value that starts
    with a dash for an option unless it is glued to its flag (the CLI calls this before
    parsing). The flag's abbreviations argparse accepts (``--utc -06:00``) are glued too, since
    no other flag of the command starts with ``--u``. Anything after ``--`` is left alone."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        out.append(arg)
        if arg == "--":
            out.extend(args)
            break
        if len(arg) > 3 and "--utc-offset".startswith(arg):
            value = next(args, None)
            if value is None:
                break
            if value.startswith("-") and not value.startswith("--"):
                out[-1] = f"{arg}={value}"
            else:
                out.append(value)
    return out


def _when(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError.at(flag, f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise InputError.at(flag, f"needs a UTC offset, e.g. {value}-06:00")
    return parsed


_OFFSET = re.compile(r"^(?:UTC|Z|([+-])(\d{1,2})(?::?(\d{2}))?)$", re.IGNORECASE)


def _offset(value: str | None) -> timezone | None:
    """``--utc-offset``: -06:00, -0600, -6, +05:30, Z or UTC."""
    if value is None:
        return None
    m = _OFFSET.match(value.strip())
    if m is None or (m.group(1) and (int(m.group(2)) > 14 or int(m.group(3) or 0) > 59)):
        raise InputError.at("--utc-offset", f"expected an offset such as -06:00, not {value!r}")
    if not m.group(1):
        return UTC
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def _formatos(values: list[str]) -> tuple[str, ...]:
    from prepcast.analytics.outline import OUTLINES

    chosen = tuple(dict.fromkeys(v.strip().lower() for raw in values for v in raw.split(",") if v.strip()))
    for value in chosen:
        if value not in OUTLINES:
            raise InputError.at("--formato", f"unknown outline {value!r}; choose among {', '.join(OUTLINES)}")
    return chosen or ("prepcast",)


def _folder(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith("/") or any(c in value for c in "?#'\"\\") or len(value) > 300:
        raise InputError.at("--site-path", f"expected a folder path such as /prep/, not {value!r}")
    return value if value.endswith("/") else value + "/"


_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def run(args: argparse.Namespace) -> int:
    from prepcast.analytics import ReportOptions, write_report
    from prepcast.analytics.views import INSTITUTE_HOSTS

    if not _MEMORY.match(args.memory_limit.strip()):
        raise InputError.at("--memory-limit", f"{args.memory_limit!r} is not a size such as 1500MB or 2GB")

    if args.probes_of is not None and not args.events:
        raise InputError.at("--probes-of", "needs --events: the event log that holds the probes")
    for path, flag in (*((e, "--events") for e in args.events), (args.incidents, "--incidents"),
                       (args.geoip_db, "--geoip-db")):
        if path is not None and not path.is_file():
            raise InputError.at(path, "file not found", field=flag)
    options = ReportOptions(
        difusor=args.difusor,
        start=_when(args.start, "--from"),
        end=_when(args.end, "--to"),
        site_hosts=tuple(args.site_host),
        institute_hosts=INSTITUTE_HOSTS + tuple(args.institute_host),
        embed_hosts=tuple(args.embed_host),
        site_path=_folder(args.site_path),
        formatos=_formatos(args.formato),
        memory_limit=args.memory_limit,
        probes_of=args.probes_of,
        utc_offset=_offset(args.utc_offset),
    )
    summary = write_report(
        list(args.logs), args.out, pdf=args.pdf, events=list(args.events),
        incidents=args.incidents, geoip_db=args.geoip_db, options=options,
    )
    print(
        f"{summary.html}: {summary.lines:,} lines ({summary.malformed:,} malformed), "
        f"{summary.requests:,} requests, {summary.visitors:,} visitors, {summary.sessions:,} sessions, "
        + (f"availability {summary.availability:.3f} %, " if summary.requests else
           "availability — (no request in the period), ")
        + f"{summary.incidents} incidents "
        f"({summary.seconds:.1f} s)"
    )
    for key, path in summary.files.items():
        if key.startswith(("html-", "pdf-")) and path != summary.html:
            print(path)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
