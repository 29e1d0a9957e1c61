"""The report's fixed-text sections: methodology and the GoAccess appendix (Spanish)."""

from __future__ import annotations

from html import escape

from prepcast.analytics.analysis import n
from prepcast.analytics.html_parts import colgroup
from prepcast.analytics.model import ReportData
from prepcast.analytics.outages import EXPECTED_MIN, SILENCE_MIN_S
from prepcast.analytics.sessions import ACTIVE_WINDOW_S, SESSION_GAP_S
from prepcast.analytics.views import CHANNEL_LABELS, PORTAL_VIEW, SERVICE_VIEW, VIEW_RULES

_FORMATS = {
    "combined": "nginx/Apache combinado",
    "vcombined": "nginx/Apache combinado con sitio virtual",
    "json": "JSON por línea",
    "cloudfront": "CloudFront estándar",
}


def methodology(data: ReportData) -> str:
    p = data.parse
    files = "".join(
        f"<li>{escape(f.path.name)}: formato {escape(_FORMATS.get(f.format, f.format))}</li>"
        for f in p.files
    )
    rules = "".join(
        f"<tr><td><code>{escape(r.pattern)}</code></td><td>{escape(r.label)}</td>"
        f"<td>{'sí' if r.page_view else 'no'}</td></tr>"
        for r in VIEW_RULES
    ) + "".join(
        f"<tr><td><code>{escape(r.pattern)}</code> (toda la ruta)</td><td>{escape(r.label)}</td>"
        f"<td>{'sí' if r.page_view else 'no'}</td></tr>"
        for r in (SERVICE_VIEW, PORTAL_VIEW)
    )
    e = data.enrichment
    site = (f"El sitio de resultados está en <code>{escape(e.site_root)}</code>, donde se consulta "
            "<code>json/main.json</code>." if e.site_root_found else
            "Ninguna solicitud de <code>json/main.json</code>: se supuso el sitio de resultados en "
            "<code>/</code>.")
    channels = ", ".join(f"{escape(v)}" for k, v in CHANNEL_LABELS.items() if k != "internal")
    hosts = ", ".join(data.enrichment.site_hosts) or "no identificado"
    return f"""
<p><b>Fuentes.</b> {n(p.lines)} líneas de {len(p.files)} bitácora(s) de acceso del servidor web
({n(p.malformed)} malformadas, excluidas y contadas aparte):</p><ul>{files}</ul>
<p>{escape(data.period_note)}</p>
<p><b>Solicitud.</b> Cada línea válida de la bitácora. <b>Robots</b>: clientes cuyo agente de usuario
corresponde a rastreadores, monitores o programas (o que no envían agente); se cuentan aparte y no
entran en visitantes, sesiones, vistas, dispositivos ni canales.</p>
<p><b>Visitante.</b> Combinación de dirección IP y agente de usuario, transformada con una función
hash con sal aleatoria (ninguna dirección IP aparece en el informe). Un visitante es único en todo el
periodo analizado, no por día: quien lee antes y después de la medianoche cuenta una vez. Los
visitantes únicos por día se muestran aparte.</p>
<p><b>Sesión.</b> Solicitudes de cualquier tipo de un mismo visitante sin pausas mayores de
{SESSION_GAP_S // 60} minutos. <b>Periodo de permanencia</b> (duración de la sesión): de su primera
a su última solicitud de cualquier tipo: páginas del portal, documentos, datos, recursos y las
consultas periódicas de <code>json/main.json</code>, porque una página de resultados abierta que
consulta el corte vigente es un lector que sigue ahí.
<b>Tasa de rebote</b>: proporción de sesiones con una vista o ninguna. <b>Vistas por sesión</b>:
vistas entre sesiones.</p>
<p><b>Usuarios activos.</b> Visitantes distintos con al menos una solicitud en cada ventana de
{ACTIVE_WINDOW_S // 60} minutos; se informa el máximo.</p>
<p><b>Vistas (páginas consultadas).</b> Una vista es un documento HTML del portal del difusor
(cualquiera salvo el <code>index.html</code> del propio sitio de resultados) o una vista del sitio de
resultados: el archivo de resultados que abre una entidad, un ámbito, una sección o un acta (no las
consultas del corte vigente, ni los catálogos, ni los recursos). Solo cuentan respuestas menores
de 400. {site} El sitio de resultados es una aplicación de una sola página: cada pantalla se arma
con archivos de datos, así que la bitácora muestra qué datos se leyeron. Cada ruta se asigna con
esta tabla (primera regla que coincide; las del sitio, sobre la ruta dentro de su carpeta):</p>
<table class='fixed'>{colgroup((45, 38, 17))}<thead><tr><th>Patrón de la ruta</th><th>Vista</th><th>Cuenta como vista</th></tr></thead>
<tbody>{rules}</tbody></table>
<p>El sitio conserva lo que ya leyó durante la visita: volver a una vista ya vista, o pasar de un
ámbito a sus secciones y casillas (que se dibujan con los mismos archivos), no genera solicitudes;
las vistas cuentan las pantallas que necesitaron datos nuevos y son un mínimo de las consultadas.</p>
<p>Los accesos a la portada son las solicitudes del documento de entrada (<code>/</code>); las
consultas de <code>json/main.json</code> indican cuándo el sitio revisó si había un corte nuevo.</p>
<p><b>Canal de acceso.</b> Se asigna a cada sesión según el sitio de procedencia (encabezado
Referer) de su primera solicitud externa: {channels}. El propio sitio ({escape(hosts)}) es
navegación interna. Una entrada a la portada con <code>embed</code> en la ruta o en la consulta y
procedencia externa se considera incrustada en otra página.</p>
<p><b>Origen.</b> {escape(data.geo_source)} Cada dirección distinta se consulta una vez. Las entidades
se identifican con su nombre y clave del INEGI a partir de la subdivisión que da la base de datos.</p>
<p><b>Dispositivo, navegador y sistema.</b> Por el agente de usuario, una vez por valor distinto.</p>
<p><b>Disponibilidad.</b> Por solicitudes: 1 − (respuestas 5xx ÷ solicitudes). Por sondas del
monitoreo del instituto, cuando la bitácora de eventos las incluye: sondas exitosas ÷ sondas. La
meta es 99.9 %.</p>
<p><b>Incidencias.</b> De la bitácora de eventos del servicio del difusor (activaciones fallidas o
tardías, verificaciones fallidas, reinicios), de las sondas fallidas del instituto (cada racha es
una interrupción hasta la siguiente sonda exitosa), del registro manual del responsable técnico,
de los minutos en que al menos 5 % de las solicitudes (y no menos de 5) recibieron un error 5xx, y
de los silencios de la bitácora durante la publicación: un servidor caído no escribe en su
bitácora, así que una pausa de al menos {SILENCE_MIN_S // 60} minutos en la que el tráfico promedio
anticipaba al menos {EXPECTED_MIN} solicitudes se señala como posible interrupción.</p>
<p><b>Horarios.</b> Se muestran en UTC{data.figures.offset_s / 3600:+g}: el desfase indicado para el
informe (el del periodo solicitado) o, si no se indicó, el más frecuente de las bitácoras; el
formato de fecha es día/mes/año.</p>
"""


