"""``night status``: who is behind and why, from the runner's state and the pusher's record.

:func:`night_status` reads ``night.json`` and ``deliveries.sqlite`` of a ``--state`` folder and
returns one plain dict (what ``--json`` prints; the table is drawn from it): the ejercicio, the
current and the next cut, whether the runner is running, and per difusor the cut it serves, the
cut staged there, its lag in cuts and seconds, its last error and its last refusal.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from prepcast.distribution import Delivery, DeliveryState
from prepcast.distribution.push import access_of
from prepcast.distribution.registry import Difusor, load_registry
from prepcast.errors import PrepcastError
from prepcast.package import CutId, Ejercicio
from prepcast.publish.state import DELIVERIES, NightState, check_deliveries, now
from prepcast.registry.model import PUSHED as PUSHED_STATUSES


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
        "alerta_vigente": _alert(doc.get("alerta_vigente"), _zone(doc)),  # newest cut refused
        "alertas": [_alert(a, _zone(doc)) for a in list(doc.get("alertas", []))[-10:]],
        # the registry could not be read at the last cut: it went out with the last good one
        "registro_ilegible": doc.get("registro_ilegible"),
        # the night's engine and tables made before the first cut (reading, tables: seconds)
        "preparacion": doc.get("preparacion"),
        "difusores": [],
    }
    check_deliveries(Path(state_dir))
    deliveries = DeliveryState(Path(state_dir) / DELIVERIES)
    try:
        entries = _entries(doc)
        for name in _difusores(entries, deliveries):
            out["difusores"].append(_difusor(name, deliveries, ejercicio, published,
                                             published_at, at, _zone(doc), entries.get(name)))
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
    when = published_at[number]
    return {"numero": number, "hora_del_corte": times.get(str(number)),
            "publicado": local_time(when, _zone(doc)),
            "publicado_iso": when.isoformat(timespec="seconds")}


def _alert(alert: dict[str, Any] | None, zone: tzinfo | None) -> dict[str, Any] | None:
    """A refusal of the capture system's cut, its time (``hora``) as the institute reads it."""
    if not alert:
        return None
    try:
        hora = local_time(datetime.fromisoformat(alert["at"]), zone)
    except (KeyError, TypeError, ValueError):
        hora = str(alert.get("at", ""))
    return {**alert, "hora": hora}


def _zone(doc: dict[str, Any]) -> tzinfo | None:
    """The election's UTC offset, from its cut times (``None``: the machine's)."""
    first = next(iter(doc.get("cut_times", {}).values()), None)
    try:
        return datetime.fromisoformat(first).tzinfo if first else None
    except ValueError:
        return None


def local_time(when: datetime, zone: tzinfo | None) -> str:
    """A moment as the institute reads it: ``02/06/2024 20:40:05 (UTC-6)``."""
    local = when.astimezone(zone) if zone is not None else when.astimezone()
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds() // 60)
    h, m = divmod(abs(minutes), 60)
    label = f"UTC{'-' if minutes < 0 else '+'}{h}" + (f":{m:02d}" if m else "")
    return f"{local:%d/%m/%Y %H:%M:%S} ({label})"


# Delivery errors (distribution/ speaks English) as the table says them: Spanish, original quoted.
_ERRORS = (
    (re.compile(r"(?P<who>.+?): cannot connect: (?P<why>.*)", re.DOTALL),
     "{who}: no se pudo conectar (original: «{why}»)"),
    (re.compile(r"(?P<who>.+?): authentication failed \((?P<how>\w+)\)"),
     "{who}: el servidor rechazó la autenticación (original: «authentication failed ({how})»)"),
    (re.compile(r"(?P<who>.+?): (?:unknown host key|host key refused|unreadable host_key)(?P<rest>.*)",
                re.DOTALL),
     "{who}: la llave del servidor no es la registrada (original: «{0}»)"),
    (re.compile(r"(?P<who>.+?): not tried: its server refused the login at (?P<tag>\S+) .*",
                re.DOTALL),
     "{who}: no se intenta: su servidor rechazó el acceso en {tag}; no se intentará de nuevo "
     "hasta que cambien su entrada del registro, su contraseña o su llave (original: «{0}»)"),
    (re.compile(r"(?P<who>.+?): the daemon took (?P<cut>.+?) in but did not activate it; it "
                r"serves (?P<serving>.+?)(?:: .*| \(its event log says why\))", re.DOTALL),
     "{who}: su daemon recibió el {cut} pero no lo activó; sirve {serving} (original: «{0}»)"),
    (re.compile(r"(?P<who>.+?): the daemon has not taken (?P<archive>\S+) in (?P<s>\d+) s .*",
                re.DOTALL),
     "{who}: su daemon no ha recogido {archive} en {s} s; ¿está en marcha? (original: «{0}»)"),
    (re.compile(r"(?P<who>.+?): serves (?P<cut>.+?) as another package \(manifest sha256 "
                r"(?P<sha>\w+)\); one cut is one package.*", re.DOTALL),
     "{who}: sirve el {cut} con otro paquete (manifiesto {sha}); un corte es un solo paquete: "
     "no se reemplaza (otro nombre de ejercicio, o --replace-same-cut a propósito) "
     "(original: «{0}»)"),
    (re.compile(r"(?P<who>.+?): serves (?P<serving>.+?); (?P<cut>.+?) is older and is not sent.*",
                re.DOTALL),
     "{who}: sirve el {serving}; el {cut} es anterior y no se envía: un difusor nunca vuelve "
     "atrás (original: «{0}»)"),
)

