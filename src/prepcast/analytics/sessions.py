"""Sessions: a visitor's requests with no gap longer than :data:`SESSION_GAP_S` form one session.

Only readers (bots excluded). A session's duration is the time from its first to its last
request of any kind (portal pages, documents, data, assets and the site's ``json/main.json``
polling: a results page left open and polling is a reader still there); its channel is that of
its first request with an outside referrer (or none at all).
"""

from __future__ import annotations

from typing import Any

from prepcast.analytics._db import run

SESSION_GAP_S = 30 * 60
ACTIVE_WINDOW_S = 5 * 60


def build_sessions(con: Any, gap_s: int = SESSION_GAP_S) -> None:
    """Create table ``sessions`` from ``req``.

    Requests are first folded into one row per visitor and slot of ``gap_s`` seconds (two
    requests in one slot are never more than ``gap_s`` apart, so no gap inside a slot ends a
    session and this is exact), then a window over those few rows finds the gaps. A reader whose
    page polls every minute gives 2 rows an hour instead of 60 (rows per minute: twice the CPU).
    """
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE sessions AS
        WITH b AS (
          SELECT vid, epoch // {int(gap_s)} AS m, min(epoch) AS first, max(epoch) AS last,
                 count(*) AS requests, count(*) FILTER (WHERE is_view) AS views,
                 arg_min(channel, epoch) FILTER (WHERE channel <> 'internal') AS channel,
                 arg_min(ref_id, epoch) FILTER (WHERE channel <> 'internal') AS ref_id,
                 any_value(device) AS device
          FROM req WHERE NOT is_bot GROUP BY vid, m
        ), o AS (
          SELECT *, CASE WHEN first - lag(last) OVER w <= {int(gap_s)} THEN 0 ELSE 1 END AS new
          FROM b WINDOW w AS (PARTITION BY vid ORDER BY m)
        ), s AS (
          SELECT *, sum(new) OVER (PARTITION BY vid ORDER BY m ROWS UNBOUNDED PRECEDING) AS sn
          FROM o
        )
        SELECT vid, sn, min(first) AS start, max(last) AS stop,
               sum(requests)::BIGINT AS requests, sum(views)::BIGINT AS views,
               max(last) - min(first) AS duration_s,
               coalesce(arg_min(channel, first) FILTER (WHERE channel IS NOT NULL), 'direct')
                 AS channel,
               coalesce(arg_min(ref_id, first) FILTER (WHERE channel IS NOT NULL), 0) AS ref_id,
               any_value(device) AS device
        FROM s GROUP BY vid, sn
        """,
    )
