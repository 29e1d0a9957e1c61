"""The site of a national proceso: nation → entidad → distrito federal → sección → acta, every
election laid out by distrito federal, in data files and in Debian's Chromium."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from prepcast.election import ElectionDir, load_election_dir
from prepcast.election.schedule import cut_time
from prepcast.formats.read_prep_csv import read_prep_csv
from prepcast.formats.recount import recount
from prepcast.package import init_keys, load_signer, verify_package
from prepcast.package.keys import ROOT_PUB
from prepcast.publish.cut import CutBuilder
from prepcast.site import validate
from tests.site.site_package import PublishedCut, build_cut, publish
from tests.site.site_server import StaticServer
from tests.site.site_views import open_view, routes, watch_console

CUT = 30


@pytest.fixture(scope="module")
def national(national_election: Path) -> ElectionDir:
    return load_election_dir(national_election)


@pytest.fixture(scope="module")
def national_site(national: ElectionDir, tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[Path, PublishedCut]:
    root = tmp_path_factory.mktemp("natpkg")
    return root, publish(national, CUT, root)


@pytest.fixture(scope="module")
def national_server(national_site: tuple[Path, PublishedCut]) -> Iterator[StaticServer]:
    with StaticServer(national_site[0]) as srv:
        yield srv


def test_a_night_of_national_packages_verifies_and_recounts(national: ElectionDir,
                                                             tmp_path: Path) -> None:
    """Cut after cut as the night runner builds them (NightTally, the night's database and site
    writers), each package signed, verified against the last and recounted to its preamble."""

    init_keys(tmp_path / "keys")
    builder = CutBuilder(national, load_signer(tmp_path / "keys"))
    previous = None
    for n in (4, 5, 12):
        pkg = tmp_path / f"pkg{n}"
        m = builder.build(cut_time(national.proceso, n), pkg, previous=previous)
        assert verify_package(pkg, tmp_path / "keys" / ROOT_PUB, last=previous).cut == n == m.cut
        previous = m
    data = json.loads((pkg / "json" / "main.json").read_bytes())["signed"]["data"]
    bases = json.loads((pkg / data["bases"]).read_bytes())["bases"]
    assert len(bases) == 3
    for b in bases:
        with zipfile.ZipFile(io.BytesIO((pkg / b["ruta"]).read_bytes())) as z:
            name = next(x for x in z.namelist() if x.endswith("_2024.csv"))
            csv_path = tmp_path / name
            csv_path.write_bytes(z.read(name))
        r = recount(read_prep_csv(csv_path), national.proceso.profile, last_cut=False)
        assert r.rows_mismatched == 0 and r.differs_from_published() == []


def _load(pc: PublishedCut, path: str) -> Any:
    return json.loads(pc.site.files[path])


def test_files_are_valid_and_laid_out_by_distrito_federal(national: ElectionDir) -> None:
    cut, site = build_cut(national, CUT)
    problems = {p: validate(json.loads(d)) for p, d in site.files.items()
                if p.startswith("data/") and p.endswith(".json")}
    assert {p: v for p, v in problems.items() if v} == {}
    proceso = json.loads(site.files[site.main_fields["proceso"]])
    assert proceso["nacional"] is True and proceso["entidad_id"] == 0
    for e in proceso["elecciones"]:
        assert e["ambito"] == "distrito"
        assert [a["id"] for a in e["ambitos"]] == [901, 902, 1501, 1502, 1503, 2801]
    for x in site.main_fields["elecciones"]:
        nation = json.loads(site.files[x["entidad"]])
        ents = nation["entidades"]
        assert [(n["id"], n["nombre"], n["distritos"]) for n in ents] == [
            (9, "CIUDAD DE MÉXICO", [901, 902]), (15, "MÉXICO", [1501, 1502, 1503]),
            (28, "TAMAULIPAS", [2801])]
        for k in ("esperadas", "capturadas", "contabilizadas", "total_votos"):
            assert sum(n["totales"][k] for n in ents) == nation["totales"][k]
        results = cut.elections[x["id"]]
        assert nation["totales"]["esperadas"] == results.entidad.esperadas
        assert all(n["lider"] is not None for n in ents)
    # each distrito holds the candidaturas that compete there: the nation's, the entidad's, its own
    pres = next(e for e in proceso["elecciones"] if e["id"] == "PRES")
    sen = next(e for e in proceso["elecciones"] if e["id"] == "SEN")
    cat = {f"{e['id']}-{a['id']}": json.loads(site.files[a["catalogo"]])["candidaturas"]
           for e in (pres, sen) for a in e["ambitos"] if a["id"] in (901, 1501)}
    assert cat["PRES-901"] == cat["PRES-1501"] and cat["PRES-901"]
    assert cat["SEN-901"] != cat["SEN-1501"] and cat["SEN-901"]


@pytest.mark.browser
def test_nation_entidad_distrito_seccion_acta(page: Page, national_server: StaticServer,
                                               national_site: tuple[Path, PublishedCut],
                                               axe_source: Path) -> None:
    pc = national_site[1]
    errors = watch_console(page)
    open_view(page, national_server.url, "/PRES")
    page.wait_for_selector('body[data-firma="ok"]')
    _axe(page, axe_source)
    rows = page.locator("div.entidades tbody tr")
    assert rows.count() == 3
    assert "MÉXICO" in rows.nth(1).inner_text()
    rows.nth(1).locator("a").click()
    page.wait_for_selector('main[data-vista="PRES/entidad/15"]')
    assert page.locator("main h1").inner_text().endswith("MÉXICO")
    _axe(page, axe_source)
    distritos = page.locator("div.lideres tbody tr")
    assert distritos.count() == 3
    assert distritos.nth(0).inner_text().startswith("Distrito federal 1 ·")
    r = routes(pc, "PRES", ambito_id=1501)
    for name in ("ambito", "seccion", "casilla"):
        open_view(page, national_server.url, r.all[name])
        crumbs = page.locator("nav.migas li").all_inner_texts()
        assert crumbs[:2] == [
            "Presidencia de la República", "MÉXICO"], crumbs
    assert page.locator("main h1").inner_text().startswith(f"Acta · Sección {r.seccion % 10000} (MÉXICO)")
    assert page.locator('[data-campo="contabilizada"] dd, [data-campo="contabilizada"]').count() >= 1
    assert errors == []


def _axe(page: Page, axe_source: Path) -> None:
    page.add_script_tag(path=str(axe_source))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]] == []
