"""``night status``: who is behind and why, from the runner's state and the pusher's record.

:func:`night_status` reads ``night.json`` and ``deliveries.sqlite`` of a ``--state`` folder and
returns one plain dict (what ``--json`` prints; the table is drawn from it): the ejercicio, the
current and the next cut, whether the runner is running, and per difusor the cut it serves, the
cut staged there, its lag in cuts and seconds, its last error and its last refusal.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prepcast.distribution import Delivery, DeliveryState
from prepcast.distribution.registry import load_registry
from prepcast.errors import PrepcastError
from prepcast.package import CutId, Ejercicio
from prepcast.publish.state import DELIVERIES, NightState, check_deliveries, now


def night_status(state_dir: Path, *, at: datetime | None = None) -> dict[str, Any]:
    state = NightState.read(state_dir)
    doc = state.doc
    at = at or now()
    ejercicio = str(doc.get("ejercicio", ""))
    published = state.published()
    published_at = {c["number"]: datetime.fromisoformat(c["steps"]["publish"]["at"])
                    for c in state.cuts() if "publish" in c["steps"]}
    out: dict[str, Any] = {
        "ejercicio": ejercicio,
        "proceso": doc.get("proceso"),
        "ejecutor": _runner(doc),
        "corte_actual": _cut_view(doc, published, published_at) if published else None,
        "corte_siguiente": _next(doc, published or 0),
        "omitidos": [c["number"] for c in state.cuts() if c.get("skipped")],
        "fuente": doc.get("source"),  # the capture system's drop folder, when it is the source
        "alerta_vigente": doc.get("alerta_vigente"),  # its newest cut was refused
        "alertas": list(doc.get("alertas", []))[-10:],
        "difusores": [],
    }
    check_deliveries(Path(state_dir))
    deliveries = DeliveryState(Path(state_dir) / DELIVERIES)
    try:
        for name in _difusores(doc, deliveries):
            out["difusores"].append(_difusor(name, deliveries, ejercicio, published,
                                             published_at, at))
    finally:
        deliveries.close()
    return out


def _runner(doc: dict[str, Any]) -> dict[str, Any]:
    pid = doc.get("pid")
    alive = False
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
    return {"pid": pid, "en_marcha": alive, "desde": doc.get("running_since")}


def _cut_view(doc: dict[str, Any], number: int, published_at: dict[int, datetime]) -> dict[str, Any]:
    times: dict[str, str] = doc.get("cut_times", {})
    return {"numero": number, "hora_del_corte": times.get(str(number)),
            "publicado": published_at[number].isoformat()}


def _next(doc: dict[str, Any], done: int) -> dict[str, Any] | None:
    total = int(doc.get("total") or 0)
    if done >= total:
        return None
    number = done + 1
    times: dict[str, str] = doc.get("cut_times", {})
    view: dict[str, Any] = {"numero": number, "hora_del_corte": times.get(str(number))}
    speed = doc.get("speed")
    if doc.get("source"):  # built when the capture system drops it, not at a time of its own
        view["se_construye"] = "al llegar su entrega del sistema de captura"
    elif speed and times.get("1") and times.get(str(number)):
        offset = datetime.fromisoformat(times[str(number)]) - datetime.fromisoformat(times["1"])
        view["se_construye"] = (datetime.fromisoformat(doc["origin"]) + offset / speed).isoformat()
    return view


def _difusores(doc: dict[str, Any], deliveries: DeliveryState) -> list[str]:
    names: list[str] = []
    registry = doc.get("registry")
    if registry:
        try:
            names = [d.name for d in load_registry(registry).active()]
        except PrepcastError:
            names = []
    for d in deliveries.deliveries():
        if d.difusor not in names:
            names.append(d.difusor)
    return names


def _difusor(name: str, deliveries: DeliveryState, ejercicio: str, published: int | None,
             published_at: dict[int, datetime], at: datetime) -> dict[str, Any]:
    active = deliveries.holding(name, "active")
    staged = deliveries.holding(name, "staged")
    live = active[0] if active else None
    rows = deliveries.deliveries(name)
    last_ok = max((d.ended for d in rows if d.result == "ok" and d.ended), default=None)
    failure = next((d for d in reversed(rows) if d.result == "failed"), None)
    refusal = deliveries.last_refusal(name)
    lag_cuts, lag_seconds = _lag(live, ejercicio, published, published_at, at)
    if lag_cuts == 0:
        estado = "al día"
    elif refusal is not None and _after(refusal, last_ok):
        estado = "falla: rechazó un corte"
    elif failure is not None and _after(failure, last_ok):
        estado = "falla: error de entrega"
    else:
        estado = "atrasado"
    return {
        "difusor": name,
        "estado": estado,
        "corte_vigente": live.tag if live else None,
        "corte_preparado": staged[0].tag if staged else None,
        "atraso_cortes": lag_cuts,
        "atraso_segundos": lag_seconds,
        "ultimo_error": _delivery(failure),
        "ultimo_rechazo": _delivery(refusal),
    }


def _lag(live: CutId | None, ejercicio: str, published: int | None,
         published_at: dict[int, datetime], at: datetime) -> tuple[int | None, float | None]:
    if not published or not ejercicio:
        return None, None
    if live is not None and live.ejercicio == Ejercicio.parse(ejercicio):
        behind = max(0, published - live.cut)
        first_missing = live.cut + 1
    else:
        behind = len(published_at)
        first_missing = min(published_at)
    if behind == 0:
        return 0, 0.0
    since = min((t for n, t in published_at.items() if n >= first_missing), default=at)
    return behind, round(max(timedelta(0), at - since).total_seconds(), 1)


def _after(d: Delivery, last_ok: datetime | None) -> bool:
    when = d.ended or d.started
    return last_ok is None or when >= last_ok


def _delivery(d: Delivery | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"corte": d.cut, "fase": d.phase, "cuando": (d.ended or d.started).isoformat(),
            "error": d.error}
