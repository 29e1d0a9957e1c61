"""Incidents and cut publication times: the event log, a person's YAML, the access logs.

Event log (``--events``): JSON lines in the one event vocabulary of :mod:`prepcast.events` (the
difusor daemon's events and the institute monitor's probe events; names of earlier versions
such as ``cut_activated`` or ``probe`` with ``ok`` are read too). What the report takes from it:

- ``activated``: a cut went live (marked on the traffic chart); with ``late_seconds`` over
  :data:`LATE_AFTER_S`, a late publication (an incident);
- ``rejected``, ``error``, ``clock_off``, ``purge_failed``, ``quarantined`` and any event whose
  name ends in ``_failed`` or ``_error``: an incident;
- ``started`` after the first one: a restart (an incident, lasting since the last ``stopped``);
- ``probe.up`` / ``probe.down``: the institute monitor's probes of the public site; they give
  the availability by probes, and each run of ``probe.down`` is an outage (an incident).

Incidents a person enters (``--incidents``, YAML) are read by :mod:`.manual`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from prepcast import events as ev
from prepcast.analytics.probes import of_difusor
from prepcast.errors import InputError, Problem


@dataclass(frozen=True)
class Incident:
    start: datetime
    duration_s: float | None
    cause: str
    impact: str
    measures: str
    source: str  # "servicio del difusor", "registro manual", "bitácora de acceso", "sondas"


@dataclass
class EventLog:
    cuts: list[tuple[datetime, str]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    probes_ok: int = 0
    probes_total: int = 0
    events: int = 0
    probes: list[tuple[datetime, bool, str]] = field(default_factory=list)  # (time, up, evidence)


_IMPACT = {
    "activation_late": "El corte {cut} se publicó con retraso.",
    ev.REJECTED: "El paquete del corte {cut} no pasó la verificación y no se publicó; el sitio siguió mostrando el corte anterior.",
    ev.STARTED: "El servicio del difusor se reinició; no recibió cortes mientras estuvo detenido.",
    ev.ERROR: "Error del servicio del difusor; los cortes pudieron no recibirse o activarse.",
    ev.CLOCK_OFF: "El reloj del servidor estaba desfasado; el servicio no activó cortes hasta corregirlo.",
    ev.PURGE_FAILED: "No se purgó la caché de la CDN tras el corte {cut}; algunos lectores pudieron ver el corte anterior.",
    ev.QUARANTINED: "Una entrega al buzón del difusor no se pudo procesar y se apartó; los cortes siguientes se recibieron.",
}
_MEASURES = {
    "activation_late": "Activación en cuanto el paquete estuvo disponible.",
    ev.REJECTED: "Se conservó el corte vigente y se solicitó el paquete de nuevo.",
    ev.STARTED: "Reinicio automático del servicio.",
    ev.CLOCK_OFF: "Sincronización del reloj con el servidor NTP.",
    ev.PURGE_FAILED: "Reintento de la purga de la caché.",
    ev.QUARANTINED: "Revisión de la entrega apartada por el responsable técnico.",
}

# An activation later than this after the cut's publication time is an incident.
LATE_AFTER_S = 60.0
MAX_EVENT_LINE = 1_000_000  # bytes; a longer line is not an event


def _message(event: dict[str, Any]) -> str:
    """The event's own words: ``message``, else ``error``, else its ``failures``."""
    for key in ("message", "error", "reason"):
        if event.get(key):
            return str(event[key])
    failures = event.get("failures")
    if isinstance(failures, list) and failures:
        return "; ".join(str(f) for f in failures[:5])
    return ""


_EVIDENCE = {  # a probe's evidence fields, as the informe says them
    "status": "el sitio respondió con el código HTTP {}",
    "integrity": "contenido distinto del publicado: {}",
    "error": "{}",
    "latency_ms": "respondió en {} ms",
}


