"""The incidents and the availability as tables (``tablas/incidencias`` and
``tablas/disponibilidad``, CSV and JSON), the same figures the informe shows."""

from __future__ import annotations

from datetime import timezone

from prepcast.analytics.analysis import AVAILABILITY_GOAL, duration
from prepcast.analytics.incidents import EventLog, Incident
from prepcast.analytics.metrics import Figures, Table


def incidents_table(incidents: list[Incident], tz: timezone) -> Table:
    """One row per incident: fecha, hora (the report's offset), duración, causa raíz, impacto,
    medidas and where it was found."""
    rows = [
        {
            "fecha": i.start.astimezone(tz).strftime("%d/%m/%Y"),
            "hora": i.start.astimezone(tz).strftime("%H:%M"),
            "duracion": duration(i.duration_s) if i.duration_s is not None else "sin dato",
            "duracion_s": round(i.duration_s) if i.duration_s is not None else None,
            "causa_raiz": i.cause,
            "impacto": i.impact,
            "medidas": i.measures,
            "fuente": i.source,
        }
        for i in incidents
    ]
    columns = [("fecha", "Fecha"), ("hora", "Hora"), ("duracion", "Duración"),
               ("duracion_s", "Duración (s)"), ("causa_raiz", "Causa raíz"),
               ("impacto", "Impacto"), ("medidas", "Medidas"), ("fuente", "Fuente")]
    return Table("incidencias", "Incidencias", columns, rows)


def availability_table(fig: Figures, events: EventLog) -> Table:
    """Availability against the goal: by requests (1 − share of 5xx) and, when the event log
    holds the institute's probes, by probes."""
    rows = []
    if fig.requests:
        pct = 100 * fig.availability_requests
        rows.append(_row("solicitudes", pct, fig.requests - fig.errors_5xx, fig.requests,
                         "1 − proporción de respuestas 5xx"))
    if events.probes_total:
        pct = 100 * events.probes_ok / events.probes_total
        rows.append(_row("sondas", pct, events.probes_ok, events.probes_total,
                         "sondas del instituto al sitio público exitosas"))
    columns = [("medida", "Medida"), ("disponibilidad_pct", "Disponibilidad (%)"),
               ("meta_pct", "Meta (%)"), ("cumple", "Cumple la meta"), ("exitosas", "Exitosas"),
               ("total", "Total"), ("definicion", "Definición")]
    return Table("disponibilidad", "Disponibilidad", columns, rows)


def _row(measure: str, pct: float, good: int, total: int, definition: str) -> dict[str, object]:
    return {"medida": measure, "disponibilidad_pct": round(pct, 3), "meta_pct": AVAILABILITY_GOAL,
            "cumple": "sí" if pct >= AVAILABILITY_GOAL else "no", "exitosas": good,
            "total": total, "definicion": definition}
