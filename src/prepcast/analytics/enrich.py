"""Parsed requests (``hits``) → analysed requests (``req``): view, visitor, agent, place, channel.

User agents, addresses and referring hosts are classified once per distinct value in Python
(:mod:`.useragents`, :mod:`.geo`, :mod:`.views`), loaded back into DuckDB as small dimension
tables, and joined in one pass. Visitors are identified by a 64-bit hash of a random salt, the
address and the user agent: addresses never leave the engine.
"""

from __future__ import annotations

import csv
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prepcast.analytics._db import one, rows, run
from prepcast.analytics.geo import ENTIDADES, GeoLocator
from prepcast.analytics.useragents import classify
from prepcast.analytics.views import (
    ELECTION_PATTERN,
    INSTITUTE_HOSTS,
    PAGE_VIEWS,
    SITE_ROOT_PATTERN,
    classify_host,
    view_case_sql,
)

_HOST_SQL = "lower(regexp_extract(referer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1))"


@dataclass(frozen=True)
class Enrichment:
    site_hosts: tuple[str, ...]
    distinct_agents: int
    distinct_addresses: int
    geolocated: bool
    site_root: str = "/"  # the results site's folder
    site_root_found: bool = True  # False: no json/main.json in the log, the root was assumed


def _load_dimension(con: Any, table: str, columns: str, data: Iterable[Sequence[Any]]) -> None:
    """Create ``table`` from Python rows through a temporary CSV file (fast, no extra deps)."""
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="prepcast-dim-")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerows(data)
        names = ", ".join(f"'{c.split()[0]}': '{c.split()[1]}'" for c in columns.split(", "))
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv('{name}', "
            f"columns={{{names}}}, header=false, quote='\"', escape='\"', auto_detect=false, "
            "nullstr='\\N-none')",
        )
    finally:
        os.unlink(name)