def _evidence(event: dict[str, Any]) -> str:
    value = event.get("evidence")
    if isinstance(value, dict):
        said = []
        for k, v in list(value.items())[:6]:
            v = "; ".join(str(x) for x in v[:3]) if isinstance(v, list) else v
            said.append(_EVIDENCE[k].format(v) if k in _EVIDENCE else f"dato técnico «{k}: {v}»")
        return "; ".join(said)
    return str(value or event.get("message") or "")


def read_events(
    paths: Path | Sequence[Path], *, probes_of: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
) -> EventLog:
    """Read event logs (daemon and probe events); every bad line is reported at once.

    Several files (a daemon's log and the monitor's file of the difusor) are merged in time
    order, a line found in two of them counted once. Only ``probes_of``'s probes count; a log
    with the probes of several difusors is an error unless it is given (:mod:`.probes`). With
    ``start``/``end``, only what happened in [start, end) is kept (an incident that began
    before ``start`` is kept from ``start``)."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    records: list[tuple[datetime, str, dict[str, Any], Path]] = []
    seen: set[str] = set()
    for path in files:
        for record in _read_file(path):
            key = json.dumps(record[2], sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                records.append(record)
    records.sort(key=lambda r: r[0])
    log = EventLog()
    started = 0
    stopped: datetime | None = None
    for when, name, event, _ in of_difusor(records, probes_of):
        log.events += 1
        cut = str(event.get("cut", "") or "")
        message = _message(event)
        duration = event.get("duration_s")
        duration_s = float(duration) if isinstance(duration, int | float) else None
        if name == ev.ACTIVATED:
            log.cuts.append((when, cut))
            late = event.get("late_seconds")
            if isinstance(late, int | float) and late > LATE_AFTER_S:
                log.incidents.append(_incident(
                    "activation_late", when, float(late), cut,
                    message or f"El corte se activó {late:.0f} s después de lo previsto (su hora "
                    "de publicación, o su llegada al servidor si llegó después)",
                    event))
        elif name == "activation_late":  # hand-made logs and earlier versions
            log.incidents.append(_incident(name, when, duration_s, cut, message, event))
        elif name in ev.PROBE_EVENTS:
            up = name == ev.PROBE_UP
            log.probes.append((when, up, "" if up else _evidence(event)))
        elif name == ev.STOPPED:
            stopped = when
        elif name == ev.STARTED:
            started += 1
            if started > 1:
                if duration_s is None and stopped is not None:
                    duration_s = (when - stopped).total_seconds()
                log.incidents.append(_incident(name, when, duration_s, cut, message, event))
            stopped = None
        elif name in _IMPACT or name.endswith(("_failed", "_error")):
            log.incidents.append(_incident(name, when, duration_s, cut, message, event))
    if start is not None or end is not None:
        log.cuts = [c for c in log.cuts if within(c[0], start, end)]
        log.probes = [p for p in log.probes if within(p[0], start, end)]
        log.incidents = in_period(log.incidents, start, end)
    log.probes_total = len(log.probes)
    log.probes_ok = sum(1 for p in log.probes if p[1])
    log.incidents += probe_outages(log.probes)
    return log


def within(when: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``when`` lies in [start, end) (an open side when None)."""
    return (start is None or when >= start) and (end is None or when < end)


def in_period(incidents: list[Incident], start: datetime | None,
              end: datetime | None) -> list[Incident]:
    """The incidents that touch [start, end); one that began before ``start`` is kept from
    ``start`` with the part of its duration inside the period."""
    kept = []
    for i in incidents:
        if end is not None and i.start >= end:
            continue
        if start is not None and i.start < start:
            if i.duration_s is None or i.start + timedelta(seconds=i.duration_s) <= start:
                continue
            i = replace(i, start=start, duration_s=i.duration_s - (start - i.start).total_seconds())
        kept.append(i)
    return kept


