"""The report's content as named HTML blocks; :mod:`.outline` puts them under each call's headings.

A block holds figures, charts and tables but no section heading of its own (only ``<h3>``
subheadings), so the same block sits under "ii. Estadísticas de visitas" in IEEM's outline and
under "b) Estadísticas de Visitas" in IEM's.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from html import escape

from prepcast.analytics import charts
from prepcast.analytics.analysis import AVAILABILITY_GOAL, duration, n, per_session, when
from prepcast.analytics.html_parts import colgroup, figure, hour_labels, html_table, series
from prepcast.analytics.model import ReportData
from prepcast.analytics.sections import goaccess_appendix, methodology

NO_VIEWS = (
    "Las bitácoras no contienen vistas de página según las definiciones de la metodología: "
    "ninguna página HTML del portal del difusor ni vista del sitio de resultados ({where}). "
    "Por eso no se informan vistas ni páginas consultadas; revise que las bitácoras sean las del "
    "sitio publicado (o indique su carpeta con --site-path)."
)


def blocks(data: ReportData) -> dict[str, str]:
    fig, t = data.figures, data.tables
    tz = timezone(timedelta(seconds=fig.offset_s))
    offset_h = fig.offset_s / 3600
    tz_label = f"UTC{offset_h:+g}" if offset_h else "UTC"
    b: dict[str, str] = {}
    marks = [c.timestamp() for c, _ in data.events.cuts]
    availability = 100 * fig.availability_requests

    head = (
        f"<p><b>{escape(data.difusor)}</b></p>"
        f"<p>Periodo analizado: {when(data.period_epochs[0], tz)} a {when(data.period_epochs[1], tz)} ({tz_label}). "
        f"Generado el {data.generated.astimezone(tz).strftime('%d/%m/%Y %H:%M')} con prepcast "
        f"{escape(data.version)} a partir de {n(data.parse.lines)} líneas de {len(data.parse.files)} "
        "bitácora(s) de acceso.</p>"
    )
    if fig.requests == 0:
        head += ("<p class='bad'>El periodo analizado no contiene solicitudes: las cifras de este "
                 "informe son cero.</p>")
    b["encabezado"] = head

    cards = [
        ("Solicitudes", n(fig.requests)), ("Visitantes únicos", n(fig.visitors)),
        ("Sesiones", n(fig.sessions)), ("Vistas", n(fig.page_views)),
        ("Máx. usuarios activos (5 min)", n(fig.peak_active)),
        ("Tiempo medio en el sitio", duration(fig.avg_duration_s)),
        ("Visitantes en teléfono", f"{fig.mobile_share:.1f} %"),
        ("Disponibilidad (solicitudes)", f"{availability:.3f} %" if fig.requests else "sin dato"),
        ("Incidencias", n(len(data.incidents))),
    ]
    b["resumen"] = "<div class='cards'>" + "".join(
        f"<div class='card'><b>{escape(v)}</b>{escape(k)}</div>" for k, v in cards) + "</div>"

    rows = "".join(
        f"<tr><td>{i.start.astimezone(tz).strftime('%d/%m/%Y')}</td><td>{i.start.astimezone(tz).strftime('%H:%M')}</td>"
        f"<td>{escape(duration(i.duration_s)) if i.duration_s is not None else 'sin dato'}</td>"
        f"<td>{escape(i.cause)}</td><td>{escape(i.impact)}</td><td>{escape(i.measures)}</td>"
        f"<td>{escape(i.source)}</td></tr>"
        for i in data.incidents
    ) or "<tr><td colspan='7'>No se registraron incidencias en el periodo.</td></tr>"
    b["incidencias"] = (
        f"<table class='fixed'>{colgroup((12, 7, 12, 21, 18, 18, 12))}<thead><tr><th>Fecha</th><th>Hora</th><th>Duración</th><th>Causa raíz</th>"
        f"<th>Impacto</th><th>Medidas</th><th>Fuente</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    cls = "ok" if availability >= AVAILABILITY_GOAL else "bad"
    avail = (
        f"<p>Por solicitudes (1 − proporción de respuestas 5xx): <span class='{cls}'>{availability:.3f} %</span> "
        f"({n(fig.errors_5xx)} respuestas 5xx de {n(fig.requests)}); meta: {AVAILABILITY_GOAL} %.</p>"
    ) if fig.requests else (
        "<p>Por solicitudes: sin dato (el periodo analizado no contiene solicitudes); meta: "
        f"{AVAILABILITY_GOAL} %.</p>"
    )
    if data.probe_availability is not None:
        pcls = "ok" if data.probe_availability >= AVAILABILITY_GOAL else "bad"
        avail += (
            f"<p>Por sondas del instituto: <span class='{pcls}'>{data.probe_availability:.3f} %</span> "
            f"({n(data.events.probes_ok)} de {n(data.events.probes_total)} sondas exitosas).</p>"
        )
    if data.silences:
        avail += (f"<p>{n(len(data.silences))} silencio(s) de la bitácora durante la publicación "
                  "se señalan como posibles interrupciones en la tabla de incidencias.</p>")
    b["disponibilidad"] = "<h3>Disponibilidad</h3>" + avail

    visits = (
        f"<p>{n(fig.requests)} solicitudes ({n(fig.human_requests)} de lectores); "
        f"{n(fig.visitors)} visitantes únicos en todo el periodo; {n(fig.page_views)} vistas.</p>"
    )
    if t["trafico_por_minuto"].rows:
        pts = series(t["trafico_por_minuto"], "minuto", "solicitudes", tz)
        cap = "Solicitudes por minuto"
        cap += f"; las líneas punteadas marcan la publicación de los {len(marks)} cortes." if marks else "."
        visits += figure(charts.time_series(pts, labels=hour_labels(pts, tz), marks=marks, title=cap), cap)
    b["visitas"] = visits + html_table(t["por_dia"]) + "<h3>Por hora</h3>" + html_table(t["por_hora"])

    active = ""
    if t["usuarios_activos"].rows:
        pts = series(t["usuarios_activos"], "ventana", "usuarios_activos", tz)
        cap = f"Usuarios activos por ventana de 5 minutos (máximo {n(fig.peak_active)} el {when(fig.peak_active_epoch, tz)})."
        active += figure(charts.time_series(pts, labels=hour_labels(pts, tz), marks=marks, title=cap, color="#1f6f7a"), cap)
    b["activos_sesiones"] = active + (
        f"<p>Máximo de usuarios activos: {n(fig.peak_active)}. {n(fig.sessions)} sesiones de "
        f"{n(fig.visitors)} visitantes; {per_session(fig.views_per_session)} vistas por sesión; tasa de "
        f"rebote {fig.bounce_rate:.1f} % ({n(fig.single_view_sessions)} sesiones con una vista o "
        "ninguna).</p>"
    )
    b["permanencia"] = (
        f"<p>Tiempo medio de permanencia en el sitio: {duration(fig.avg_duration_s)} por sesión "
        f"(mediana {duration(fig.median_duration_s)}), de la primera a la última solicitud de "
        "cada sesión.</p>" + html_table(t["duracion_sesiones"])
    )

    countries = sum(1 for r in t["paises"].rows if r["codigo"] != "--")
    b["origen_total"] = (
        f"<p>Total de consultas: {n(fig.human_requests)} solicitudes de lectores y "
        f"{n(fig.page_views)} vistas, de {n(fig.visitors)} visitantes de {n(countries)} país(es); "
        f"{fig.mexico_share:.1f} % de los visitantes desde México.</p>"
    )
    b["origen_pais"] = figure(
        charts.bars([(r["pais"], r["visitantes"]) for r in t["paises"].rows[:10]], title="Visitantes por país"),
        "Visitantes por país (primeros 10).") + html_table(t["paises"], limit=25)
    b["origen_entidad"] = figure(
        charts.bars([(r["entidad"], r["visitantes"]) for r in t["entidades"].rows[:33]], title="Visitantes por entidad"),
        "Visitantes desde México por entidad federativa (claves INEGI).",
    ) + html_table(t["entidades"]) + f"<p class='note'>{escape(data.geo_note)}</p>"

    b["dispositivos"] = (
        figure(charts.bars([(r["tipo"], r["visitantes"]) for r in t["dispositivos"].rows], title="Visitantes por dispositivo"), "Visitantes por tipo de dispositivo.")
        + html_table(t["dispositivos"])
        + "<h3>Navegadores</h3>" + html_table(t["navegadores"])
        + "<h3>Sistemas operativos</h3>" + html_table(t["sistemas_operativos"])
    )
    b["canal"] = (
        figure(charts.bars([(r["canal"], r["sesiones"]) for r in t["canales"].rows], title="Sesiones por canal"), "Sesiones por canal de acceso.")
        + html_table(t["canales"]) + "<h3>Sitios de procedencia</h3>" + html_table(t["sitios_referentes"])
    )

    where = f"sitio de resultados en {data.enrichment.site_root}"
    if not data.enrichment.site_root_found:
        where = "ninguna solicitud de json/main.json; se supuso el sitio en /"
    no_views = f"<p class='bad'>{escape(NO_VIEWS.format(where=where))}</p>" if (
        fig.requests and not fig.page_views) else ""
    b["paginas_numero"] = no_views + (
        f"<p>Número de páginas consultadas: {n(fig.page_views)} vistas "
        f"({per_session(fig.views_per_session)} por sesión).</p>"
        + figure(charts.bars([(r["vista"], r["solicitudes"]) for r in t["vistas"].rows], title="Solicitudes por vista"), "Solicitudes de lectores por vista del sitio.")
        + html_table(t["vistas"]) + "<h3>Por elección</h3>" + html_table(t["elecciones"])
    )
    b["paginas_mas_visitadas"] = no_views + (
        "<h3>Páginas más visitadas</h3>" + html_table(t["paginas"])
        + "<h3>Vistas del sitio</h3>" + html_table(t["vistas"])
    )
    b["portal"] = (
        f"<p>{n(fig.portal_accesses)} accesos a la portada del sitio de resultados y "
        f"{n(fig.extra.get('portal_views', 0))} vistas de páginas del portal del difusor.</p>"
        + html_table(t["por_dia"]) + "<h3>Páginas del portal</h3>" + html_table(t["paginas_portal"])
    )
    b["tecnico"] = (
        "<h3>Archivos</h3>" + html_table(t["archivos"])
        + "<h3>Códigos de estado</h3>" + html_table(t["codigos_estado"])
        + "<h3>Robots (contados aparte)</h3>" + html_table(t["robots"])
    )
    analysis = "".join(f"<p>{escape(p)}</p>" for p in data.analysis)
    if data.recommendations:
        analysis += "<h3>Recomendaciones</h3><ul>" + "".join(
            f"<li>{escape(r)}</li>" for r in data.recommendations) + "</ul>"
    b["analisis"] = analysis
    b["metodologia"] = methodology(data)
    if data.events.cuts:
        b["cortes"] = f"<table class='fixed'>{colgroup((1, 1))}<thead><tr><th>Corte</th><th>Publicación</th></tr></thead><tbody>" + "".join(
            f"<tr><td>{escape(c)}</td><td>{d.astimezone(tz).strftime('%d/%m/%Y %H:%M')} ({tz_label})</td></tr>"
            for d, c in data.events.cuts) + "</tbody></table>"
    else:
        b["cortes"] = "<p>No se proporcionó bitácora de eventos del difusor (--events): 0 cortes registrados.</p>"
    b["goaccess"] = goaccess_appendix(data)
    return b
