"""Sessions: a visitor's requests with no gap longer than :data:`SESSION_GAP_S` form one session.

Only readers (bots excluded). A session's duration is the time from its first to its last
request, and 0 s when it has a single page view (nothing shows how long that one view was
read); its channel is that of its first request with an outside referrer (or none at all).
"""

from __future__ import annotations

from typing import Any

from prepcast.analytics._db import run

SESSION_GAP_S = 30 * 60
ACTIVE_WINDOW_S = 5 * 60


def build_sessions(con: Any, gap_s: int = SESSION_GAP_S) -> None:
    """Create table ``sessions`` from ``req``."""
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE sessions AS
        WITH o AS (
          SELECT vid, epoch, is_view, channel, ref_id, device,
                 CASE WHEN epoch - lag(epoch) OVER w <= {int(gap_s)} THEN 0 ELSE 1 END AS new
          FROM req WHERE NOT is_bot
          WINDOW w AS (PARTITION BY vid ORDER BY epoch)
        ), s AS (
          SELECT *, sum(new) OVER (PARTITION BY vid ORDER BY epoch ROWS UNBOUNDED PRECEDING) AS sn
          FROM o
        )
        SELECT vid, sn,
               min(epoch) AS start, max(epoch) AS stop,
               count(*) AS requests,
               count(*) FILTER (WHERE is_view) AS views,
               CASE WHEN count(*) FILTER (WHERE is_view) <= 1 THEN 0
                    ELSE max(epoch) - min(epoch) END AS duration_s,
               coalesce(arg_min(channel, epoch) FILTER (WHERE channel <> 'internal'), 'direct')
                 AS channel,
               coalesce(arg_min(ref_id, epoch) FILTER (WHERE channel <> 'internal'), 0)
                 AS ref_id,
               any_value(device) AS device
        FROM s GROUP BY vid, sn
        """,
    )
