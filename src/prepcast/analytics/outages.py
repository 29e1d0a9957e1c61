"""Possible outages from the access log itself: a server that is down writes no log.

A *silence* is a gap between two consecutive requests inside the publication window of at least
:data:`SILENCE_MIN_S`, long enough that the window's average traffic would have put at least
:data:`EXPECTED_MIN` requests in it. Each is reported as a possible outage (an incident) with its
start and length; the technical lead confirms or explains it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prepcast.analytics._db import one, rows
from prepcast.analytics.incidents import Incident

SILENCE_MIN_S = 300
EXPECTED_MIN = 20


def silences(con: Any, start: int | None, end: int | None) -> list[Incident]:
    """Silences of table ``req`` within [start, end] (epoch seconds; None: the log's own ends)."""
    bounds = one(con, "SELECT min(epoch), max(epoch), count(*) FROM req")
    if not bounds or not bounds[2]:
        return []
    first, last, _ = (int(bounds[0]), int(bounds[1]), int(bounds[2]))
    lo = first if start is None else int(start)
    hi = last if end is None else int(end)
    if hi <= lo:
        return []
    inside = one(con, f"SELECT count(*) FROM req WHERE epoch BETWEEN {lo} AND {hi}")
    rate = int(inside[0]) / (hi - lo) if inside else 0.0  # requests per second
    threshold = max(SILENCE_MIN_S, int(EXPECTED_MIN / rate) if rate else hi - lo + 1)
    gaps = rows(
        con,
        f"""WITH t AS (SELECT DISTINCT epoch FROM req WHERE epoch BETWEEN {lo} AND {hi}
                       UNION SELECT {lo} UNION SELECT {hi}),
                 g AS (SELECT epoch AS stop, lag(epoch) OVER (ORDER BY epoch) AS begin FROM t)
            SELECT begin, stop FROM g WHERE stop - begin >= {threshold} ORDER BY begin""",
    )
    found = []
    for begin, stop in gaps:
        length = int(stop) - int(begin)
        expected = rate * length
        found.append(Incident(
            datetime.fromtimestamp(int(begin), UTC),
            float(length),
            "Posible interrupción: la bitácora de acceso no registra solicitudes (un servidor "
            "caído no escribe en su bitácora).",
            f"Sin solicitudes durante {length // 60} min, cuando el tráfico promedio de la "
            f"publicación anticipaba unas {expected:,.0f}.",
            "Por confirmar por el responsable técnico con la bitácora de errores y el monitoreo.",
            "bitácora de acceso (silencio)",
        ))
    return found
