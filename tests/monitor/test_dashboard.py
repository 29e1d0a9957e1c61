"""The UIE's dashboard in Debian's Chromium: login, live update without reloading, block; its
JSON API and /metrics; what it refuses (no session, a stale CSRF token, a wrong password)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from prepcast.monitor import Monitor, MonitorOptions, ProbeSettings
from prepcast.monitor.auth import set_password
from prepcast.registry import load_registry
from tests.distribution.dist_servers import free_port, wait_port
from tests.monitor.monitor_lab import Lab, make_lab

pytestmark = [pytest.mark.server, pytest.mark.browser]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "clave-de-la-uie-2024"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("dash"), cuts=1)
    try:
        lab.advance(1, [])
        lab.add("honesto", upto=1)
        lab.add("fragil", upto=1)
        yield lab
    finally:
        lab.stop()


def one_round(opts: MonitorOptions) -> None:
    """A round in a thread of its own (Playwright's sync API holds this thread's loop)."""
    def go() -> None:
        async def r() -> None:
            mon = Monitor(opts)
            try:
                await mon.round()
            finally:
                await mon.close()
        asyncio.run(r())
    t = threading.Thread(target=go)
    t.start()
    t.join(60)


@pytest.fixture
def dashboard(lab: Lab, tmp_path: Path) -> Iterator[tuple[str, MonitorOptions]]:
    reg = lab.registry(path=tmp_path / "difusores.toml")
    users = tmp_path / "usuarios"
    set_password(users, "uie", PASSWORD)
    opts = MonitorOptions(reg, lab.trust, lab.reference, tmp_path / "state",
                          probe=ProbeSettings(round_s=0.1))
    one_round(opts)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "prepcast", "monitor", "dashboard",
                             "--state", str(opts.state), "--registry", str(reg), "--users",
                             str(users), "--listen", f"127.0.0.1:{port}"],
                            env={**os.environ, "NO_COLOR": "1"})
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}", opts
    finally:
        proc.terminate()
        proc.wait(15)


def test_login_live_update_and_block_in_chromium(lab: Lab, dashboard: tuple[str, MonitorOptions]
                                                 ) -> None:
    base, opts = dashboard
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            expect(page).to_have_url(base + "/entrar")
            page.get_by_label("Usuario").fill("uie")
            page.get_by_label("Contraseña").fill("no-es-la-clave")
            page.get_by_role("button", name="Entrar").click()
            expect(page.get_by_role("alert")).to_have_text("Usuario o contraseña incorrectos.")
            page.get_by_label("Usuario").fill("uie")
            page.get_by_label("Contraseña").fill(PASSWORD)
            page.get_by_role("button", name="Entrar").click()
            expect(page).to_have_url(base + "/")
            fragil = page.locator("tr[data-difusor='fragil']")
            expect(fragil.locator(".estado")).to_have_text("En línea")
            expect(page.locator("tr[data-difusor='honesto'] td").nth(3)).to_have_text("Íntegro")
            # the site goes down; the next round shows it without reloading the page
            lab.servers["fragil"].stop()
            try:
                one_round(opts)
                expect(fragil.locator(".estado")).to_have_text("CAÍDO", timeout=10_000)
                expect(fragil).to_contain_text("sitio caído o sin el PREP")
                expect(fragil).to_contain_text("Responsable fragil")
            finally:
                lab.servers["fragil"].start()
            page.get_by_label("Motivo para bloquear a fragil").fill("sitio caído en la jornada")
            page.get_by_role("button", name="Bloquear a fragil").click()
            expect(page.locator("#aviso")).to_have_text(
                "Bloqueado: fragil (sitio caído en la jornada)")
        finally:
            browser.close()
    reg = load_registry(opts.registry)
    fragil_d = reg.get("fragil")
    assert fragil_d is not None and fragil_d.status == "bloqueado"
    assert [d.name for d in reg.active() if d.url] == ["honesto"]


def test_api_metrics_and_refusals(dashboard: tuple[str, MonitorOptions]) -> None:
    base, _ = dashboard
    with httpx.Client(base_url=base) as c:
        assert c.get("/api/estado").status_code == 401
        bad = c.post("/entrar", data={"usuario": "uie", "contrasena": "x"})
        assert bad.status_code == 401
        ok = c.post("/entrar", data={"usuario": "uie", "contrasena": PASSWORD})
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        doc = c.get("/api/estado").json()
        assert {r["name"]: (r["up"], r["integrity"]) for r in doc["difusores"]} == {
            "honesto": (True, "ok"), "fragil": (True, "ok")}
        forged = c.post("/api/bloquear", data={"difusor": "honesto", "motivo": "x",
                                               "csrf": "otro"})
        assert forged.status_code == 403
        metrics = c.get("/metrics").text
    assert 'prep_difusor_up{difusor="honesto"} 1.0' in metrics
    assert 'prep_difusor_lag_cuts{difusor="fragil"} 0.0' in metrics
    assert 'prep_difusor_integrity_findings{difusor="honesto"} 0.0' in metrics


def login(c: httpx.Client) -> str:
    """Log in; the session's CSRF token (from the page's form)."""
    assert c.post("/entrar", data={"usuario": "uie", "contrasena": PASSWORD}).status_code == 303
    page = c.get("/").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_block_refusals_are_spanish_and_a_block_shows_at_once(
        dashboard: tuple[str, MonitorOptions]) -> None:
    """Regression: the dashboard answered a block of an unknown or already blocked difusor with
    the registry's English ("no difusor named 'nadie'", "… is bloqueado; it can move to: …"),
    and a difusor blocked from it was not shown bloqueado in /api/estado."""
    base, opts = dashboard
    with httpx.Client(base_url=base) as c:
        csrf = login(c)
        r = c.post("/api/bloquear", data={"difusor": "nadie", "motivo": "prueba", "csrf": csrf})
        assert (r.status_code, r.json()) == (
            400, {"error": "no hay ningún difusor llamado «nadie» en el registro"})
        r = c.post("/api/bloquear", data={"difusor": "fragil", "motivo": "script ajeno",
                                          "csrf": csrf})
        assert r.status_code == 200 and r.json()["status"] == "bloqueado"
        rows = {d["name"]: d for d in c.get("/api/estado").json()["difusores"]}
        assert (rows["fragil"]["status"], rows["honesto"]["status"]) == ("bloqueado", "aspirante")
        r = c.post("/api/bloquear", data={"difusor": "fragil", "motivo": "otra vez",
                                          "csrf": csrf})
        assert (r.status_code, r.json()) == (400, {"error": "fragil ya está bloqueado"})
        # the monitor's next round leaves it out; the dashboard still shows the block
        one_round(opts)
        doc = c.get("/api/estado").json()
        rows = {d["name"]: d for d in doc["difusores"]}
        assert (rows["fragil"]["status"], rows["fragil"]["probed"]) == ("bloqueado", False)
        assert rows["honesto"]["probed"] is True and doc["freshness"]["stale"] is False
        metrics = c.get("/metrics").text
    assert 'difusor="fragil"' not in metrics and 'prep_difusor_up{difusor="honesto"} 1.0' in metrics
    assert "prep_monitor_round_age_seconds" in metrics


def test_stale_rounds_are_flagged_and_a_block_shows_in_chromium(
        dashboard: tuple[str, MonitorOptions]) -> None:
    """Regression: once the monitor stopped, the page and /api/estado kept showing every
    difusor "En línea" as live, with no sign that the last round was minutes old; and a
    difusor blocked from the page was not shown bloqueado."""
    import json
    from datetime import UTC, datetime, timedelta

    base, opts = dashboard
    status = opts.state / "status.json"
    doc = json.loads(status.read_text())
    assert doc["round"]["interval_s"] == 0.1
    doc["round"]["at"] = (datetime.now(UTC) - timedelta(minutes=7)).isoformat()
    doc["round"]["interval_s"] = 30.0
    status.write_text(json.dumps(doc))
    with httpx.Client(base_url=base) as c:
        login(c)
        fresh = c.get("/api/estado").json()["freshness"]
    assert fresh["stale"] is True and fresh["limit_s"] == 90.0
    assert fresh["message"] == "sin datos recientes: la última ronda fue hace 7 min"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/entrar")
            page.get_by_label("Usuario").fill("uie")
            page.get_by_label("Contraseña").fill(PASSWORD)
            page.get_by_role("button", name="Entrar").click()
            expect(page.get_by_role("alert")).to_contain_text(
                "sin datos recientes: la última ronda fue hace 7 min")
            honesto = page.locator("tr[data-difusor='honesto']")
            expect(honesto.locator(".estado")).to_have_text("En línea (sin datos recientes)")
            one_round(opts)  # the monitor runs again: live, and said so
            expect(page.locator("#frescura")).to_contain_text("Última ronda del monitor:")
            expect(page.get_by_role("alert")).to_have_count(0)
            expect(honesto.locator(".estado")).to_have_text("En línea")
            page.get_by_label("Motivo para bloquear a fragil").fill("contenido alterado")
            page.get_by_role("button", name="Bloquear a fragil").click()
            expect(page.locator("#aviso")).to_have_text("Bloqueado: fragil (contenido alterado)")
            fragil = page.locator("tr[data-difusor='fragil']")
            expect(fragil.locator(".estado")).to_have_text("Bloqueado")
            expect(fragil.get_by_role("button")).to_have_count(0)
        finally:
            browser.close()
