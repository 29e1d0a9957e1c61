"""The report's analysis and conclusions, written in Spanish from the figures.

Every sentence carries at least one figure; a sentence whose figure is missing is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from prepcast.analytics.incidents import Incident
from prepcast.analytics.metrics import Figures, Table

AVAILABILITY_GOAL = 99.9


def n(value: float) -> str:
    """A count with thousands separators (es-MX: 1,234,567)."""
    return f"{value:,.0f}"


def per_session(value: float) -> str:
    """Views per session, rounded the same way wherever the informe says it."""
    return f"{value:.2f}"


def pct(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}f} %"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(epoch: int | None, tz: timezone) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, tz).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class CutEffect:
    cuts: int
    after: float  # mean requests per minute in the 5 minutes after a cut
    before: float  # … and in the 5 minutes before it

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before else 0.0


def cut_effect(per_minute: list[dict[str, Any]], cuts: list[datetime], tz: timezone) -> CutEffect | None:
    if not cuts or not per_minute:
        return None
    counts = {
        int(datetime.strptime(r["minuto"], "%Y-%m-%d %H:%M").replace(tzinfo=tz).timestamp()) // 60:
        int(r["solicitudes"]) for r in per_minute
    }
    after, before, used = 0, 0, 0
    for cut in cuts:
        m = int(cut.timestamp()) // 60
        if m - 5 not in counts and m + 5 not in counts:
            continue
        used += 1
        after += sum(counts.get(m + i, 0) for i in range(5))
        before += sum(counts.get(m - i, 0) for i in range(1, 6))
    if not used:
        return None
    return CutEffect(used, after / (5 * used), before / (5 * used))


def conclusions(
    fig: Figures,
    tables: dict[str, Table],
    incidents: list[Incident],
    effect: CutEffect | None,
    probe_availability: float | None,
    malformed: int,
    lines: int,
    is_dbip: bool,
) -> tuple[list[str], list[str]]:
    """(analysis paragraphs, recommendations), each sentence with its figure."""
    tz = timezone(timedelta(seconds=fig.offset_s))
    out: list[str] = []
    recs: list[str] = []
    if fig.requests == 0:
        out.append("El periodo analizado no tiene solicitudes registradas (0 solicitudes).")
        return out, recs
    out.append(
        f"Entre el {when(fig.first_epoch, tz)} y el {when(fig.last_epoch, tz)} el sitio atendió "
        f"{n(fig.requests)} solicitudes: {n(fig.human_requests)} de lectores y "
        f"{n(fig.bot_requests)} ({pct(100 * fig.bot_requests / fig.requests)}) de robots, que se "
        "cuentan aparte."
    )
    out.append(
        f"{n(fig.visitors)} visitantes únicos abrieron {n(fig.sessions)} sesiones, con "
        f"{per_session(fig.views_per_session)} vistas por sesión y una duración media de "
        f"{duration(fig.avg_duration_s)} (mediana {duration(fig.median_duration_s)}); "
        f"{pct(fig.bounce_rate)} de las sesiones tuvo una sola vista."
    )
    if fig.peak_active_epoch is not None:
        out.append(
            f"El máximo de usuarios activos fue de {n(fig.peak_active)} en la ventana de 5 minutos "
            f"que inició el {when(fig.peak_active_epoch, tz)}, y el minuto de más tráfico "
            f"({when(fig.peak_minute_epoch, tz)}) tuvo {n(fig.peak_minute_requests)} solicitudes."
        )
    if effect is not None:
        out.append(
            f"En los 5 minutos posteriores a cada uno de los {n(effect.cuts)} cortes publicados el "
            f"tráfico promedió {n(effect.after)} solicitudes por minuto, frente a "
            f"{n(effect.before)} en los 5 minutos previos ({effect.ratio:.1f} veces)."
        )
    devices = {r["tipo"]: r["porcentaje"] for r in tables["dispositivos"].rows}
    if devices:
        parts = [f"{pct(v)} {k.lower()}" for k, v in devices.items() if k != "Robot"]
        out.append("Por tipo de dispositivo, los visitantes se reparten así: " + ", ".join(parts) + ".")
    states = [r for r in tables["entidades"].rows if r["clave_inegi"] != "--"]
    out.append(f"{pct(fig.mexico_share)} de los visitantes se conectó desde México.")
    if states:
        top = ", ".join(
            f"{'Estado de México' if r['clave_inegi'] == '15' else r['entidad']} ({n(r['visitantes'])})"
            for r in states[:3]
        )
        out.append(f"Las entidades con más visitantes fueron {top}; se identificaron {len(states)} de 32.")
        cdmx = next((r for r in states if r["clave_inegi"] == "09"), None)
        if is_dbip and cdmx:
            out.append(
                f"DB-IP ubica en Ciudad de México muchas direcciones de proveedores de internet "
                f"nacionales, por lo que sus {n(cdmx['visitantes'])} visitantes pueden incluir "
                "lectores de otras entidades."
            )
    channels = {r["clave"]: r["porcentaje"] for r in tables["canales"].rows}
    if channels:
        labels = {"direct": "llegó de forma directa", "search": "desde buscadores",
                  "social": "desde redes sociales", "referral": "desde enlaces de otros sitios",
                  "institute": "desde el sitio del instituto", "embedded": "desde páginas que incrustan el PREP"}
        parts = [f"{pct(channels[k])} {v}" for k, v in labels.items() if k in channels]
        out.append("De las sesiones, " + ", ".join(parts) + ".")
    total_down = sum(i.duration_s or 0 for i in incidents)
    if not incidents:
        out.append("No se registraron incidentes.")
    else:
        counted = "1 incidente" if len(incidents) == 1 else f"{len(incidents)} incidentes"
        out.append(f"Se registraron {counted}, con una duración conocida total de "
                   f"{duration(total_down)}.")
    availability = 100 * fig.availability_requests
    meets = "cumple" if availability >= AVAILABILITY_GOAL else "no cumple"
    out.append(
        f"La disponibilidad medida por solicitudes fue de {availability:.3f} % "
        f"({n(fig.errors_5xx)} respuestas 5xx de {n(fig.requests)}), que {meets} la meta de "
        f"{AVAILABILITY_GOAL} %."
    )
    if probe_availability is not None:
        meets_p = "cumple" if probe_availability >= AVAILABILITY_GOAL else "no cumple"
        out.append(
            f"Según las sondas del servicio, la disponibilidad fue de {probe_availability:.3f} %, "
            f"que {meets_p} la meta de {AVAILABILITY_GOAL} %."
        )
    if malformed:
        out.append(
            f"{n(malformed)} de {n(lines)} líneas de las bitácoras ({100 * malformed / lines:.3f} %) "
            "no pudieron interpretarse y se excluyeron."
        )

    mobile = fig.mobile_share
    if mobile >= 50:
        recs.append(
            f"Con {pct(mobile)} de los visitantes en teléfono, las pruebas del sitio del siguiente "
            "proceso deben hacerse primero en pantallas móviles."
        )
    if effect is not None and effect.ratio > 1.2:
        recs.append(
            f"Como el tráfico crece {effect.ratio:.1f} veces tras cada corte, la capacidad (o la "
            f"caché de la CDN) debe prepararse para al menos {n(2 * fig.peak_minute_requests)} "
            "solicitudes por minuto, el doble del pico observado."
        )
    elif fig.peak_minute_requests:
        recs.append(
            f"La capacidad debe prepararse para al menos {n(2 * fig.peak_minute_requests)} "
            "solicitudes por minuto, el doble del pico observado."
        )
    by_requests = availability
    if probe_availability is not None:
        availability = min(availability, probe_availability)
    if availability < AVAILABILITY_GOAL:
        recs.append(_below_goal(availability, by_requests, fig.errors_5xx, len(incidents)))
    else:
        recs.append(
            f"La disponibilidad de {availability:.3f} % cumplió la meta de {AVAILABILITY_GOAL} %; "
            "conviene conservar la misma configuración y monitoreo."
        )
    if fig.bot_requests and fig.bot_requests / fig.requests > 0.05:
        recs.append(
            f"Los robots generaron {pct(100 * fig.bot_requests / fig.requests)} de las solicitudes; "
            "conviene limitar su frecuencia en el servidor o la CDN."
        )
    return out, recs


def _below_goal(availability: float, by_requests: float, errors_5xx: int, incidents: int) -> str:
    """The recommendation for an availability under the goal, with or without incidents."""
    gap = (f"La disponibilidad de {availability:.3f} % quedó {AVAILABILITY_GOAL - availability:.3f} "
           "puntos bajo la meta")
    if incidents:
        which = "del incidente registrado" if incidents == 1 else f"de los {incidents} incidentes"
        return f"{gap}: deben atenderse las causas {which} antes del siguiente simulacro."
    if by_requests <= availability and errors_5xx:
        why = (f"las {n(errors_5xx)} respuestas 5xx quedaron dispersas (ningún minuto alcanzó el "
               "umbral de incidente)")
    else:
        why = "las sondas del instituto fallaron de forma aislada"
    return (f"{gap} sin que se registrara ningún incidente: {why}; deben revisarse la bitácora "
            "de errores del servidor y los huecos u horas sin registro de la bitácora de acceso "
            "antes del siguiente simulacro.")
