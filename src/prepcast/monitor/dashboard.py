"""The UIE's dashboard: every difusor's live state behind a login, a block button, a JSON API
and Prometheus ``/metrics``. It reads what ``prepcast monitor run`` writes in the state folder,
so it runs beside the monitor (own process) and survives its restarts.

Sessions are random tokens kept in memory (cookie ``HttpOnly``, ``SameSite=Strict``, ``Secure``
over TLS); every form and API write carries the session's CSRF token.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from prepcast.errors import InputError
from prepcast.monitor.auth import check_password
from prepcast.monitor.availability import availability
from prepcast.monitor.estado import block_refusal, freshness, with_registry
from prepcast.registry import Registry, block, load_registry

COOKIE = "prep_monitor"
SESSION_S = 12 * 3600
_PAGE = (Path(__file__).with_name("panel.html")).read_text(encoding="utf-8")


@dataclass
class Dashboard:
    state: Path
    registry: Path
    users: dict[str, str]
    secure: bool = False
    sessions: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # token→user,csrf,t
    _avail: tuple[float, dict[str, Any]] = (0.0, {})
    _reg: tuple[tuple[int, ...], Registry | None] = ((), None)

    def user(self, request: Request) -> tuple[str, str] | None:
        token = request.cookies.get(COOKIE, "")
        s = self.sessions.get(token)
        if s is None or time.time() - s[2] > SESSION_S:
            self.sessions.pop(token, None)
            return None
        return s[0], s[1]

    def status(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = json.loads((self.state / "status.json").read_text("utf-8"))
        except (OSError, ValueError):
            doc = {"difusores": [], "round": None, "institute": None}
        avail = self.availability()
        for row in doc.get("difusores", []):
            a = avail.get(row.get("name"), {})
            row["disponibilidad_24h"] = a.get("24h")
            row["disponibilidad_mes"] = a.get("mes")
        try:
            reg: Registry | None = self.read_registry()
        except InputError:
            reg = self._reg[1]  # the last good one; the block answers why it cannot read it
        doc["difusores"] = with_registry(doc.get("difusores", []), reg)
        doc["freshness"] = freshness(doc.get("round"), datetime.now(UTC))
        return doc

    def read_registry(self) -> Registry:
        """The registry with each difusor's status, read again whenever it or its history
        changed (a block made here or with ``prepcast difusores block`` shows at once)."""
        def stamp(p: Path | None) -> int:
            try:
                return p.stat().st_mtime_ns if p is not None else 0
            except OSError:
                return 0
        key, reg = self._reg
        if reg is not None and key == (stamp(self.registry), stamp(reg.history),
                                       stamp(reg.secrets)):
            return reg
        reg = load_registry(self.registry)
        self._reg = ((stamp(self.registry), stamp(reg.history), stamp(reg.secrets)), reg)
        return reg

    def availability(self) -> dict[str, Any]:
        """Availability over 24 h and the month, recomputed at most every 30 s."""
        at, cached = self._avail
        if time.time() - at < 30:
            return cached
        now = datetime.now(UTC)
        month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        events = self.state / "events.jsonl"
        day = availability(events, start=now - timedelta(hours=24))
        mon = availability(events, start=month)
        out = {n: {"24h": day.get(n, {}).get("availability"),
                   "mes": mon.get(n, {}).get("availability")} for n in set(day) | set(mon)}
        self._avail = (time.time(), out)
        return out


def _login_page(error: str = "") -> HTMLResponse:
    msg = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(
        '<!doctype html><html lang="es-MX"><meta charset="utf-8"><title>Monitor PREP — '
        'acceso</title><main><h1>Monitor de difusores del PREP</h1>' + msg +
        '<form method="post" action="/entrar"><label>Usuario <input name="usuario" '
        'autocomplete="username" required></label><label>Contraseña <input name="contrasena" '
        'type="password" autocomplete="current-password" required></label>'
        '<button type="submit">Entrar</button></form></main></html>',
        status_code=401 if error else 200)


def app(dash: Dashboard) -> Starlette:
    async def login_form(request: Request) -> Response:
        return _login_page()

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("usuario", "")), str(form.get("contrasena", ""))
        stored = dash.users.get(name)
        if stored is None or not check_password(password, stored):
            return _login_page("Usuario o contraseña incorrectos.")
        token = secrets.token_urlsafe(32)
        dash.sessions[token] = (name, secrets.token_urlsafe(32), time.time())
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, token, max_age=SESSION_S, httponly=True, samesite="strict",
                        secure=dash.secure)
        return resp

    async def logout(request: Request) -> Response:
        who = dash.user(request)
        form = await request.form()
        if who is not None and secrets.compare_digest(str(form.get("csrf", "")), who[1]):
            dash.sessions.pop(request.cookies.get(COOKIE, ""), None)
        resp = RedirectResponse("/entrar", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    async def page(request: Request) -> Response:
        who = dash.user(request)
        if who is None:
            return RedirectResponse("/entrar", status_code=303)
        body = _PAGE.replace("{{csrf}}", html.escape(who[1])).replace(
            "{{usuario}}", html.escape(who[0]))
        return HTMLResponse(body, headers={"Cache-Control": "no-store",
                                           "Content-Security-Policy": "default-src 'self'; "
                                           "script-src 'self' 'unsafe-inline'; "
                                           "style-src 'self' 'unsafe-inline'; frame-ancestors "
                                           "'none'"})

    async def api_status(request: Request) -> Response:
        if dash.user(request) is None:
            return JSONResponse({"error": "inicie sesión"}, status_code=401)
        return JSONResponse(dash.status(), headers={"Cache-Control": "no-store"})

    async def api_block(request: Request) -> Response:
        who = dash.user(request)
        if who is None:
            return JSONResponse({"error": "inicie sesión"}, status_code=401)
        form = await request.form()
        if not secrets.compare_digest(str(form.get("csrf", "")), who[1]):
            return JSONResponse({"error": "formulario vencido; recargue la página"},
                                status_code=403)
        name, why = str(form.get("difusor", "")), str(form.get("motivo", "")).strip()
        if not why:
            return JSONResponse({"error": "escriba el motivo del bloqueo"}, status_code=400)
        # the registry's refusals said in Spanish (the CLI keeps the English originals)
        try:
            reg = dash.read_registry()
        except InputError as exc:
            return JSONResponse({"error": f"no se pudo leer el registro {dash.registry} "
                                          f"(original: «{exc}»)"}, status_code=500)
        refusal = block_refusal(reg, name)
        if refusal is not None:
            return JSONResponse({"error": refusal}, status_code=400)
        try:
            event = block(reg, name, why, by=who[0])
        except InputError as exc:
            return JSONResponse({"error": f"el registro no aceptó el bloqueo de {name} "
                                          f"(original: «{exc}»)"}, status_code=400)
        return JSONResponse({"bloqueado": name, "motivo": why, "por": who[0],
                             "cuando": event.at.isoformat(), "status": "bloqueado"})

    async def metrics(request: Request) -> Response:
        reg = CollectorRegistry()
        reg.register(_Collector(dash))
        return Response(generate_latest(reg), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[
        Route("/", page), Route("/entrar", login_form), Route("/entrar", login, methods=["POST"]),
        Route("/salir", logout, methods=["POST"]), Route("/api/estado", api_status),
        Route("/api/bloquear", api_block, methods=["POST"]), Route("/metrics", metrics)])


class _Collector:
    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash

    def collect(self) -> Any:
        doc = self.dash.status()
        rows = doc.get("difusores", [])
        gauges = {
            "up": GaugeMetricFamily("prep_difusor_up", "1 when the site served the PREP",
                                    labels=["difusor"]),
            "cut": GaugeMetricFamily("prep_difusor_cut", "cut number shown", labels=["difusor"]),
            "lag_cuts": GaugeMetricFamily("prep_difusor_lag_cuts", "cuts behind the institute",
                                          labels=["difusor"]),
            "lag_s": GaugeMetricFamily("prep_difusor_lag_seconds",
                                       "seconds since the cut it should show was published",
                                       labels=["difusor"]),
            "findings": GaugeMetricFamily("prep_difusor_integrity_findings",
                                          "integrity findings in the last round",
                                          labels=["difusor"]),
            "latency_ms": GaugeMetricFamily("prep_difusor_latency_seconds",
                                            "answer time of json/main.json", labels=["difusor"]),
            "tls_days": GaugeMetricFamily("prep_difusor_tls_days_left",
                                          "days until the certificate expires",
                                          labels=["difusor"]),
            "incidents": GaugeMetricFamily("prep_difusor_open_incidents", "open incidents",
                                           labels=["difusor"]),
        }
        for r in rows:
            if r.get("probed") is False:  # blocked, no longer watched: nothing measured
                continue
            n = str(r.get("name"))
            integ = r.get("integrity")
            values = {"up": 1.0 if r.get("up") else 0.0, "cut": r.get("cut"),
                      "lag_cuts": r.get("lag_cuts"), "lag_s": r.get("lag_s"),
                      "findings": 0.0 if integ == "ok" else float(len(integ or [])),
                      "latency_ms": (r["latency_ms"] / 1000 if r.get("latency_ms") is not None
                                     else None),
                      "tls_days": r.get("tls_days"),
                      "incidents": float(len(r.get("incidents") or []))}
            for key, value in values.items():
                if value is not None:
                    gauges[key].add_metric([n], float(value))
        yield from gauges.values()
        age = doc["freshness"]["age_s"]
        if age is not None:
            yield GaugeMetricFamily("prep_monitor_round_age_seconds",
                                    "seconds since the monitor's last round", value=float(age))
