"""GoAccess's figures, computed by GoAccess's own definitions (the report's appendix).

GoAccess 1.7 counts a unique visitor as a distinct (address, calendar date as written in the
log, user agent), crawlers included and 4xx responses excluded; its valid and failed request
counts are per line; its requested files are keyed by path with the query string. prepcast's own
visitor figures differ on purpose (unique over the whole period, bots apart): these are here so
a difusor can check one tool against the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prepcast.analytics._db import one, rows


@dataclass
class GoAccessFigures:
    total_requests: int = 0
    valid_requests: int = 0
    failed_requests: int = 0
    unique_visitors: int = 0
    unique_files: int = 0
    visitors_per_day: dict[str, int] = field(default_factory=dict)
    status_codes: dict[int, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # hits per path?query
    countries: dict[str, int] = field(default_factory=dict)  # hits per ISO code


def goaccess_figures(
    con: Any, lines: int, malformed: int, *, with_files: bool = True
) -> GoAccessFigures:
    """Figures by GoAccess's definitions, from ``req`` (and ``hits`` for ``files``)."""
    g = GoAccessFigures(
        total_requests=lines, valid_requests=lines - malformed, failed_requests=malformed
    )
    day = "(epoch + off_s) // 86400"
    counted = "NOT (status BETWEEN 400 AND 499)"
    # vid is a function of (address, user agent), so (vid, day) is GoAccess's visitor key, and
    # the unique visitors are the sum of each day's distinct vids.
    for d, n in rows(
        con,
        f"""SELECT strftime(make_date(1970, 1, 1) + CAST({day} AS INTEGER), '%Y%m%d') AS d,
                   count(DISTINCT vid) FROM req WHERE {counted} GROUP BY d ORDER BY d""",
    ):
        g.visitors_per_day[str(d)] = int(n)
    g.unique_visitors = sum(g.visitors_per_day.values())
    g.status_codes = {
        int(s): int(n) for s, n in rows(con, "SELECT status, count(*) FROM req GROUP BY 1 ORDER BY 1")
    }
    if with_files:
        target = "path || CASE WHEN query <> '' THEN '?' || query ELSE '' END"
        g.files = {
            str(p): int(n)
            for p, n in rows(con, f"SELECT {target}, count(*) FROM hits WHERE ok GROUP BY 1 ORDER BY 2 DESC, 1")
        }
        g.unique_files = len(g.files)
    else:
        g.unique_files = int(one(con, "SELECT count(*) FROM dim_path")[0])
    g.countries = {
        str(c): int(n) for c, n in rows(con, "SELECT cc, count(*) FROM req GROUP BY 1 ORDER BY 2 DESC, 1")
    }
    return g