def goaccess_appendix(data: ReportData) -> str:
    g = data.goaccess
    rows = [
        ("Solicitudes totales (líneas)", g.total_requests),
        ("Solicitudes válidas", g.valid_requests),
        ("Solicitudes fallidas (no interpretables)", g.failed_requests),
        ("Visitantes únicos (IP + fecha + agente, sin 4xx, robots incluidos)", g.unique_visitors),
        ("Archivos distintos solicitados", g.unique_files),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td class='num'>{n(v)}</td></tr>" for k, v in rows)
    days = "".join(
        f"<tr><td>{d[6:8]}/{d[4:6]}/{d[0:4]}</td><td class='num'>{n(v)}</td></tr>"
        for d, v in sorted(g.visitors_per_day.items())
    )
    countries = "".join(
        f"<tr><td>{escape(c)}</td><td class='num'>{n(v)}</td></tr>"
        for c, v in sorted(g.countries.items(), key=lambda kv: -kv[1])[:15]
    )
    return f"""
<p>GoAccess es la herramienta que usan hoy muchos difusores. Estas cifras siguen sus definiciones
(GoAccess 1.7): un visitante único es una combinación distinta de IP, fecha del calendario y agente
de usuario, robots incluidos y respuestas 4xx excluidas; por eso una noche electoral que cruza la
medianoche cuenta dos veces a un mismo lector. Las cifras de este informe usan las definiciones de
la sección de metodología.</p>
<table class='fixed'>{colgroup((3, 1))}<thead><tr><th>Cifra</th><th>Valor</th></tr></thead><tbody>{body}</tbody></table>
<h3>Visitantes únicos por día (definición de GoAccess)</h3>
<table class='fixed'>{colgroup((1, 1))}<thead><tr><th>Fecha</th><th>Visitantes</th></tr></thead><tbody>{days}</tbody></table>
<h3>Solicitudes por país (código ISO)</h3>
<table class='fixed'>{colgroup((1, 1))}<thead><tr><th>País</th><th>Solicitudes</th></tr></thead><tbody>{countries}</tbody></table>
"""