def _stream(con: Any, sql: str, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` in batches, so millions of distinct values never sit in a Python list."""
    cursor = con.cursor()
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(batch):
            yield from chunk
    finally:
        cursor.close()


def detect_site_hosts(con: Any) -> tuple[str, ...]:
    """The site's own host: the most frequent referring host of its data files."""
    found = rows(
        con,
        f"SELECT {_HOST_SQL} AS host, count(*) AS n FROM (SELECT * FROM hits LIMIT 200000) "
        "WHERE ok AND regexp_matches(path, '(^|/)(json|data)/') AND referer <> '' "
        "GROUP BY host HAVING host <> '' ORDER BY n DESC LIMIT 1",
    )
    return (str(found[0][0]),) if found else ()


def _paths(con: Any) -> None:
    """Table ``paths``: each path requested, with how many of its requests succeeded (< 400)."""
    run(con, """CREATE OR REPLACE TEMP TABLE paths AS
                SELECT path, count(*) FILTER (WHERE status < 400) AS good
                FROM hits WHERE ok GROUP BY path""")


def detect_site_root(con: Any) -> str | None:
    """The results site's folder: where ``json/main.json`` is requested most (None: nowhere)."""
    _paths(con)
    found = rows(
        con,
        f"""SELECT regexp_extract(path, '{SITE_ROOT_PATTERN}', 1) AS root, sum(good) AS n
            FROM paths WHERE ends_with(path, 'json/main.json') AND good > 0
            GROUP BY root HAVING root <> '' ORDER BY n DESC, root LIMIT 1""",
    )
    return str(found[0][0]) if found else None


def enrich(
    con: Any,
    geo: GeoLocator | None,
    *,
    site_hosts: tuple[str, ...] = (),
    institute_hosts: tuple[str, ...] = INSTITUTE_HOSTS,
    embed_hosts: tuple[str, ...] = (),
    site_root: str | None = None,
) -> Enrichment:
    """Create table ``req`` (one row per parsed request) from ``hits``; ``geo`` is closed once
    every address is placed."""
    hosts = tuple(h.lower() for h in site_hosts) or detect_site_hosts(con)
    found_root = site_root or detect_site_root(con)
    if site_root:
        _paths(con)
    root = found_root or "/"

    agents = [r[0] for r in rows(con, "SELECT DISTINCT ua FROM hits WHERE ok")]
    _load_dimension(
        con,
        "dim_ua",
        "ua_id INTEGER, ua VARCHAR, is_bot BOOLEAN, device VARCHAR, browser VARCHAR, os VARCHAR, "
        "bot VARCHAR",
        ((i, ua, *_agent_row(ua)) for i, ua in enumerate(agents)),
    )

    countries: dict[str, str] = {}
    addresses = 0

    def places() -> Iterator[tuple[str, str, str]]:
        nonlocal addresses
        for (ip,) in _stream(con, "SELECT DISTINCT ip FROM hits WHERE ok"):
            addresses += 1
            place = geo.lookup(ip) if geo is not None else None
            if place is not None and place.country_code:
                countries.setdefault(place.country_code, place.country)
                yield (ip, place.country_code, place.entidad_code)

    _load_dimension(con, "dim_ip", "ip VARCHAR, cc VARCHAR, ent VARCHAR", places())
    if geo is not None:
        geo.close()  # every address is placed: its mapped pages leave the process's memory
    _load_dimension(
        con, "dim_country", "cc VARCHAR, country VARCHAR",
        [*countries.items(), ("--", "Desconocido")],
    )
    _load_dimension(
        con, "dim_entidad", "ent VARCHAR, entidad VARCHAR",
        [(e.code, e.name) for e in ENTIDADES] + [("", "Sin entidad identificada")],
    )

    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE dim_ref AS
            SELECT row_number() OVER () AS ref_id, referer, {_HOST_SQL} AS ref_host
            FROM (SELECT DISTINCT referer FROM hits WHERE ok)""",
    )
    referrers = [r[0] for r in rows(con, "SELECT DISTINCT ref_host FROM dim_ref")]
    _load_dimension(
        con,
        "dim_host",
        "host VARCHAR, channel VARCHAR",
        ((h, classify_host(h or "", hosts, institute_hosts, embed_hosts)) for h in referrers),
    )
    # Each referrer with its host's channel, so the pass over every request joins one table.
    run(
        con,
        """CREATE OR REPLACE TEMP TABLE dim_ref AS
           SELECT r.ref_id, r.referer, r.ref_host, d.channel
           FROM dim_ref r LEFT JOIN dim_host d ON d.host = r.ref_host""",
    )
    page_views = ", ".join(f"'{v}'" for v in sorted(PAGE_VIEWS))
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE dim_path AS
            SELECT row_number() OVER () AS path_id, path, view, view IN ({page_views}) AS is_view,
                   nullif(regexp_extract(path, '{ELECTION_PATTERN}', 1), '') AS election
            FROM (SELECT path, {view_case_sql("path", root)} AS view
                  FROM paths)""",
    )

    salt = secrets.randbits(62)
    # ``req`` is held in memory (a temporary table: DuckDB spills it beyond its limit), so it is
    # kept narrow: its short texts are ENUMs of the values the dimension tables hold (one byte).
    enums = {
        "view": _enum(con, "SELECT DISTINCT view FROM dim_path"),
        "device": _enum(con, "SELECT DISTINCT device FROM dim_ua"),
        "cc": _enum(con, "SELECT DISTINCT cc FROM dim_ip UNION SELECT '--'"),
        "ent": _enum(con, "SELECT DISTINCT ent FROM dim_ip UNION SELECT ''"),
        "channel": _enum(con, "SELECT DISTINCT channel FROM dim_host WHERE channel IS NOT NULL "
                              "UNION SELECT unnest(['direct', 'embedded', 'referral'])"),
    }
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE req AS
        SELECT b.epoch, b.off_s, b.status, b.bytes, p.path_id::INTEGER AS path_id,
               CAST(p.view AS {enums["view"]}) AS view,
               p.is_view AND b.status < 400 AS is_view,
               hash({salt}, b.ip, b.ua) AS vid, u.ua_id, u.is_bot,
               CAST(u.device AS {enums["device"]}) AS device,
               CAST(coalesce(g.cc, '--') AS {enums["cc"]}) AS cc,
               CAST(coalesce(g.ent, '') AS {enums["ent"]}) AS ent,
               coalesce(r.ref_id, 0)::INTEGER AS ref_id,
               CAST(CASE WHEN coalesce(r.ref_host, '') = '' THEN 'direct'
                    WHEN p.view = 'portada' AND (b.query LIKE '%embed%' OR b.path LIKE '/embed%')
                         AND coalesce(r.channel, 'referral') NOT IN ('internal', 'direct')
                      THEN 'embedded'
                    ELSE coalesce(r.channel, 'referral') END AS {enums["channel"]}) AS channel
        FROM hits b
        JOIN dim_path p ON p.path = b.path
        JOIN dim_ua u ON u.ua = b.ua
        LEFT JOIN dim_ip g ON g.ip = b.ip
        LEFT JOIN dim_ref r ON r.referer = b.referer
        WHERE b.ok
        """,
    )
    return Enrichment(hosts, len(agents), addresses, geo is not None, root, found_root is not None)


def _enum(con: Any, sql: str) -> str:
    """An ENUM type of the (text) values ``sql`` yields."""
    values = sorted(str(v) for (v,) in rows(con, sql) if v is not None) or ["-"]
    return "ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _agent_row(ua: str) -> tuple[bool, str, str, str, str]:
    a = classify(ua)
    return (a.is_bot, a.device, a.browser, a.os, a.bot)


def period_bounds(con: Any) -> tuple[int | None, int | None]:
    row = one(con, "SELECT min(epoch), max(epoch) FROM req")
    return (row[0], row[1]) if row else (None, None)


def restrict_period(con: Any, start: int | None, end: int | None) -> int:
    """Drop parsed requests outside [start, end) (epoch seconds); returns how many were dropped."""
    conditions = []
    if start is not None:
        conditions.append(f"epoch < {int(start)}")
    if end is not None:
        conditions.append(f"epoch >= {int(end)}")
    if not conditions:
        return 0
    row = one(con, f"SELECT count(*) FROM hits WHERE ok AND ({' OR '.join(conditions)})")
    run(con, f"DELETE FROM hits WHERE ok AND ({' OR '.join(conditions)})")
    return int(row[0]) if row else 0
