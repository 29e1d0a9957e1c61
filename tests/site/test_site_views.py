"""Every view of the site opens from a deep link in Debian's Chromium, shows the cut, passes
axe-core in the light and the dark scheme, logs no console error, and is saved as screenshots
at 360 and 1280 px in both schemes."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.site.site_package import PublishedCut
from tests.site.site_server import StaticServer
from tests.site.site_views import SCREENSHOTS, open_view, routes, watch_console

pytestmark = pytest.mark.browser

VIEWS = ["entidad", "entidad-ayun", "ambito", "seccion", "casilla", "fuera", "bases", "difusores"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("view", VIEWS)
def test_view_opens_from_deep_link(
    view: str, scheme: str, page: Page, server: StaticServer, published: tuple[Path, PublishedCut],
    axe_source: Path,
) -> None:  # fmt: skip
    pc = published[1]
    errors = watch_console(page)
    route = routes(pc).all[view]
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    open_view(page, server.url, route)
    page.wait_for_selector('body[data-firma="ok"]')
    if view == "entidad":
        page.wait_for_selector("main figure.historial[data-cortes]")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == ("rgb(18, 18, 20)" if scheme == "dark" else "rgb(255, 255, 255)")
    signed = pc.main["signed"]
    assert page.locator("#corte-numero").inner_text() == str(signed["cut"])
    assert page.locator("#corte-hora").inner_text() == signed["cut_display"]
    assert page.locator("main h1").count() == 1
    page.add_script_tag(path=str(axe_source))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    problems = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert problems == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(250)  # the history chart is drawn again for the new width
        page.screenshot(path=str(SCREENSHOTS / f"{view}-{width}-{scheme}.png"), full_page=True)
    # At 360 px nothing but the tables' own scroll boxes may overflow sideways.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 360
    assert errors == []


def test_unknown_route_says_so(page: Page, server: StaticServer) -> None:
    errors = watch_console(page)
    open_view(page, server.url, "/DIP_LOC/distrito/999")
    assert page.locator("main h1").inner_text() == "No encontrado"
    assert errors == []


def test_print_shows_figures_without_navigation(page: Page, server: StaticServer) -> None:
    open_view(page, server.url, "/DIP_LOC")
    page.emulate_media(media="print")
    assert not page.locator("#menu").is_visible()
    assert page.locator("#corte-hora").is_visible()
    assert page.locator("main .cifras").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "entidad-print.pdf"))
