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
