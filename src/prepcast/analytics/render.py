"""The report as files: one self-contained HTML page, its PDF, and every table as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

from prepcast.analytics import charts
from prepcast.analytics.analysis import AVAILABILITY_GOAL, duration, n, when
from prepcast.analytics.metrics import Table
from prepcast.analytics.model import ReportData
from prepcast.analytics.sections import goaccess_appendix, methodology

_CSS = """
@page { size: A4; margin: 18mm 14mm 18mm 14mm;
  @bottom-center { content: "Informe técnico de difusión del PREP — página " counter(page)
    " de " counter(pages); font-family: 'DejaVu Sans', sans-serif; font-size: 8pt; color: #555; } }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #222; max-width: 60em;
  margin: 0 auto; line-height: 1.4; }
h1 { color: #7a1f5c; font-size: 20pt; margin-bottom: 0; }
h2 { color: #7a1f5c; border-bottom: 2px solid #7a1f5c; padding-bottom: 2px; margin-top: 1.6em;
  break-after: avoid; }
h3 { break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 9pt; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3e8ef; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
.cards { display: flex; flex-wrap: wrap; gap: 6px; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px; min-width: 10em; }
.card b { display: block; font-size: 14pt; color: #7a1f5c; }
.note { color: #555; font-size: 9pt; }
.ok { color: #1f6f3a; font-weight: bold; } .bad { color: #a0201f; font-weight: bold; }
figure { margin: 0.5em 0 1em; break-inside: avoid; } figcaption { font-size: 9pt; color: #555; }
"""


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "<td>sí</td>" if value else "<td>no</td>"
    if isinstance(value, int):
        return f"<td class='num'>{n(value)}</td>"
    if isinstance(value, float):
        return f"<td class='num'>{value:,.2f}</td>"
    return f"<td>{escape(str(value if value is not None else '—'))}</td>"


def html_table(table: Table, limit: int | None = None) -> str:
    rows = table.rows[:limit] if limit else table.rows
    head = "".join(f"<th>{escape(label)}</th>" for _, label in table.columns)
    body = "".join(
        "<tr>" + "".join(_cell(r.get(key)) for key, _ in table.columns) + "</tr>" for r in rows
    )
    if not rows:
        body = f"<tr><td colspan='{len(table.columns)}'>Sin registros en el periodo.</td></tr>"
    more = ""
    if limit and len(table.rows) > limit:
        more = f"<p class='note'>Se muestran {limit} de {n(len(table.rows))} filas; el archivo tablas/{table.name}.csv tiene todas.</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _series(table: Table, key_time: str, key_value: str, tz: timezone) -> list[tuple[float, float]]:
    fmt = "%Y-%m-%d %H:%M"
    return [
        (datetime.strptime(str(r[key_time]), fmt).replace(tzinfo=tz).timestamp(), float(r[key_value]))
        for r in table.rows
    ]


def _hour_labels(points: Sequence[tuple[float, float]], tz: timezone) -> list[tuple[float, str]]:
    if not points:
        return []
    start, end = points[0][0], points[-1][0]
    span_h = (end - start) / 3600
    step = 1 if span_h <= 12 else 2 if span_h <= 24 else 4 if span_h <= 48 else 12
    t = datetime.fromtimestamp(start, tz).replace(minute=0, second=0) + timedelta(hours=1)
    labels = []
    while t.timestamp() <= end:
        if t.hour % step == 0:
            labels.append((t.timestamp(), t.strftime("%H:%M") if t.hour else t.strftime("%d/%m")))
        t += timedelta(hours=1)
    return labels


def render_html(data: ReportData) -> str:
    fig, t = data.figures, data.tables
    tz = timezone(timedelta(seconds=fig.offset_s))
    offset_h = fig.offset_s / 3600
    tz_label = f"UTC{offset_h:+g}" if offset_h else "UTC"
    s: list[str] = []
    s.append(f"<h1>Informe técnico de difusión del PREP</h1><p><b>{escape(data.difusor)}</b></p>")
    s.append(
        f"<p>Periodo analizado: {when(fig.first_epoch, tz)} a {when(fig.last_epoch, tz)} ({tz_label}). "
        f"Generado el {data.generated.astimezone(tz).strftime('%d/%m/%Y %H:%M')} con prepcast "
        f"{escape(data.version)} a partir de {n(data.parse.lines)} líneas de {len(data.parse.files)} "
        "bitácora(s) de acceso.</p>"
    )
    if fig.requests == 0:
        s.append("<p class='bad'>El periodo analizado no contiene solicitudes: las cifras de este informe son cero.</p>")
    availability = 100 * fig.availability_requests
    cards = [
        ("Solicitudes", n(fig.requests)), ("Visitantes únicos", n(fig.visitors)),
        ("Sesiones", n(fig.sessions)), ("Vistas", n(fig.page_views)),
        ("Máx. usuarios activos (5 min)", n(fig.peak_active)),
        ("Tiempo medio en el sitio", duration(fig.avg_duration_s)),
        ("Visitantes en teléfono", f"{fig.mobile_share:.1f} %"),
        ("Disponibilidad (solicitudes)", f"{availability:.3f} %"),
        ("Incidentes", n(len(data.incidents))),
    ]
    s.append("<h2>1. Resumen</h2><div class='cards'>" + "".join(
        f"<div class='card'><b>{escape(v)}</b>{escape(k)}</div>" for k, v in cards) + "</div>")

    s.append("<h2>2. Incidentes</h2>")
    rows = "".join(
        f"<tr><td>{i.start.astimezone(tz).strftime('%d/%m/%Y')}</td><td>{i.start.astimezone(tz).strftime('%H:%M')}</td>"
        f"<td>{escape(duration(i.duration_s)) if i.duration_s is not None else 'sin dato'}</td>"
        f"<td>{escape(i.cause)}</td><td>{escape(i.impact)}</td><td>{escape(i.measures)}</td>"
        f"<td>{escape(i.source)}</td></tr>"
        for i in data.incidents
    ) or "<tr><td colspan='7'>No se registraron incidentes en el periodo.</td></tr>"
    s.append(
        "<table><thead><tr><th>Fecha</th><th>Hora</th><th>Duración</th><th>Causa raíz</th>"
        f"<th>Impacto</th><th>Medidas</th><th>Fuente</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    s.append("<h3>Disponibilidad</h3>")
    cls = "ok" if availability >= AVAILABILITY_GOAL else "bad"
    s.append(
        f"<p>Por solicitudes (1 − proporción de respuestas 5xx): <span class='{cls}'>{availability:.3f} %</span> "
        f"({n(fig.errors_5xx)} respuestas 5xx de {n(fig.requests)}); meta: {AVAILABILITY_GOAL} %.</p>"
    )
    if data.probe_availability is not None:
        pcls = "ok" if data.probe_availability >= AVAILABILITY_GOAL else "bad"
        s.append(
            f"<p>Por sondas del servicio: <span class='{pcls}'>{data.probe_availability:.3f} %</span> "
            f"({n(data.events.probes_ok)} de {n(data.events.probes_total)} sondas exitosas).</p>"
        )

    s.append("<h2>3. Estadísticas de visitas</h2>")
    marks = [c.timestamp() for c, _ in data.events.cuts]
    if t["trafico_por_minuto"].rows:
        pts = _series(t["trafico_por_minuto"], "minuto", "solicitudes", tz)
        cap = "Solicitudes por minuto"
        cap += f"; las líneas punteadas marcan la publicación de los {len(marks)} cortes." if marks else "."
        s.append(_figure(charts.time_series(pts, labels=_hour_labels(pts, tz), marks=marks, title=cap), cap))
    s.append(html_table(t["por_dia"]))
    s.append("<h3>Por hora</h3>" + html_table(t["por_hora"]))

    s.append("<h2>4. Usuarios activos y sesiones</h2>")
    if t["usuarios_activos"].rows:
        pts = _series(t["usuarios_activos"], "ventana", "usuarios_activos", tz)
        cap = f"Usuarios activos por ventana de 5 minutos (máximo {n(fig.peak_active)} el {when(fig.peak_active_epoch, tz)})."
        s.append(_figure(charts.time_series(pts, labels=_hour_labels(pts, tz), marks=marks, title=cap, color="#1f6f7a"), cap))
    s.append(
        f"<p>{n(fig.sessions)} sesiones; {fig.views_per_session:.2f} vistas por sesión; tiempo medio en el sitio "
        f"{duration(fig.avg_duration_s)} (mediana {duration(fig.median_duration_s)}); tasa de rebote "
        f"{fig.bounce_rate:.1f} % ({n(fig.single_view_sessions)} sesiones de una sola vista, que cuentan 0 s).</p>"
    )
    s.append(html_table(t["duracion_sesiones"]))

    s.append("<h2>5. Origen de los visitantes</h2><h3>Por país o región</h3>")
    s.append(_figure(charts.bars([(r["pais"], r["visitantes"]) for r in t["paises"].rows[:10]], title="Visitantes por país"), "Visitantes por país (primeros 10)."))
    s.append(html_table(t["paises"], limit=25))
    s.append("<h3>Por entidad federativa</h3>")
    s.append(_figure(charts.bars([(r["entidad"], r["visitantes"]) for r in t["entidades"].rows[:33]], title="Visitantes por entidad"), "Visitantes desde México por entidad federativa (claves INEGI)."))
    s.append(html_table(t["entidades"]))
    s.append(f"<p class='note'>{escape(data.geo_note)}</p>")

    s.append("<h2>6. Tipo de dispositivo</h2>")
    s.append(_figure(charts.bars([(r["tipo"], r["visitantes"]) for r in t["dispositivos"].rows], title="Visitantes por dispositivo"), "Visitantes por tipo de dispositivo."))
    s.append(html_table(t["dispositivos"]))
    s.append("<h3>Navegadores</h3>" + html_table(t["navegadores"]))
    s.append("<h3>Sistemas operativos</h3>" + html_table(t["sistemas_operativos"]))

    s.append("<h2>7. Canal de acceso</h2>")
    s.append(_figure(charts.bars([(r["canal"], r["sesiones"]) for r in t["canales"].rows], title="Sesiones por canal"), "Sesiones por canal de acceso."))
    s.append(html_table(t["canales"]))
    s.append("<h3>Sitios de procedencia</h3>" + html_table(t["sitios_referentes"]))

    s.append("<h2>8. Páginas y vistas consultadas</h2>")
    s.append(_figure(charts.bars([(r["vista"], r["solicitudes"]) for r in t["vistas"].rows], title="Solicitudes por vista"), "Solicitudes de lectores por vista del sitio."))
    s.append(html_table(t["vistas"]))
    s.append("<h3>Por elección</h3>" + html_table(t["elecciones"]))
    s.append("<h3>Archivos</h3>" + html_table(t["archivos"]))
    s.append("<h3>Códigos de estado</h3>" + html_table(t["codigos_estado"]))
    s.append("<h3>Robots (contados aparte)</h3>" + html_table(t["robots"]))

    s.append("<h2>9. Análisis y conclusiones</h2>")
    s.append("".join(f"<p>{escape(p)}</p>" for p in data.analysis))
    if data.recommendations:
        s.append("<h3>Recomendaciones</h3><ul>" + "".join(f"<li>{escape(r)}</li>" for r in data.recommendations) + "</ul>")

    s.append("<h2>10. Metodología</h2>" + methodology(data))
    s.append("<h2>Anexo A. Cortes publicados</h2>")
    if data.events.cuts:
        s.append("<table><thead><tr><th>Corte</th><th>Publicación</th></tr></thead><tbody>" + "".join(
            f"<tr><td>{escape(c)}</td><td>{d.astimezone(tz).strftime('%d/%m/%Y %H:%M')} ({tz_label})</td></tr>"
            for d, c in data.events.cuts) + "</tbody></table>")
    else:
        s.append("<p>No se proporcionó bitácora de eventos del difusor (--events): 0 cortes registrados.</p>")
    s.append("<h2>Anexo B. Cifras con las definiciones de GoAccess</h2>" + goaccess_appendix(data))
    return (
        "<!DOCTYPE html><html lang='es-MX'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Informe técnico de difusión del PREP — {escape(data.difusor)}</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(s) + "</body></html>"
    )


def write_pdf(html: str, out: Path) -> None:
    from weasyprint import HTML

    HTML(string=html).write_pdf(str(out))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as written to CSV: text that a spreadsheet would read as a formula (it starts
    with = + - @, a tab or a carriage return) is prefixed with an apostrophe, so it stays text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; a CR in a cell is quoted
    writer.writerow([csv_cell(key) for key, _ in table.columns])
    for r in table.rows:
        writer.writerow([csv_cell(r.get(k)) for k, _ in table.columns])
    return buf.getvalue()


def table_json(table: Table) -> str:
    payload = {
        "name": table.name,
        "title": table.title,
        "columns": [{"key": k, "label": label} for k, label in table.columns],
        "rows": [{k: r.get(k) for k, _ in table.columns} for r in table.rows],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n"
