"""What readers come for: Mi sección, the bar charts above the votes tables, the night's
history on the entidad view, and the drill banner (in Debian's Chromium)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from prepcast.election import ElectionDir
from tests.site.site_package import PublishedCut, publish, resign_main
from tests.site.site_server import StaticServer
from tests.site.site_views import load, open_view, routes, wait_view, watch_console

pytestmark = pytest.mark.browser


def search(page: Page, text: str) -> None:
    page.get_by_role("searchbox", name="Mi sección").fill(text)
    page.get_by_role("button", name="Buscar").click()


def test_mi_seccion_opens_a_seccion_a_casilla_and_an_acta(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    r = routes(pc, ambito_id=2)
    requests: list[str] = []
    page.on("request", lambda q: requests.append(q.url))
    errors = watch_console(page)
    open_view(page, server.url, "/DIP_LOC")
    page.wait_for_timeout(200)
    assert not any("/data/secciones." in u for u in requests)  # fetched only when used
    search(page, str(r.seccion))
    wait_view(page, r.all["seccion"])
    assert any("/data/secciones." in u for u in requests)
    search(page, r.casilla)
    wait_view(page, r.all["casilla"])
    tipo_acta = load(pc, pc.site.main_fields["proceso"])["elecciones"][0]["tipo_acta"]
    open_view(page, server.url, "/bases")  # from any view, for the first election
    search(page, f"'{r.casilla}{tipo_acta}'")  # a clave de acta as the databases write it
    wait_view(page, r.all["casilla"])
    # Ayuntamientos: the same sección opens in its municipio.
    open_view(page, server.url, "/AYUN")
    search(page, str(r.seccion))
    page.wait_for_selector(f'main[data-vista^="AYUN/municipio/"][data-vista$="/seccion/{r.seccion}"]')
    assert errors == []


def test_mi_seccion_says_when_a_seccion_or_casilla_does_not_exist(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    r = routes(pc)
    open_view(page, server.url, "/DIP_LOC/distrito/1")
    search(page, "9999")
    aviso = page.locator("#buscar-aviso")
    aviso.filter(has_text="no existe").wait_for()
    assert aviso.inner_text() == "La sección 9999 no existe en Diputaciones Locales."
    assert page.url.endswith("#/DIP_LOC/distrito/1")  # without leaving the view
    bad = r.casilla[:7] + "99" + r.casilla[9:]
    search(page, bad)
    aviso.filter(has_text="casilla").wait_for()
    assert aviso.inner_text() == f"La casilla {bad} no existe en la sección {r.seccion}."
    search(page, "hola")
    assert "Escriba un número de sección" in aviso.inner_text()
    assert page.url.endswith("#/DIP_LOC/distrito/1")
    page.keyboard.press("Escape")
    field = page.get_by_role("searchbox", name="Mi sección")
    field.fill(str(r.seccion))
    field.press("Enter")  # Enter works as the button does
    wait_view(page, r.all["seccion"])


def _bars(page: Page, chart: str) -> list[tuple[str, str]]:
    rows = page.locator(f"{chart} .barra-fila")
    return [(rows.nth(i).locator(".barra-nombre").inner_text(),
             rows.nth(i).locator(".barra-cifra").inner_text()) for i in range(rows.count())]


def test_bar_charts_show_the_tables_figures_leader_first(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    open_view(page, server.url, "/DIP_LOC/distrito/1")
    chart = "main .grafica:has(+ .candidaturas)"
    bars = _bars(page, chart)
    table = page.locator("main .candidaturas tbody tr")
    rows = [(table.nth(i).locator(".nombre").inner_text(),
             table.nth(i).locator("td").nth(0).inner_text() + " · " + table.nth(i).locator("td").nth(1).inner_text())
            for i in range(table.count())]
    assert bars == rows and len(bars) >= 2
    votes = [int(b[1].split(" · ")[0].replace(",", "")) for b in bars]
    assert votes == sorted(votes, reverse=True)
    widths = page.locator(f"{chart} .barra").evaluate_all("bs => bs.map(b => b.getBoundingClientRect().width)")
    assert widths == sorted(widths, reverse=True) and widths[0] > 0
    label = page.locator(chart).get_attribute("aria-label") or ""
    assert label.startswith(f"Gráfica de votos por candidatura: encabeza {bars[0][0]} con ")
    assert bars[0][1].split(" · ")[1] in label
    # Every votes table has its chart right above it; the charts stay out of the accessibility tree
    # but for their one sentence.
    assert page.locator("main .votos").count() == page.locator("main .grafica + .votos").count() > 0
    assert page.locator("main .barra-fila[aria-hidden='true']").count() == page.locator("main .barra-fila").count()
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_entidad_shows_the_nights_history(page: Page, election: ElectionDir, tmp_path: Path) -> None:
    publish(election, 8, tmp_path / "c8")
    publish(election, 9, tmp_path / "c9", previous=tmp_path / "c8")
    pc = publish(election, 10, tmp_path / "c10", previous=tmp_path / "c9")
    hist = load(pc, pc.site.main_fields["historial"])
    assert [row[0] for row in hist["elecciones"]["DIP_LOC"]] == [8, 9, 10]
    with StaticServer(tmp_path / "c10") as srv:
        errors = watch_console(page)
        open_view(page, srv.url, "/DIP_LOC")
        fig = page.locator("main figure.historial[data-cortes='3']")
        fig.wait_for()
        label = fig.locator("[role=img]").get_attribute("aria-label") or ""
        assert label.startswith("Del corte 8 (22:20) al corte 10 (23:00), las actas contabilizadas pasaron de ")
        assert fig.locator("polyline").count() == 2 and fig.locator("circle").count() == 6
        contab = page.locator('main .cifra[data-campo="contabilizadas"] .extra').inner_text()
        assert label.split(" y la participación")[0].endswith(contab)
        assert errors == []


@pytest.mark.parametrize(("ejercicio", "banner"), [
    ("simulacro-2", "SIMULACRO — datos ficticios"),
    ("prueba-3", "PRUEBA — datos ficticios"),
    ("jornada", None),
    (None, None),  # a main.json without the field is the jornada's
])
def test_drills_and_tests_say_so_on_every_page(
    page: Page, election: ElectionDir, tmp_path: Path, ejercicio: str | None, banner: str | None
) -> None:
    pc = publish(election, 10, tmp_path / "pkg", ejercicio=ejercicio or "jornada")
    if ejercicio is None:  # an older main.json, without the field
        resign_main(pc.root, drop=("ejercicio",))
    main = json.loads((pc.root / "json" / "main.json").read_bytes())
    assert main["signed"].get("ejercicio") == ejercicio
    with StaticServer(pc.root) as srv:
        for i, route in enumerate(routes(pc).all.values()):
            open_view(page, srv.url, route)
            if i == 0 and ejercicio is not None:
                page.wait_for_selector('body[data-firma="ok"]')  # the ejercicio is the signed one
            aviso = page.locator("#ejercicio")
            if banner is None:
                assert aviso.is_hidden()
                assert "datos ficticios" not in page.locator("body").inner_text()
            else:
                assert aviso.is_visible() and aviso.inner_text() == banner
                box = aviso.bounding_box()
                assert box is not None and box["y"] == 0 and box["width"] >= 1200
                assert page.title().startswith(banner.split(" ")[0] + " · ")
