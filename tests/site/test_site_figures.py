"""The figures on screen are the figures of the published JSON (and of the results engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from prepcast.election.rules import truncate4
from tests.site.site_package import PublishedCut
from tests.site.site_server import StaticServer
from tests.site.site_views import digits, load, open_view, routes, segment_actas

pytestmark = pytest.mark.browser


def _cifra(page: Page, campo: str) -> str:
    return digits(page.locator(f'main .cifra[data-campo="{campo}"] .valor').inner_text())


def _pct(n: int, d: int) -> str:
    return f"{truncate4(n, d)} %"


def test_entidad_figures_equal_json_and_preamble(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    ent = load(pc, pc.site.main_fields["elecciones"][0]["entidad"])
    pre = pc.cut.elections["DIP_LOC"].preamble
    open_view(page, server.url, "/DIP_LOC")
    t = ent["totales"]
    assert _cifra(page, "esperadas") == str(t["esperadas"]) == str(pre.actas_esperadas)
    assert _cifra(page, "capturadas") == str(pre.actas_capturadas)
    assert _cifra(page, "contabilizadas") == str(pre.actas_contabilizadas)
    assert _cifra(page, "participacion") == f"{pre.porcentaje_participacion_ciudadana} %"
    assert _cifra(page, "lista_nominal_contabilizadas") == str(pre.lista_nominal_actas_contabilizadas)
    extra = page.locator('main .cifra[data-campo="contabilizadas"] .extra').inner_text()
    assert extra == f"{pre.porcentaje_actas_contabilizadas} %"
    proceso = load(pc, pc.site.main_fields["proceso"])
    columnas = proceso["elecciones"][0]["columnas"]
    for i, col in enumerate(columnas):
        row = page.locator(f'main .votos tr[data-columna="{col["id"]}"] td')
        assert digits(row.nth(0).inner_text()) == str(t["votos"][i])
        assert row.nth(1).inner_text() == _pct(t["votos"][i], t["total_votos"])
    for cand in ent["candidaturas"]:
        row = page.locator(f'main .candidaturas tr[data-candidatura="{"+".join(cand["columnas"])}"]')
        assert digits(row.locator("td").nth(0).inner_text()) == str(cand["votos"])
    for amb in ent["ambitos"]:
        row = page.locator(f'main .lideres tr[data-ambito="{amb["id"]}"]')
        assert amb["lider"]["nombre"] in row.inner_text()
        assert digits(row.locator("td").nth(3).inner_text()) == str(amb["lider"]["votos"])


def test_ambito_candidatures_equal_the_engine(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    er = pc.cut.elections["DIP_LOC"]
    open_view(page, server.url, "/DIP_LOC/distrito/2")
    expected = er.votos_candidatura(2, er.ambitos[2])
    rows = page.locator("main .candidaturas tbody tr")
    assert rows.count() == len(expected)
    for i, (name, cols, votes) in enumerate(expected):
        row = rows.nth(i)
        assert row.get_attribute("data-candidatura") == "+".join(cols)
        assert name in row.inner_text()
        assert digits(row.locator("td").nth(0).inner_text()) == str(votes)
        assert row.locator("td").nth(1).inner_text() == _pct(votes, er.ambitos[2].total_votos)
    sec_rows = page.locator("main .secciones tbody tr")
    secciones = sorted(s for s, a in er.seccion_ambito.items() if a == 2)
    assert sec_rows.count() == len(secciones)
    first = er.secciones[secciones[0]]
    cells = sec_rows.nth(0).locator("td")
    assert [digits(cells.nth(i).inner_text()) for i in (0, 1, 2, 4)] == [
        str(first.esperadas), str(first.capturadas), str(first.contabilizadas), str(first.total_votos)
    ]


def test_seccion_and_acta_figures_equal_json(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    r = routes(pc)
    open_view(page, server.url, r.all["seccion"])
    sec = pc.cut.elections["DIP_LOC"].secciones[r.seccion]
    assert _cifra(page, "capturadas") == str(sec.capturadas)
    assert _cifra(page, "total_votos") == f"{sec.total_votos:,}".replace(",", "")
    assert page.locator(f'main tr[data-casilla="{r.casilla}"]').count() == 1
    proceso = load(pc, pc.site.main_fields["proceso"])
    for i, col in enumerate(proceso["elecciones"][0]["columnas"]):
        row = page.locator(f'main .votos tr[data-columna="{col["id"]}"] td')
        assert digits(row.nth(0).inner_text()) == str(sec.votos[i])
    open_view(page, server.url, r.all["casilla"])
    acta = segment_actas(pc, r.segmento)[r.casilla]

    def campo(name: str) -> str:
        return page.locator(f'main .dato[data-campo="{name}"] dd').inner_text()

    assert campo("codigo_integridad") == acta["codigo_integridad"]
    assert digits(campo("total_votos_calculado")) == str(acta["total_votos_calculado"])
    assert campo("contabilizada") == "Contabilizada"
    href = page.get_by_role("link", name="Ver la imagen del acta").get_attribute("href")
    assert href == f"{proceso['image_base_url']}/{acta['codigo_integridad']}.png"
    for i, col in enumerate(proceso["elecciones"][0]["columnas"]):
        cell = page.locator(f'main .votos-acta tr[data-columna="{col["id"]}"] td').inner_text()
        assert digits(cell) == str(acta["votos"][i])


def test_bases_list_zips_with_sha256_and_leeme(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    pc = published[1]
    bases = load(pc, pc.site.main_fields["bases"])
    open_view(page, server.url, "/bases")
    for b in bases["bases"]:
        row = page.locator(f'main tr[data-base="{b["nombre"]}"]')
        assert row.locator("code").inner_text() == b["sha256"]
        link = row.get_by_role("link", name=b["nombre"])
        with page.expect_download() as dl:
            link.click()
        assert Path(dl.value.path()).read_bytes() == (published[0] / b["ruta"]).read_bytes()
    for i, b in enumerate(bases["bases"]):
        assert page.locator("main h2").nth(i).inner_text() == f"LEEME · {b['nombre']}"
        assert page.locator("main pre.leeme").nth(i).inner_text().strip() == b["leeme"].strip()


_SIN_ACTA = {"1": "paquete no entregado", "2": "casilla no instalada",
             "3": "paquete entregado sin sobre"}


def _in_words(observaciones: str) -> str:
    """What the acta view says for the database's OBSERVACIONES (``['Sin dato', 'Ilegible']``,
    ``Sin acta(1)``, ``''``): the leyendas without list syntax, the motive in words."""
    items = re.findall(r"'([^']*)'", observaciones) if observaciones.startswith("[") else (
        [observaciones] if observaciones else [])
    items = [f"Sin acta ({_SIN_ACTA[m[1]]})" if (m := re.fullmatch(r"Sin acta\((\d)\)", i))
             else i for i in items]
    return ", ".join(items) or "Ninguna"


def test_acta_view_reads_codes_and_observaciones_in_words(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    # The page showed ['Sin dato'] (a Python list literal) and the raw code D.
    pc = published[1]
    words = {"D": "Dispositivo de apoyo", "F": "Centro de recepción y traslado fijo",
             "I": "Centro de recepción y traslado itinerante", "": "Sin dato"}
    seen: set[str] = set()
    for entry in pc.site.main_fields["elecciones"]:
        er = pc.cut.elections[entry["id"]]
        segments = load(pc, entry["entidad"])["segmentos"].values()
        actas = {k: v for path in segments for k, v in segment_actas(pc, path).items()}
        for row in er.rows:
            if row.acta is None or row.casilla is None:
                continue
            clave = row.acta.casilla_clave(15)
            acta = actas.get(clave)
            kind = (acta or {}).get("observaciones", "").startswith("[")
            key = f"{row.acta.mecanismos_traslado}/{kind}"
            if acta is None or key in seen:
                continue
            seen.add(key)
            aid = row.casilla.ambito_id(er.election.ambito)
            open_view(page, server.url, f"/{entry['id']}/{er.election.ambito.value}/{aid}/seccion/"
                                        f"{row.casilla.seccion}/casilla/{clave}")

            def campo(name: str) -> str:
                return page.locator(f'main .dato[data-campo="{name}"] dd').inner_text()

            assert campo("mecanismos_traslado") == words[acta["mecanismos_traslado"]]
            assert campo("observaciones") == _in_words(acta["observaciones"])
            assert campo("digitalizacion") in ("Escáner", "Aplicación para dispositivos móviles", "Sin dato")
    assert {k.split("/")[0] for k in seen} >= {"D", "F", "I"}
    assert any(k.endswith("True") for k in seen), "no acta with a list of observaciones"


def test_actas_not_counted_show_why(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    """Each kind of acta (counted, not counted, sin acta, fuera de catálogo) shows its
    observaciones and contabilizada as its record says."""
    pc = published[1]
    shown = set()
    for entry in pc.site.main_fields["elecciones"]:
        ent = load(pc, entry["entidad"])
        for path in ent["segmentos"].values():
            for clave, acta in segment_actas(pc, path).items():
                kind = (acta["estado"], acta["contabilizada"])
                if kind in shown:
                    continue
                shown.add(kind)
                er = pc.cut.elections[entry["id"]]
                row = next(r for r in er.rows if r.acta is not None
                           and r.acta.casilla_clave(15) == clave)  # fmt: skip
                if row.casilla is None:
                    route = f"/{entry['id']}/acta/{clave}"
                else:
                    aid = row.casilla.ambito_id(er.election.ambito)
                    route = (f"/{entry['id']}/{er.election.ambito.value}/{aid}/seccion/"
                             f"{row.casilla.seccion}/casilla/{clave}")  # fmt: skip
                open_view(page, server.url, route)
                obs = page.locator('main .dato[data-campo="observaciones"] dd').inner_text()
                assert obs == _in_words(acta["observaciones"])
                assert "[" not in obs and "'" not in obs
                contab = page.locator('main .dato[data-campo="contabilizada"] dd').inner_text()
                assert contab == {0: "No contabilizada", 1: "Contabilizada", 2: "Fuera de catálogo"}[
                    acta["contabilizada"]
                ]
    assert {("capturada", 1), ("capturada", 0), ("sin_acta", 0), ("fuera_catalogo", 2)} <= shown