_CUT = re.compile(r"\bcut (\d+)(?: of ([\w-]+))?")


def _cut_es(m: re.Match[str]) -> str:
    return f"el corte {m.group(1)}" + (f" de {m.group(2)}" if m.group(2) else "")


def error_es(text: str | None) -> str | None:
    """A delivery error in Spanish, the original quoted."""
    if not text:
        return text
    for pattern, spanish in _ERRORS:
        m = pattern.fullmatch(text)
        if m is not None:
            parts = {k: _CUT.sub(_cut_es, v)
                     for k, v in m.groupdict().items() if v is not None}
            return (spanish.format(text, **parts).replace("el el corte", "el corte")
                    .replace("; sirve nothing", "; no sirve ningún corte"))
    return f"error de entrega (original: «{text}»)"


def _next(doc: dict[str, Any], done: int) -> dict[str, Any] | None:
    times: dict[str, str] = doc.get("cut_times", {})
    if done >= (len(times) or int(doc.get("total") or 0)):  # the schedule's last cut
        return None
    number = done + 1
    view: dict[str, Any] = {"numero": number, "hora_del_corte": times.get(str(number))}
    if doc.get("until") and done >= int(doc.get("total") or 0):
        view["detenido"] = f"detenido en --until {doc['until']}"
        return view
    speed = doc.get("speed")
    if doc.get("source"):  # built when the capture system drops it, not at a time of its own
        view["se_construye"] = "al llegar su entrega del sistema de captura"
    elif speed and times.get("1") and times.get(str(number)):
        offset = datetime.fromisoformat(times[str(number)]) - datetime.fromisoformat(times["1"])
        view["se_construye"] = (datetime.fromisoformat(doc["origin"]) + offset / speed).isoformat()
    return view


def _entries(doc: dict[str, Any]) -> dict[str, Difusor]:
    """The registry's difusores by name (none when the runner has no registry, or it cannot be
    read now)."""
    registry = doc.get("registry")
    if not registry:
        return {}
    try:
        return {d.name: d for d in load_registry(registry).difusores}
    except PrepcastError:
        return {}


def _difusores(entries: dict[str, Difusor], deliveries: DeliveryState) -> list[str]:
    """Those pushed to now, then those blocked, paused or dropped that were pushed to before."""
    names = [n for n, d in entries.items() if d.active and d.status in PUSHED_STATUSES]
    for d in deliveries.deliveries():
        if d.difusor not in names:
            names.append(d.difusor)
    return names


#: A difusor the registry keeps out of the pushes, as the table says it.
_HELD = {"bloqueado": "bloqueado", "baja": "dado de baja"}


def _difusor(name: str, deliveries: DeliveryState, ejercicio: str, published: int | None,
             published_at: dict[int, datetime], at: datetime,
             zone: tzinfo | None = None, entry: Difusor | None = None) -> dict[str, Any]:
    active = deliveries.holding(name, "active")
    staged = deliveries.holding(name, "staged")
    live = active[0] if active else None
    rows = deliveries.deliveries(name)
    last_ok = max((d.ended for d in rows if d.result == "ok" and d.ended), default=None)
    failure = next((d for d in reversed(rows) if d.result == "failed"), None)
    refusal = deliveries.last_refusal(name)
    login = deliveries.login_refused(name)
    lag_cuts, lag_seconds = _lag(live, ejercicio, published, published_at, at)
    if entry is not None and entry.status in _HELD:
        estado = _HELD[entry.status]
    elif entry is not None and not entry.active:
        estado = "en pausa"
    elif login is not None and (entry is None or login.access == access_of(
            entry, deliveries.access_key(create=False) or b"")):
        estado = "falla: autenticación rechazada (no se reintenta)"
    elif lag_cuts == 0:
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
        "ultimo_error": _delivery(failure, zone),
        "ultimo_rechazo": _delivery(refusal, zone),
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


def _delivery(d: Delivery | None, zone: tzinfo | None = None) -> dict[str, Any] | None:
    if d is None:
        return None
    when = d.ended or d.started
    return {"corte": d.cut, "fase": d.phase, "cuando": local_time(when, zone),
            "cuando_iso": when.isoformat(timespec="seconds"), "error": error_es(d.error),
            "error_original": d.error}
