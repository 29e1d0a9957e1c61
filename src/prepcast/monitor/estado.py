"""What the dashboard's ``/api/estado`` adds to the monitor's last round (``status.json``): how
fresh that round is, and each difusor's status in the registry (a block shows at once, before
the monitor's next round), and the Spanish refusal of a block the registry would not record.

The monitor writes ``round.at`` (when its last round ran) and ``round.interval_s`` (seconds
between rounds); the data is stale once the last round is older than :data:`STALE_ROUNDS`
intervals (or rounds, when a round takes longer than the interval), and at least
:data:`MIN_STALE_S` seconds (a fast drill does not flap): the monitor stopped, hangs or cannot
write, and what the page shows is the last known state, not the present one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prepcast.monitor.incidents import contact_of
from prepcast.registry import Registry
from prepcast.registry.history import TRANSITIONS

STALE_ROUNDS = 3
MIN_STALE_S = 30.0
DEFAULT_INTERVAL_S = 30.0


def _hace(seconds: float) -> str:
    """``45 s``, ``7 min``, ``2 h 5 min``: how long ago, as the UIE reads it."""
    s = max(int(seconds), 0)
    if s < 90:
        return f"{s} s"
    minutes = s // 60
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def freshness(round_: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """When the last round ran, how long ago, and whether that is too long ago to be live."""
    at = None
    if round_ and round_.get("at"):
        try:
            at = datetime.fromisoformat(str(round_["at"]))
        except ValueError:
            at = None
    if at is None or at.tzinfo is None:
        return {"at": None, "age_s": None, "limit_s": None, "stale": True,
                "message": "sin datos del monitor: no hay ninguna ronda registrada"}
    interval = float(round_.get("interval_s") or DEFAULT_INTERVAL_S) if round_ else 0.0
    took = float(round_.get("seconds") or 0.0) if round_ else 0.0
    limit = max(STALE_ROUNDS * max(interval, took), MIN_STALE_S)
    age = (now - at).total_seconds()
    stale = age > limit
    return {"at": at.isoformat(), "age_s": round(age, 1), "limit_s": round(limit, 1),
            "stale": stale,
            "message": f"sin datos recientes: la última ronda fue hace {_hace(age)}"
            if stale else None}


def with_registry(rows: list[dict[str, Any]], reg: Registry | None) -> list[dict[str, Any]]:
    """Each row with its registry ``status`` (``probed`` true); then a row (``probed`` false)
    for each blocked difusor the monitor no longer watches, so a block stays in sight."""
    if reg is None:
        return rows
    names = set()
    for row in rows:
        d = reg.get(str(row.get("name")))
        row["status"] = d.status if d is not None else None
        row["probed"] = True
        names.add(row.get("name"))
    for d in reg.difusores:
        if d.status == "bloqueado" and d.url and d.name not in names:
            rows.append({"name": d.name, "url": d.url, "status": d.status, "probed": False,
                         "up": None, "cut": None, "cut_display": None, "lag_cuts": None,
                         "lag_s": None, "integrity": None, "https": None, "checked_at": None,
                         "incidents": [], "contact": contact_of(d)})
    return rows


def block_refusal(reg: Registry, name: str) -> str | None:
    """Why the registry would refuse to block ``name``, in Spanish (None: it would not)."""
    d = reg.get(name)
    if d is None:
        return f"no hay ningún difusor llamado «{name}» en el registro"
    if "bloqueado" in TRANSITIONS[d.status]:  # the registry's own rule, only its words here
        return None
    if d.status == "bloqueado":
        return f"{name} ya está bloqueado"
    if d.status == "baja":
        return f"{name} está dado de baja: no se puede bloquear"
    return f"{name} está en estado «{d.status}»: no se puede bloquear"
