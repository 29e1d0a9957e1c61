"""The public list comes from the registry: ``cut build --registry`` puts every active difusor's
cleaned logo in the package, and the site shows each logo as the link to the difusor's site
(Chromium); a blocked difusor disappears from the next cut."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from prepcast.cli import main
from prepcast.registry import block, load_registry, public_list, set_status
from prepcast.registry.edit import add_difusores
from tests.site.site_server import StaticServer

LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><metadata>editor</metadata>'
        '<rect width="120" height="40" fill="{color}"/></svg>')


@pytest.fixture()
def registry(tmp_path: Path) -> Path:
    reg = tmp_path / "registry.toml"
    rows = []
    for name, nombre, color in (("el-sol", "El Sol", "#036"), ("radio-uni", "Radio Universidad",
                                                                "#a30"), ("canal-9", "Canal 9", "#090")):
        (tmp_path / f"{name}.svg").write_text(LOGO.format(color=color))
        rows.append(({"name": name, "host": "h", "user": f"u-{name}", "auth": "password",
                      "nombre": nombre, "url": f"https://prep2024.{name}.mx",
                      "logo": f"{name}.svg"}, "p", []))
    add_difusores(reg, rows, "uie", "registro")
    for name in ("el-sol", "radio-uni", "canal-9"):
        set_status(str(reg), name, "validado", "pruebas", "uie")
    for name in ("el-sol", "radio-uni"):
        set_status(str(reg), name, "activo", "lista publicada", "uie")
    return reg


def test_the_list_has_active_difusores_with_clean_logos(registry: Path) -> None:
    items = public_list(load_registry(registry))
    assert [i["id"] for i in items] == ["el-sol", "radio-uni"]      # canal-9 is only validado
    svg = base64.b64decode(items[0]["logo"].split(",", 1)[1])
    assert b"metadata" not in svg and svg.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    block(str(registry), "radio-uni", "ataque DDoS", "uie")
    assert [i["id"] for i in public_list(load_registry(registry))] == ["el-sol"]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.mark.browser
def test_the_site_shows_the_logos_as_links_and_drops_a_blocked_difusor(
        registry: Path, small_election: Path, tmp_path: Path) -> None:
    # Playwright started and stopped here (not pytest-playwright's session fixtures), so no
    # event loop stays running for the asyncio tests that come after this one
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            _logos_as_links(browser.new_page(), registry, small_election, tmp_path)
        finally:
            browser.close()


def _logos_as_links(page: Page, registry: Path, small_election: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert main(["keys", "init", "--out", str(keys)]) == 0

    def build(out: Path, at: str) -> Path:
        assert main(["cut", "build", str(small_election), "--at", at, "--keys", str(keys),
                     "--out", str(out), "--registry", str(registry),
                     "--ejercicio", "jornada"]) == 0
        return out

    def shown(pkg: Path) -> list[dict[str, object]]:
        with StaticServer(pkg) as srv:
            page.goto(f"{srv.url}index.html#/difusores")
            page.wait_for_selector('main[data-vista="difusores"]', timeout=10_000)
            links = page.locator("main .difusores li a")
            return [{"href": links.nth(i).get_attribute("href"),
                     "alt": links.nth(i).locator("img.logo").get_attribute("alt"),
                     "width": links.nth(i).locator("img.logo").evaluate("i => i.naturalWidth")}
                    for i in range(links.count())]

    first = shown(build(tmp_path / "c1", "2024-06-02T21:00"))
    assert [(x["href"], x["alt"]) for x in first] == [
        ("https://prep2024.el-sol.mx", "El Sol"), ("https://prep2024.radio-uni.mx", "Radio Universidad")]
    assert all(int(str(x["width"])) > 0 for x in first)        # the SVG is drawn
    block(str(registry), "radio-uni", "ataque DDoS", "uie")
    second = build(tmp_path / "c2", "2024-06-02T21:20")
    assert [x["href"] for x in shown(second)] == ["https://prep2024.el-sol.mx"]
    listed = json.loads(next((second / "data").glob("difusores.*.json")).read_text())
    assert [d["id"] for d in listed["difusores"]] == ["el-sol"]
