"""Availability per difusor from the monitor's probe events (IEM asks for 99.9 % a month).

Each probe stands for the time until the next probe of the same difusor (at most two rounds);
availability is the share of that time the site answered with the PREP.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prepcast import events


def availability(path: Path, *, start: datetime | None = None, end: datetime | None = None,
                 round_s: float = 30.0) -> dict[str, dict[str, Any]]:
    """``{difusor: {"up_s", "down_s", "probes", "availability"}}`` over [start, end)."""
    probes: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        name = events.normalise(rec)
        when = events.parse_time(rec.get("time"))
        if name not in events.PROBE_EVENTS or when is None or not isinstance(rec.get("difusor"), str):
            continue
        if (start and when < start) or (end and when >= end):
            continue
        probes[rec["difusor"]].append((when, name == events.PROBE_UP))
    cap = timedelta(seconds=2 * round_s)
    out: dict[str, dict[str, Any]] = {}
    for name, seen in sorted(probes.items()):
        seen.sort()
        up = down = 0.0
        for (t, ok), nxt in zip(seen, [*seen[1:], None], strict=True):
            span = min((nxt[0] - t) if nxt else timedelta(seconds=round_s), cap).total_seconds()
            if ok:
                up += span
            else:
                down += span
        total = up + down
        out[name] = {"up_s": round(up, 1), "down_s": round(down, 1), "probes": len(seen),
                     "availability": round(100 * up / total, 3) if total else None}
    return out


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2024-06`` → the month's first instant and the next month's (in the times' own zone,
    taken as UTC-6, central Mexico)."""
    from datetime import timezone

    tz = timezone(timedelta(hours=-6))
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=tz)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {month!r}") from None
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt
