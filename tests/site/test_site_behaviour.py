"""How the site behaves: clicking through every level, the back button, data shown as text,
a new cut appearing under the open page, and the site inside another origin's iframe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from prepcast.election import ElectionDir
from tests.site.site_package import XSS, publish
from tests.site.site_server import StaticServer
from tests.site.site_views import (
    load,
    open_view,
    routes,
    segment_actas,
    wait_view,
    watch_console,
)

pytestmark = pytest.mark.browser


def test_every_view_opens_by_clicking_and_back_returns(
    page: Page, server: StaticServer, published: tuple[Path, object]
) -> None:
    pc = published[1]
    r = routes(pc)  # type: ignore[arg-type]
    errors = watch_console(page)
    page.goto(server.url)  # no route: the first election's entidad
    wait_view(page, "inicio")
    # Keyboard: the skip link is the first stop and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "salto"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenido"
    page.locator(f'main .lideres tr[data-ambito="{r.ambito_id}"] a').click()
    wait_view(page, r.all["ambito"])
    page.get_by_role("link", name=f"Sección {r.seccion}", exact=True).click()
    wait_view(page, r.all["seccion"])
    page.locator(f'main tr[data-casilla="{r.casilla}"] a').click()
    wait_view(page, r.all["casilla"])
    assert page.locator("#corte-hora").is_visible()
    page.go_back()
    wait_view(page, r.all["seccion"])
    page.go_back()
    wait_view(page, r.all["ambito"])
    page.get_by_role("link", name="Ayuntamientos").click()
    wait_view(page, "/AYUN")
    page.get_by_role("link", name="Base de datos").click()
    wait_view(page, "/bases")
    page.get_by_role("link", name="Difusores oficiales").click()
    wait_view(page, "/difusores")
    page.go_back()
    wait_view(page, "/bases")
    assert errors == []


def test_data_is_shown_as_text_never_as_markup(page: Page, server: StaticServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors = watch_console(page)
    open_view(page, server.url, "/DIP_LOC/distrito/1")
    assert XSS in page.locator("main .candidaturas").inner_text()
    open_view(page, server.url, "/DIP_LOC")
    open_view(page, server.url, "/difusores")
    item = page.locator("main .difusores li").nth(1)
    assert item.inner_text() == XSS
    assert item.locator("a").count() == 0  # a javascript: URL is never made a link
    assert page.locator('img[src="x"]').count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []
    assert errors == []


def test_new_cut_appears_without_reload_keeping_the_view(
    page: Page, election: ElectionDir, tmp_path: Path
) -> None:
    publish(election, 10, tmp_path)
    with StaticServer(tmp_path) as srv:
        errors = watch_console(page)
        route = "/DIP_LOC/distrito/2"
        open_view(page, srv.url, route, query="?poll=1")
        page.evaluate("window.__sinRecarga = true")
        before = page.locator('main .cifra[data-campo="capturadas"] .valor').inner_text()
        new = publish(election, 14, tmp_path)
        page.wait_for_selector('main[data-corte="14"]', timeout=10_000)
        assert page.evaluate("window.__sinRecarga") is True
        assert page.url.endswith("#" + route)
        assert page.locator("#corte-numero").inner_text() == "14"
        assert page.locator("#corte-hora").inner_text() == new.main["signed"]["cut_display"]
        after = page.locator('main .cifra[data-campo="capturadas"] .valor').inner_text()
        assert after != before
        assert "Nuevo corte 14" in page.locator("#aviso").inner_text()
        assert errors == []


def test_default_poll_is_at_most_once_a_minute(page: Page, server: StaticServer) -> None:
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "json/main.json" in r.url else None)
    open_view(page, server.url, "/DIP_LOC")
    assert page.evaluate("document.body.dataset.pollSeconds") == "60"
    page.wait_for_timeout(2500)
    assert len(polls) == 1
    assert "?t=" in polls[0]  # cache-busting query string


def test_site_works_inside_a_cross_origin_iframe(
    page: Page, server: StaticServer, tmp_path: Path
) -> None:
    route = "/DIP_LOC/distrito/1"
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="es-MX"><head><title>Medio</title><link rel="icon" href="data:,"></head><body>'
        f'<iframe title="PREP" width="1000" height="800" src="{server.url}index.html#{route}">'
        "</iframe></body></html>",
        "utf-8",
    )
    with StaticServer(tmp_path) as host:
        assert host.port != server.port
        errors = watch_console(page)
        page.goto(host.url)
        frame = page.frame_locator('iframe[title="PREP"]')
        frame.locator(f'main[data-vista="{route.strip("/")}"]').wait_for(timeout=10_000)
        assert frame.locator("#corte-numero").inner_text() == "10"
        frame.get_by_role("link", name="Sección", exact=False).first.click()
        frame.locator('main[data-vista*="/seccion/"]').wait_for(timeout=10_000)
        assert errors == []


def test_acta_view_finds_its_record_when_a_cut_has_several_shards(
    page: Page, election: ElectionDir, tmp_path: Path
) -> None:
    pc = publish(election, 12, tmp_path, segment_actas=7)
    assert any(k.endswith("-2") for k in load(pc, pc.site.main_fields["elecciones"][0]["entidad"])["segmentos"])
    with StaticServer(tmp_path) as srv:
        errors = watch_console(page)
        for ambito_id in (1, 2, 3):
            r = routes(pc, ambito_id=ambito_id)
            open_view(page, srv.url, r.all["casilla"])
            dd = page.locator('main .dato[data-campo="codigo_integridad"] dd').inner_text()
            assert dd == segment_actas(pc, r.segmento)[r.casilla]["codigo_integridad"]
        assert errors == []


def test_site_works_from_a_subfolder(page: Page, published: tuple[Path, object]) -> None:
    root = published[0]
    with StaticServer(root.parent) as srv:
        errors = watch_console(page)
        page.goto(f"{srv.url}{root.name}/#/DIP_LOC/distrito/1")
        wait_view(page, "/DIP_LOC/distrito/1")
        assert page.locator("#corte-numero").inner_text() == "10"
        assert errors == []


def test_a_cut_of_another_site_version_reloads_the_page(
    page: Page, election: ElectionDir, tmp_path: Path
) -> None:
    pc = publish(election, 10, tmp_path)
    with StaticServer(tmp_path) as srv:
        open_view(page, srv.url, "/DIP_LOC", query="?poll=1")
        page.evaluate("window.__sinRecarga = true")
        main = dict(pc.main)
        main["signed"] = {**main["signed"], "cut": 11, "data": {**main["signed"]["data"], "schema": "prepcast.site/99"}}
        (tmp_path / "json" / "main.json").write_text(json.dumps(main), "utf-8")
        page.wait_for_function("window.__sinRecarga === undefined", timeout=10_000)
        page.wait_for_selector("main .error", timeout=10_000)  # this index.html cannot read it
        assert "No se pudo cargar" in page.locator("main .error").inner_text()
