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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prepcast.analytics._db import one, rows, run
from prepcast.analytics.geo import GeoLocator
from prepcast.analytics.useragents import classify
from prepcast.analytics.views import (
    ELECTION_PATTERN,
    INSTITUTE_HOSTS,
    PAGE_VIEWS,
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
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{name}', "
            f"columns={{{names}}}, header=false, quote='\"', escape='\"', auto_detect=false, "
            "nullstr='\\N-none')",
        )
    finally:
        os.unlink(name)


def detect_site_hosts(con: Any) -> tuple[str, ...]:
    """The site's own host: the most frequent referring host of its data files."""
    found = rows(
        con,
        f"SELECT {_HOST_SQL} AS host, count(*) AS n FROM hits WHERE ok AND "
        "regexp_matches(path, '(^|/)(json|data)/') AND referer <> '' "
        "GROUP BY host HAVING host <> '' ORDER BY n DESC LIMIT 1",
    )
    return (str(found[0][0]),) if found else ()


def enrich(
    con: Any,
    geo: GeoLocator | None,
    *,
    site_hosts: tuple[str, ...] = (),
    institute_hosts: tuple[str, ...] = INSTITUTE_HOSTS,
    embed_hosts: tuple[str, ...] = (),
) -> Enrichment:
    """Create table ``req`` (one row per parsed request) from ``hits``."""
    hosts = tuple(h.lower() for h in site_hosts) or detect_site_hosts(con)

    agents = [r[0] for r in rows(con, "SELECT DISTINCT ua FROM hits WHERE ok")]
    _load_dimension(
        con,
        "dim_ua",
        "ua VARCHAR, is_bot BOOLEAN, device VARCHAR, browser VARCHAR, os VARCHAR, bot VARCHAR",
        ((ua, *_agent_row(ua)) for ua in agents),
    )

    addresses = [r[0] for r in rows(con, "SELECT DISTINCT ip FROM hits WHERE ok")]
    if geo is not None:
        places = ((ip, geo.lookup(ip)) for ip in addresses)
        data: Iterable[Sequence[Any]] = (
            (ip, p.country_code, p.country, p.region, p.entidad_code, p.entidad) for ip, p in places
        )
    else:
        data = ()
    _load_dimension(
        con,
        "dim_ip",
        "ip VARCHAR, cc VARCHAR, country VARCHAR, region VARCHAR, ent VARCHAR, entidad VARCHAR",
        data,
    )

    referrers = [
        r[0] for r in rows(con, f"SELECT DISTINCT {_HOST_SQL} FROM hits WHERE ok AND referer <> ''")
    ]
    _load_dimension(
        con,
        "dim_host",
        "host VARCHAR, channel VARCHAR",
        ((h, classify_host(h or "", hosts, institute_hosts, embed_hosts)) for h in referrers),
    )

    salt = secrets.randbits(62)
    page_views = ", ".join(f"'{v}'" for v in sorted(PAGE_VIEWS))
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE req AS
        WITH base AS (
          SELECT h.*, {view_case_sql("h.path")} AS view, {_HOST_SQL} AS ref_host
          FROM hits h WHERE h.ok
        )
        SELECT b.epoch, b.off_s, b.status, b.bytes, b.method, b.path, b.query, b.rt,
               b.view, b.view IN ({page_views}) AS is_view,
               nullif(regexp_extract(b.path, '{ELECTION_PATTERN}', 1), '') AS election,
               hash({salt}, b.ip, b.ua) AS vid,
               u.is_bot, u.device, u.browser, u.os, u.bot,
               coalesce(nullif(g.cc, ''), '--') AS cc, coalesce(g.country, 'Desconocido') AS country,
               coalesce(g.ent, '') AS ent, coalesce(g.entidad, '') AS entidad,
               b.ref_host,
               CASE WHEN b.ref_host = '' OR b.ref_host IS NULL THEN 'direct'
                    WHEN b.view = 'portada' AND (b.query LIKE '%embed%' OR b.path LIKE '/embed%')
                         AND coalesce(d.channel, 'referral') NOT IN ('internal', 'direct')
                      THEN 'embedded'
                    ELSE coalesce(d.channel, 'referral') END AS channel
        FROM base b
        JOIN dim_ua u ON u.ua = b.ua
        LEFT JOIN dim_ip g ON g.ip = b.ip
        LEFT JOIN dim_host d ON d.host = b.ref_host
        """,
    )
    return Enrichment(hosts, len(agents), len(addresses), geo is not None)


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
