"""Access logs → one DuckDB table of requests (``hits``).

DuckDB reads each file as raw lines (``read_csv`` with no quoting, ``.gz`` decompressed on the
fly) and parses them with one RE2 regular expression per format; nothing is parsed in Python.
Formats, detected per file from its first lines:

- ``combined``: nginx/Apache combined (also common log format), optionally followed by the
  request time (``$request_time`` / ``%D``-style fields after the user agent);
- ``vcombined``: the same preceded by ``host[:port]`` (Apache ``vhost_combined``);
- ``json``: one JSON object per line (nginx ``escape=json`` and similar; see ``JSON_KEYS``);
- ``cloudfront``: Amazon CloudFront standard logs (tab-separated, ``#Fields:`` header, UTC);
- ``w3c``: IIS W3C extended logs (space-separated, ``#Fields:`` header, UTC); both W3C
  dialects are read by :mod:`.w3c`.

Lines that do not parse (or are not valid UTF-8), JSON records without a status or an address,
and the cut-off end of a truncated ``.gz`` are counted as malformed with a warning, never fatal.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepcast.analytics._db import one, run
from prepcast.analytics._gz import is_damaged_gz, salvage_gz
from prepcast.analytics.w3c import w3c_select
from prepcast.errors import InputError

log = logging.getLogger(__name__)

_Q = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
COMBINED_RE = (
    r"^(\S+) \S+ (\S+) \[([^\]]+)\] " + _Q + r" (\d{3}) (\d+|-)(?: " + _Q + " " + _Q + r")?(.*)$"
)
VCOMBINED_RE = r"^(\S+) " + COMBINED_RE[1:]
_COMBINED_GROUPS = ["ip", "user", "time", "request", "status", "bytes", "referer", "ua", "rest"]
_REQUEST_RE = r"^(\S+) (\S+)(?: (\S+))?$"

# JSON-lines logs: the first key present in each list is used.
JSON_KEYS: dict[str, tuple[str, ...]] = {
    "time": ("time_iso8601", "time", "timestamp", "@timestamp", "date"),
    "ip": ("remote_addr", "client_ip", "ip", "remote_ip", "clientip"),
    "request": ("request",),
    "method": ("request_method", "method"),
    "path": ("request_uri", "uri", "path", "url"),
    "status": ("status", "response_status", "statuscode"),
    "bytes": ("body_bytes_sent", "bytes_sent", "bytes", "size"),
    "referer": ("http_referer", "referer", "referrer"),
    "ua": ("http_user_agent", "user_agent", "useragent", "agent"),
    "vhost": ("host", "server_name", "vhost"),
    "rt": ("request_time", "duration", "response_time"),
}

CLOUDFRONT_FIELDS = ["date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type", "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken"]

# What every format's SELECT yields, in order; only STORED_COLUMNS are kept in ``hits`` (the
# report uses no more, and DuckDB then skips computing the rest).
PARSED_COLUMNS = (
    "ok", "epoch", "off_s", "ip", "method", "path", "query", "protocol", "status", "bytes",
    "referer", "ua", "vhost", "rt",
)
HITS_COLUMNS = (
    "ok BOOLEAN, epoch BIGINT, off_s INTEGER, ip VARCHAR, path VARCHAR, query VARCHAR, "
    "status SMALLINT, bytes BIGINT, referer VARCHAR, ua VARCHAR"
)
STORED_COLUMNS = ", ".join(c.split()[0] for c in HITS_COLUMNS.split(", "))
# Without ``keep_query`` the report needs of the query string only whether it names an embed
# (:mod:`.enrich`): storing just that spares writing every query string into the table.
_QUERY_MARK = "CASE WHEN strpos(query, 'embed') > 0 THEN 'embed' ELSE '' END AS query"


@dataclass
class LogFile:
    path: Path
    format: str
    cloudfront_fields: tuple[str, ...] = ()


@dataclass
class ParseStats:
    files: list[LogFile] = field(default_factory=list)
    lines: int = 0
    malformed: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    salvage_dropped: int = 0  # partial last lines of truncated .gz files


def _head(path: Path, n: int = 50) -> list[str]:
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
        opener: Any = gzip.open if magic == b"\x1f\x8b" else open
        lines: list[str] = []
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            try:
                for line in fh:
                    lines.append(line.rstrip("\n")[:65536])
                    if len(lines) >= n:
                        break
            except (EOFError, gzip.BadGzipFile, zlib.error):
                pass  # a truncated or damaged .gz: what was read decides its format
        return lines
    except OSError as exc:
        raise InputError.at(path, f"cannot read log file ({exc})", field="--logs") from exc


_IP_TOKEN = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$")


def detect_format(path: Path) -> LogFile:
    """Which log format ``path`` holds, from its first lines; unknown formats are an error."""
    lines = [ln for ln in _head(path) if ln.strip()]
    if not lines:
        return LogFile(path, "combined")  # empty file: nothing to parse, any format will do
    fields = next((ln for ln in lines if ln.startswith("#Fields:")), None)
    if lines[0].startswith("#Version") or fields:
        names = tuple(fields.split()[1:]) if fields else tuple(CLOUDFRONT_FIELDS)
        data = next((ln for ln in lines if not ln.startswith("#")), "")
        spaced = fields is not None and " " in data and "\t" not in data  # IIS, not CloudFront
        return LogFile(path, "w3c" if spaced else "cloudfront", names)
    combined = re.compile(COMBINED_RE)
    vcombined = re.compile(VCOMBINED_RE)
    votes: dict[str, int] = {}
    for line in lines:
        kind = ""
        if line.lstrip().startswith("{"):
            try:
                if isinstance(json.loads(line), dict):
                    kind = "json"
            except ValueError:
                pass
        elif "\t" in line and re.match(r"^\d{4}-\d{2}-\d{2}\t", line):
            kind = "cloudfront"
        elif combined.match(line):
            first = line.split(" ", 1)[0]
            kind = "combined" if _IP_TOKEN.match(first) or first == "-" else "vcombined"
        elif vcombined.match(line):
            kind = "vcombined"
        if kind:
            votes[kind] = votes.get(kind, 0) + 1
    if not votes:
        raise InputError.at(
            path,
            "unknown log format (expected nginx/Apache combined or vcombined, JSON lines, "
            "or CloudFront standard logs)",
            line=1,
            field="--logs",
        )
    kind = max(votes, key=lambda k: votes[k])
    return LogFile(path, kind, tuple(CLOUDFRONT_FIELDS) if kind == "cloudfront" else ())


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_lines(paths: list[Path]) -> str:
    files = "[" + ", ".join(_lit(str(p)) for p in paths) + "]"
    return (
        f"read_csv({files}, columns={{'line': 'VARCHAR'}}, header=false, delim='\\x01', "
        "quote='', escape='', auto_detect=false, strict_mode=false, null_padding=true, "
        "ignore_errors=true, store_rejects=true, comment='')"
    )


def _combined_select(paths: list[Path], vhost: bool) -> str:
    """Combined (or vcombined) lines: split on double quotes (fast path), or one regular
    expression for lines with escaped quotes or other shapes (evaluated only for those)."""
    regex = VCOMBINED_RE if vhost else COMBINED_RE
    groups = (["vhost"] if vhost else []) + _COMBINED_GROUPS
    names = "[" + ", ".join(_lit(g) for g in groups) + "]"
    k = 1 if vhost else 0
    h = "s[1]"
    head_like = _lit(("% " if vhost else "") + "% % % [%] ")

    def pick(fast: str, group: str) -> str:
        return f"CASE WHEN fast THEN {fast} ELSE m.{group} END"

    return f"""
    WITH lines AS (
      SELECT line, string_split(line, '"') AS s FROM {_read_lines(paths)}
      WHERE line IS NOT NULL AND line <> ''
    ), f AS (
      SELECT line, s, len(s) = 7 AND s[5] = ' ' AND s[1] LIKE {head_like} AS fast
      FROM lines
    ), g AS (
      SELECT *, CASE WHEN NOT fast THEN regexp_extract(line, {_lit(regex)}, {names}) END AS m
      FROM f
    ), fields AS (
      SELECT {pick(f"split_part({h}, ' ', {1 + k})", "ip")} AS ip,
             {pick(f"substr({h}, strpos({h}, '[') + 1, strpos({h}, ']') - strpos({h}, '[') - 1)", "time")} AS t,
             {pick("s[2]", "request")} AS request,
             {pick("split_part(s[3], ' ', 2)", "status")} AS status_s,
             {pick("split_part(s[3], ' ', 3)", "bytes")} AS bytes_s,
             {pick("s[4]", "referer")} AS referer,
             {pick("s[6]", "ua")} AS ua,
             {pick("s[7]", "rest")} AS rest,
             {pick(f"split_part({h}, ' ', 1)", "vhost") if vhost else "''"} AS vh
      FROM g
    ), p AS (
      SELECT *, try_strptime(t, '%d/%b/%Y:%H:%M:%S %z') AS ts,
             string_split(request, ' ') AS q, TRY_CAST(status_s AS SMALLINT) AS status_n,
             TRY_CAST(substr(t, -5) AS INTEGER) AS tz
      FROM fields
    )
    SELECT ts IS NOT NULL AND coalesce(ip, '') <> '' AND status_n IS NOT NULL AS ok,
           epoch(ts)::BIGINT AS epoch,
           (tz // 100) * 3600 + (tz % 100) * 60 AS off_s,
           ip,
           coalesce(q[1], '') AS method,
           split_part(coalesce(q[2], ''), '?', 1) AS path,
           CASE WHEN strpos(q[2], '?') > 0 THEN substr(q[2], strpos(q[2], '?') + 1)
                ELSE '' END AS query,
           coalesce(q[3], '') AS protocol,
           status_n AS status,
           coalesce(TRY_CAST(bytes_s AS BIGINT), 0) AS bytes,
           CASE WHEN referer = '-' THEN '' ELSE coalesce(referer, '') END AS referer,
           coalesce(ua, '') AS ua,
           split_part(vh, ':', 1) AS vhost,
           CASE WHEN rest <> '' THEN TRY_CAST(regexp_extract(rest, '(\\d+\\.\\d+)', 1) AS DOUBLE) END AS rt
    FROM p
    """


def _json_select(paths: list[Path]) -> str:
    keys = [(name, k) for name, options in JSON_KEYS.items() for k in options]
    wanted = ", ".join(_lit("$." + k) for _, k in keys)

    def pick(name: str) -> str:
        found = [f"v[{i + 1}]" for i, (n, _) in enumerate(keys) if n == name]
        return f"coalesce({', '.join(found)}, '')"

    return f"""
    WITH r AS (
      SELECT {pick("time")} AS t, {pick("ip")} AS ip, {pick("request")} AS request,
             {pick("method")} AS method, {pick("path")} AS target, {pick("status")} AS status,
             {pick("bytes")} AS bytes, {pick("referer")} AS referer, {pick("ua")} AS ua,
             {pick("vhost")} AS vhost, {pick("rt")} AS rt
      FROM (SELECT CASE WHEN json_valid(line) THEN json_extract_string(line, [{wanted}]) END AS v
            FROM {_read_lines(paths)} WHERE line IS NOT NULL AND line <> '')
    ), p AS (
      SELECT *, coalesce(try_cast(t AS TIMESTAMPTZ),
                         try_strptime(t, '%d/%b/%Y:%H:%M:%S %z')) AS ts,
             regexp_extract(request, {_lit(_REQUEST_RE)}, ['method', 'target', 'proto']) AS q
      FROM r
    ), n AS (
      SELECT *, CASE WHEN q.target <> '' THEN q.target ELSE target END AS tgt,
             CASE WHEN q.method <> '' THEN q.method ELSE method END AS meth
      FROM p
    )
    SELECT coalesce(ts IS NOT NULL AND ip <> ''
                    AND TRY_CAST(status AS SMALLINT) BETWEEN 100 AND 599, false) AS ok, epoch(ts)::BIGINT AS epoch,
           coalesce(TRY_CAST(regexp_extract(t, '([+-])\\d{{2}}:?\\d{{2}}$', 1) || '1' AS INTEGER)
             * (TRY_CAST(regexp_extract(t, '[+-](\\d{{2}}):?\\d{{2}}$', 1) AS INTEGER) * 3600
                + TRY_CAST(regexp_extract(t, '[+-]\\d{{2}}:?(\\d{{2}})$', 1) AS INTEGER) * 60),
             0) AS off_s,
           ip, meth AS method, split_part(tgt, '?', 1) AS path,
           CASE WHEN strpos(tgt, '?') > 0 THEN substr(tgt, strpos(tgt, '?') + 1) ELSE '' END,
           q.proto AS protocol, TRY_CAST(status AS SMALLINT),
           coalesce(TRY_CAST(bytes AS BIGINT), 0),
           CASE WHEN referer = '-' THEN '' ELSE referer END, ua, vhost, TRY_CAST(rt AS DOUBLE)
    FROM n
    """


def _rejects(con: Any) -> int:
    try:
        row = one(con, "SELECT count(*) FROM reject_errors")
    except Exception:  # the table exists only once a read stored rejects
        return 0
    return int(row[0]) if row else 0


def load_logs(
    con: Any, paths: list[Path], work_dir: Path | None = None, *, keep_query: bool = True
) -> ParseStats:
    """Create table ``hits`` in ``con`` from every log file, parsed by DuckDB.

    ``keep_query=False`` keeps of each query string only ``'embed'`` (it names an embed) or
    ``''``, which is all the report reads of it unless GoAccess's per-file figures are wanted.
    """
    stats = ParseStats()
    for path in paths:
        if not path.exists():
            raise InputError.at(path, "log file not found", field="--logs")
        if path.is_dir():
            raise InputError.at(path, "is a directory, not a log file", field="--logs")
        stats.files.append(detect_format(path))
    run(con, f"CREATE OR REPLACE TABLE hits ({HITS_COLUMNS})")
    groups: dict[tuple[str, tuple[str, ...]], list[Path]] = {}
    for lf in stats.files:
        groups.setdefault((lf.format, lf.cloudfront_fields), []).append(lf.path)
    for (fmt, names), files in groups.items():
        before_rows = _count(con)
        before_rejects = _rejects(con)
        try:
            _insert(con, fmt, names, files, keep_query)
        except Exception as exc:  # DuckDB's IOException: a truncated or damaged .gz
            if "gzip" not in str(exc).lower():
                raise
            files = _salvaged(files, stats, work_dir)
            _insert(con, fmt, names, files, keep_query)
        added = _count(con) - before_rows + _rejects(con) - before_rejects
        stats.by_format[fmt] = stats.by_format.get(fmt, 0) + added
    row = one(con, "SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM hits")
    rejects = _rejects(con)
    stats.lines = int(row[0]) + rejects + stats.salvage_dropped
    stats.malformed = int(row[1]) + rejects + stats.salvage_dropped
    if stats.malformed:
        stats.warnings.append(
            f"{stats.malformed:,} of {stats.lines:,} lines could not be read as requests "
            "(malformed, cut short, or without a time, address or status); they are left out"
        )
    for warning in stats.warnings:
        log.info("%s", warning)
    return stats


def _salvaged(files: list[Path], stats: ParseStats, work_dir: Path | None) -> list[Path]:
    """``files`` with every damaged .gz replaced by its readable part (with a warning)."""
    out = []
    for path in files:
        if is_damaged_gz(path):
            plain, dropped, lost = salvage_gz(path, work_dir)
            stats.salvage_dropped += dropped
            stats.warnings.append(
                f"{path}: compressed file is truncated or damaged; every line up to the "
                f"damage was read{', the line cut short by it counted as malformed' if dropped else ''}"
                + (f"; the {lost:,} compressed bytes after it (of {path.stat().st_size:,}) "
                   "could not be read" if lost else "; the file ends there, the rest is missing")
            )
            out.append(plain)
        else:
            out.append(path)
    return out


def _insert(
    con: Any, fmt: str, names: tuple[str, ...], files: list[Path], keep_query: bool = True
) -> None:
    if fmt == "combined":
        select = _combined_select(files, vhost=False)
    elif fmt == "vcombined":
        select = _combined_select(files, vhost=True)
    elif fmt == "json":
        select = _json_select(files)
    elif fmt == "w3c":
        select = w3c_select(_read_lines(files), names)
    else:
        select = w3c_select(_read_lines(files), names, cloudfront=True)
    aliased = f"SELECT * FROM ({select}) AS parsed({', '.join(PARSED_COLUMNS)})"
    columns = STORED_COLUMNS if keep_query else STORED_COLUMNS.replace("query", _QUERY_MARK)
    run(con, f"INSERT INTO hits SELECT {columns} FROM ({aliased})")


def _count(con: Any) -> int:
    row = one(con, "SELECT count(*) FROM hits")
    return int(row[0]) if row else 0
