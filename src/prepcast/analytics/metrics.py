"""The report's figures and tables, computed in SQL over ``req`` and ``sessions``.

Every table is a :class:`Table` (Spanish title and column headers, rows as dicts) so the same
object becomes an HTML table, a CSV file and a JSON file. Definitions are in ``docs/report.md``
and in the report's methodology section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prepcast.analytics._db import dicts, one, run
from prepcast.analytics.sessions import ACTIVE_WINDOW_S
from prepcast.analytics.useragents import DEVICE_LABELS
from prepcast.analytics.views import CHANNEL_LABELS, VIEW_LABELS

TOP_N = 20


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]


@dataclass
class Figures:
    """Headline figures of the period (readers only unless the name says otherwise)."""

    requests: int = 0
    human_requests: int = 0
    bot_requests: int = 0
    bytes: int = 0
    visitors: int = 0
    bot_clients: int = 0
    sessions: int = 0
    page_views: int = 0
    portal_accesses: int = 0
    views_per_session: float = 0.0
    avg_duration_s: float = 0.0
    median_duration_s: float = 0.0
    bounce_rate: float = 0.0
    single_view_sessions: int = 0
    peak_active: int = 0
    peak_active_epoch: int | None = None
    peak_minute_requests: int = 0
    peak_minute_epoch: int | None = None
    errors_5xx: int = 0
    errors_4xx: int = 0
    availability_requests: float = 1.0
    first_epoch: int | None = None
    last_epoch: int | None = None
    offset_s: int = 0
    mobile_share: float = 0.0
    mexico_share: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def build_visitors(con: Any) -> None:
    """One row per visitor (or bot client): an address and agent give one place and device."""
    run(
        con,
        """CREATE OR REPLACE TEMP TABLE visitors AS
           SELECT vid, any_value(is_bot) AS is_bot, any_value(device) AS device,
                  any_value(ua_id) AS ua_id, any_value(cc) AS cc, any_value(ent) AS ent,
                  count(*) AS requests
           FROM req GROUP BY vid""",
    )


def figures(con: Any) -> Figures:
    build_visitors(con)
    f = Figures()
    r = one(
        con,
        """SELECT count(*), count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
                  coalesce(sum(bytes), 0),
                  (SELECT count(*) FILTER (WHERE NOT is_bot) FROM visitors),
                  (SELECT count(*) FILTER (WHERE is_bot) FROM visitors),
                  count(*) FILTER (WHERE is_view AND NOT is_bot),
                  count(*) FILTER (WHERE view = 'portada' AND NOT is_bot),
                  count(*) FILTER (WHERE view = 'portal' AND is_view AND NOT is_bot),
                  count(*) FILTER (WHERE status >= 500),
                  count(*) FILTER (WHERE status BETWEEN 400 AND 499),
                  min(epoch), max(epoch), mode(off_s)
           FROM req""",
    )
    (f.requests, f.human_requests, f.bot_requests, f.bytes, f.visitors, f.bot_clients,
     f.page_views, f.portal_accesses, portal_views, f.errors_5xx, f.errors_4xx, f.first_epoch,
     f.last_epoch, off) = r  # fmt: skip
    f.extra["portal_views"] = int(portal_views or 0)
    f.offset_s = int(off or 0)
    f.availability_requests = 1.0 - (f.errors_5xx / f.requests) if f.requests else 1.0
    s = one(
        con,
        """SELECT count(*), coalesce(avg(views), 0), coalesce(avg(duration_s), 0),
                  coalesce(median(duration_s), 0), count(*) FILTER (WHERE views <= 1)
           FROM sessions""",
    )
    f.sessions, f.views_per_session, f.avg_duration_s, f.median_duration_s = (
        int(s[0]), float(s[1]), float(s[2]), float(s[3])
    )
    f.single_view_sessions = int(s[4])
    f.bounce_rate = _pct(f.single_view_sessions, f.sessions)
    run(
        con,
        f"""CREATE OR REPLACE TEMP TABLE active AS
            SELECT epoch // {ACTIVE_WINDOW_S} * {ACTIVE_WINDOW_S} AS w, count(DISTINCT vid) AS n
            FROM req WHERE NOT is_bot GROUP BY w""",
    )
    peak = one(con, "SELECT w, n FROM active ORDER BY n DESC, w LIMIT 1")
    if peak:
        f.peak_active_epoch, f.peak_active = int(peak[0]), int(peak[1])
    pm = one(
        con,
        "SELECT epoch // 60 * 60 AS m, count(*) AS n FROM req GROUP BY m ORDER BY n DESC, m LIMIT 1",
    )
    if pm:
        f.peak_minute_epoch, f.peak_minute_requests = int(pm[0]), int(pm[1])
    dev = one(
        con,
        """SELECT count(*) FILTER (WHERE device = 'mobile'), count(*) FILTER (WHERE cc = 'MX')
           FROM visitors WHERE NOT is_bot""",
    )
    f.mobile_share = _pct(dev[0], f.visitors)
    f.mexico_share = _pct(dev[1], f.visitors)
    return f


def _local(expr: str, offset_s: int) -> str:
    """SQL for a local timestamp (fixed offset) from epoch seconds ``expr``."""
    return f"make_timestamp(({expr} + {int(offset_s)})::BIGINT * 1000000)"


def tables(con: Any, fig: Figures) -> dict[str, Table]:
    off = fig.offset_s
    t: dict[str, Table] = {}

    def add(name: str, title: str, columns: list[tuple[str, str]], sql: str) -> None:
        t[name] = Table(name, title, columns, dicts(con, sql))

    add(
        "trafico_por_minuto",
        "Tráfico por minuto",
        [("minuto", "Minuto"), ("solicitudes", "Solicitudes"), ("lectores", "De lectores"),
         ("robots", "De robots"), ("errores_5xx", "Errores 5xx")],
        f"""SELECT strftime({_local("epoch // 60 * 60", off)}, '%Y-%m-%d %H:%M') AS minuto,
                   count(*) AS solicitudes, count(*) FILTER (WHERE NOT is_bot) AS lectores,
                   count(*) FILTER (WHERE is_bot) AS robots,
                   count(*) FILTER (WHERE status >= 500) AS errores_5xx
            FROM req GROUP BY epoch // 60 ORDER BY epoch // 60""",
    )
    add(
        "usuarios_activos",
        "Usuarios activos por ventana de 5 minutos",
        [("ventana", "Inicio de la ventana"), ("usuarios_activos", "Usuarios activos")],
        f"""SELECT strftime({_local("w", off)}, '%Y-%m-%d %H:%M') AS ventana, n AS usuarios_activos
            FROM active ORDER BY w""",
    )
    day = f"CAST({_local('epoch', off)} AS DATE)"
    add(
        "por_dia",
        "Accesos por día (portal principal)",
        [("fecha", "Fecha"), ("solicitudes", "Solicitudes"), ("accesos_portada", "Accesos a la portada"),
         ("vistas", "Vistas"), ("visitantes", "Visitantes únicos del día"), ("sesiones", "Sesiones iniciadas")],
        f"""WITH r AS (SELECT {day} AS d, count(*) AS solicitudes,
                              count(*) FILTER (WHERE view = 'portada' AND NOT is_bot) AS accesos_portada,
                              count(*) FILTER (WHERE is_view AND NOT is_bot) AS vistas,
                              count(DISTINCT vid) FILTER (WHERE NOT is_bot) AS visitantes
                       FROM req GROUP BY d),
                 s AS (SELECT CAST({_local('start', off)} AS DATE) AS d, count(*) AS sesiones
                       FROM sessions GROUP BY d)
            SELECT strftime(r.d, '%Y-%m-%d') AS fecha, solicitudes, accesos_portada, vistas,
                   visitantes, coalesce(sesiones, 0) AS sesiones
            FROM r LEFT JOIN s USING (d) ORDER BY r.d""",
    )
    add(
        "por_hora",
        "Accesos por hora",
        [("hora", "Hora"), ("solicitudes", "Solicitudes"), ("vistas", "Vistas"),
         ("visitantes", "Visitantes")],
        f"""SELECT strftime({_local("epoch // 3600 * 3600", off)}, '%Y-%m-%d %H:00') AS hora,
                   count(*) AS solicitudes,
                   count(*) FILTER (WHERE is_view AND NOT is_bot) AS vistas,
                   count(DISTINCT vid) FILTER (WHERE NOT is_bot) AS visitantes
            FROM req GROUP BY epoch // 3600 ORDER BY epoch // 3600""",
    )
    view_rows = dicts(
        con,
        """SELECT view, count(*) AS solicitudes, count(DISTINCT vid) AS visitantes,
                  bool_or(is_view) AS es_vista
           FROM req WHERE NOT is_bot GROUP BY view ORDER BY solicitudes DESC""",
    )
    t["vistas"] = Table(
        "vistas",
        "Vistas y consultas del sitio",
        [("vista", "Vista"), ("es_vista", "Cuenta como vista"), ("solicitudes", "Solicitudes"),
         ("visitantes", "Visitantes")],
        [{"vista": VIEW_LABELS.get(r["view"], r["view"]), "es_vista": "sí" if r["es_vista"] else "no",
          "solicitudes": r["solicitudes"], "visitantes": r["visitantes"]} for r in view_rows],
    )
    add(
        "elecciones",
        "Vistas por elección",
        [("eleccion", "Elección"), ("vistas", "Vistas"), ("visitantes", "Visitantes")],
        """SELECT d.election AS eleccion, count(*) AS vistas, count(DISTINCT vid) AS visitantes
           FROM req r JOIN dim_path d USING (path_id)
           WHERE NOT r.is_bot AND r.is_view AND d.election IS NOT NULL
           GROUP BY d.election ORDER BY vistas DESC""",
    )
    add(
        "archivos",
        f"Archivos más solicitados (primeros {TOP_N})",
        [("ruta", "Ruta"), ("solicitudes", "Solicitudes"), ("bytes", "Bytes")],
        f"""SELECT any_value(d.path) AS ruta, count(*) AS solicitudes, sum(bytes) AS bytes
            FROM req r JOIN dim_path d USING (path_id)
            GROUP BY path_id ORDER BY solicitudes DESC, ruta LIMIT {TOP_N}""",
    )
    add(
        "paginas",
        f"Páginas más visitadas (primeras {TOP_N})",
        [("pagina", "Página"), ("vista", "Vista"), ("vistas", "Vistas"), ("visitantes", "Visitantes")],
        f"""SELECT any_value(d.path) AS pagina, any_value(d.view) AS vista, count(*) AS vistas,
                   count(DISTINCT vid) AS visitantes
            FROM req r JOIN dim_path d USING (path_id) WHERE r.is_view AND NOT r.is_bot
            GROUP BY path_id ORDER BY vistas DESC, pagina LIMIT {TOP_N}""",
    )
    for row in t["paginas"].rows:
        row["vista"] = VIEW_LABELS.get(row["vista"], row["vista"])
    add(
        "paginas_portal",
        f"Páginas del portal del difusor (primeras {TOP_N})",
        [("pagina", "Página"), ("accesos", "Accesos"), ("vistas", "Vistas"),
         ("visitantes", "Visitantes")],
        f"""SELECT any_value(d.path) AS pagina, count(*) AS accesos,
                   count(*) FILTER (WHERE r.is_view) AS vistas, count(DISTINCT vid) AS visitantes
            FROM req r JOIN dim_path d USING (path_id) WHERE r.view = 'portal' AND NOT r.is_bot
            GROUP BY path_id ORDER BY accesos DESC, pagina LIMIT {TOP_N}""",
    )
    add(
        "paises",
        "Origen por país",
        [("codigo", "Código"), ("pais", "País"), ("visitantes", "Visitantes"),
         ("solicitudes", "Solicitudes")],
        """SELECT v.cc AS codigo, any_value(coalesce(c.country, v.cc)) AS pais,
                  count(*) AS visitantes, sum(requests)::BIGINT AS solicitudes
           FROM visitors v LEFT JOIN dim_country c USING (cc)
           WHERE NOT is_bot GROUP BY v.cc ORDER BY visitantes DESC, codigo""",
    )
    add(
        "entidades",
        "Origen por entidad federativa (México)",
        [("clave_inegi", "Clave INEGI"), ("entidad", "Entidad federativa"),
         ("visitantes", "Visitantes"), ("solicitudes", "Solicitudes")],
        """SELECT CASE WHEN r.ent = '' THEN '--' ELSE r.ent END AS clave_inegi,
                  any_value(coalesce(e.entidad, 'Sin entidad identificada')) AS entidad,
                  count(*) AS visitantes, sum(requests)::BIGINT AS solicitudes
           FROM visitors r LEFT JOIN dim_entidad e USING (ent)
           WHERE NOT is_bot AND cc = 'MX' GROUP BY r.ent ORDER BY visitantes DESC, clave_inegi""",
    )
    devices = dicts(
        con,
        """SELECT device, count(*) AS visitantes, sum(requests)::BIGINT AS solicitudes
           FROM visitors WHERE NOT is_bot GROUP BY device ORDER BY visitantes DESC""",
    )
    sess_dev = {r["device"]: r["n"] for r in dicts(
        con, "SELECT device, count(*) AS n FROM sessions GROUP BY device")}
    t["dispositivos"] = Table(
        "dispositivos",
        "Tipo de dispositivo",
        [("tipo", "Tipo"), ("visitantes", "Visitantes"), ("porcentaje", "% de visitantes"),
         ("sesiones", "Sesiones"), ("solicitudes", "Solicitudes")],
        [{"tipo": DEVICE_LABELS.get(r["device"], r["device"]), "visitantes": r["visitantes"],
          "porcentaje": round(_pct(r["visitantes"], fig.visitors), 2),
          "sesiones": sess_dev.get(r["device"], 0), "solicitudes": r["solicitudes"]}
         for r in devices],
    )
    add(
        "navegadores",
        "Navegadores",
        [("navegador", "Navegador"), ("visitantes", "Visitantes"), ("solicitudes", "Solicitudes")],
        """SELECT u.browser AS navegador, count(*) AS visitantes, sum(requests)::BIGINT AS solicitudes
           FROM visitors r JOIN dim_ua u USING (ua_id)
           WHERE NOT r.is_bot GROUP BY u.browser ORDER BY visitantes DESC, navegador""",
    )
    add(
        "sistemas_operativos",
        "Sistemas operativos",
        [("sistema", "Sistema operativo"), ("visitantes", "Visitantes"), ("solicitudes", "Solicitudes")],
        """SELECT u.os AS sistema, count(*) AS visitantes, sum(requests)::BIGINT AS solicitudes
           FROM visitors r JOIN dim_ua u USING (ua_id)
           WHERE NOT r.is_bot GROUP BY u.os ORDER BY visitantes DESC, sistema""",
    )
    channels = dicts(
        con,
        "SELECT channel, count(*) AS sesiones FROM sessions GROUP BY channel ORDER BY sesiones DESC",
    )
    t["canales"] = Table(
        "canales",
        "Canal de acceso (por sesión)",
        [("canal", "Canal"), ("sesiones", "Sesiones"), ("porcentaje", "% de sesiones")],
        [{"canal": CHANNEL_LABELS.get(r["channel"], r["channel"]), "sesiones": r["sesiones"],
          "porcentaje": round(_pct(r["sesiones"], fig.sessions), 2), "clave": r["channel"]}
         for r in channels],
    )
    add(
        "sitios_referentes",
        f"Sitios de procedencia (primeros {TOP_N})",
        [("sitio", "Sitio"), ("canal", "Canal"), ("sesiones", "Sesiones")],
        f"""SELECT d.ref_host AS sitio, any_value(s.channel) AS canal, count(*) AS sesiones
            FROM sessions s JOIN dim_ref d USING (ref_id) WHERE d.ref_host <> ''
            GROUP BY d.ref_host ORDER BY sesiones DESC, sitio LIMIT {TOP_N}""",
    )
    for row in t["sitios_referentes"].rows:
        row["canal"] = CHANNEL_LABELS.get(row["canal"], row["canal"])
    add(
        "codigos_estado",
        "Códigos de estado HTTP",
        [("codigo", "Código"), ("solicitudes", "Solicitudes")],
        "SELECT status AS codigo, count(*) AS solicitudes FROM req GROUP BY status ORDER BY status",
    )
    add(
        "robots",
        "Robots y clientes automáticos (contados aparte)",
        [("robot", "Robot o cliente"), ("solicitudes", "Solicitudes"), ("clientes", "Clientes distintos")],
        f"""SELECT u.bot AS robot, sum(requests)::BIGINT AS solicitudes, count(*) AS clientes
            FROM visitors r JOIN dim_ua u USING (ua_id)
            WHERE r.is_bot GROUP BY u.bot ORDER BY solicitudes DESC, robot LIMIT {TOP_N}""",
    )
    add(
        "duracion_sesiones",
        "Duración de las sesiones",
        [("rango", "Duración"), ("sesiones", "Sesiones")],
        """SELECT CASE WHEN duration_s = 0 THEN '0 s (todas sus solicitudes en el mismo segundo)'
                       WHEN duration_s < 60 THEN 'menos de 1 min'
                       WHEN duration_s < 300 THEN '1 a 5 min'
                       WHEN duration_s < 900 THEN '5 a 15 min'
                       WHEN duration_s < 1800 THEN '15 a 30 min'
                       ELSE '30 min o más' END AS rango,
                  count(*) AS sesiones, min(duration_s) AS orden
           FROM sessions GROUP BY rango ORDER BY orden""",
    )
    for row in t["duracion_sesiones"].rows:
        row.pop("orden", None)
    return t