def _read_file(path: Path) -> list[tuple[datetime, str, dict[str, Any], Path]]:
    """One event log's events as (time, name, event, path); its bad lines raise at once."""
    problems: list[Problem] = []
    found: list[tuple[datetime, str, dict[str, Any], Path]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.at(path, f"cannot read event log ({exc})", field="--events") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line) if len(line) <= MAX_EVENT_LINE else None
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            problems.append(Problem(str(path), "not a JSON object", number))
            continue
        when = ev.parse_time(event.get("time"))
        name = ev.normalise(event)
        if when is None:
            problems.append(Problem(str(path), "needs an ISO 8601 time with offset", number, "time"))
            continue
        if not name:
            problems.append(Problem(str(path), "needs the event's name", number, "event"))
            continue
        found.append((when, name, event, path))
    if len(problems) > MAX_LISTED:
        raise _too_many(path, problems, len(text.splitlines()))
    if problems:
        raise InputError(problems)
    return found


def probe_outages(probes: list[tuple[datetime, bool, str]]) -> list[Incident]:
    """Each run of failed probes is an outage, from its first failure to the next success."""
    found: list[Incident] = []
    down: list[tuple[datetime, bool, str]] = []

    def close(until: datetime | None) -> None:
        if not down:
            return
        first = down[0][0]
        length = (until - first).total_seconds() if until is not None else None
        evidence = next((e for _, _, e in down if e), "sin respuesta")
        found.append(Incident(
            first, length,
            f"Las sondas del instituto no obtuvieron el PREP del sitio público ({evidence}).",
            f"{len(down)} sondas consecutivas fallaron: los lectores pudieron no ver los "
            "resultados durante ese lapso.",
            "Por documentar por el responsable técnico.",
            "sondas del instituto",
        ))
        down.clear()

    for probe in probes:
        if probe[1]:
            close(probe[0])
        else:
            down.append(probe)
    close(None)
    return found


MAX_LISTED = 3  # beyond this many bad lines, one message with the count and the first ones


def _too_many(path: Path, problems: list[Problem], lines: int) -> InputError:
    """One message for a file with many bad lines (most likely not an event log at all)."""
    first = "; ".join(f"line {p.line}: {p.field + ': ' if p.field else ''}{p.message}"
                      for p in problems[:MAX_LISTED])
    return InputError.at(
        path, f"{len(problems):,} of {lines:,} lines are not events of an event log (first: "
        f"{first}); is it the difusor's event log (JSON lines)?", field="--events")


def _incident(
    name: str, when: datetime, duration_s: float | None, cut: str, message: str, event: dict[str, Any]
) -> Incident:
    impact = _IMPACT.get(name, "Evento de falla del servicio del difusor ({event}).")
    measures = str(event.get("measures") or _MEASURES.get(name, "Revisión por el responsable técnico."))
    cause = message or name
    return Incident(
        when,
        duration_s,
        cause,
        impact.format(cut=cut or "(sin número)", event=name),
        measures,
        "servicio del difusor",
    )


def incidents_from_errors(per_minute: list[dict[str, Any]], offset: timezone) -> list[Incident]:
    """Runs of minutes where 5xx responses reach 5 % of requests (and at least 5 of them)."""
    found: list[Incident] = []
    run: list[dict[str, Any]] = []

    def close() -> None:
        if not run:
            return
        errors = sum(int(r["errores_5xx"]) for r in run)
        total = sum(int(r["solicitudes"]) for r in run)
        start = datetime.strptime(run[0]["minuto"], "%Y-%m-%d %H:%M").replace(tzinfo=offset)
        found.append(
            Incident(
                start,
                60.0 * len(run),
                "Respuestas 5xx del servidor web (causa por confirmar en la bitácora de errores).",
                f"{errors:,} de {total:,} solicitudes ({100 * errors / total:.1f} %) recibieron "
                "un error del servidor.",
                "Por documentar por el responsable técnico.",
                "bitácora de acceso",
            )
        )
        run.clear()

    previous: datetime | None = None
    for row in per_minute:
        errors, total = int(row["errores_5xx"]), int(row["solicitudes"])
        minute = datetime.strptime(row["minuto"], "%Y-%m-%d %H:%M")
        bad = errors >= 5 and errors >= 0.05 * total
        if bad and (previous is None or minute - previous > timedelta(minutes=1)):
            close()
        if bad:
            run.append(row)
            previous = minute
        elif run:
            close()
            previous = None
    close()
    return found
