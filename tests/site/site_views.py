"""What the browser tests open: routes to every view, chosen from the published JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.site.site_package import PublishedCut

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def load(pc: PublishedCut, path: str) -> Any:
    return json.loads(pc.site.files[path])


def segment_actas(pc: PublishedCut, path: str) -> dict[str, dict[str, Any]]:
    """The actas of a segment as the page reads them: clave -> {field: value}, the clave too."""
    seg = load(pc, path)
    return {clave: {"clave": clave, **dict(zip(seg["campos_acta"], values, strict=True))}
            for clave, values in seg["actas"].items()}


@dataclass(frozen=True)
class Routes:
    eleccion: str
    ambito: str
    ambito_id: int
    seccion: int
    casilla: str
    segmento: str
    fuera: str  # clave of an acta fuera de catálogo ("" when the cut has none)

    @property
    def all(self) -> dict[str, str]:
        amb = f"/{self.eleccion}/{self.ambito}/{self.ambito_id}"
        return {
            "entidad": f"/{self.eleccion}",
            "entidad-ayun": "/AYUN",
            "ambito": amb,
            "seccion": f"{amb}/seccion/{self.seccion}",
            "casilla": f"{amb}/seccion/{self.seccion}/casilla/{self.casilla}",
            "fuera": f"/{self.eleccion}/acta/{self.fuera}",
            "bases": "/bases",
            "difusores": "/difusores",
        }


def routes(pc: PublishedCut, eleccion: str = "DIP_LOC", ambito_id: int = 1) -> Routes:
    """Routes to a captured acta of ``ambito_id`` (the first casilla with one)."""
    data = pc.site.main_fields
    proceso = load(pc, data["proceso"])
    e = next(x for x in proceso["elecciones"] if x["id"] == eleccion)
    amb = next(a for a in e["ambitos"] if a["id"] == ambito_id)
    cat = load(pc, amb["catalogo"])
    ent = load(pc, next(x["entidad"] for x in data["elecciones"] if x["id"] == eleccion))
    res = load(pc, next(a["resultados"] for a in ent["ambitos"] if a["id"] == ambito_id))
    i = next(i for i, st in enumerate(res["casillas"]) if st is not None and st[1] == 1)
    st = res["casillas"][i]
    shards = sum(1 for k in ent["segmentos"] if k.split("-")[0] == str(st[0]))
    segmento = ent["segmentos"][f"{st[0]}-{ambito_id % shards}"]
    fuera = ent["fuera_catalogo"][0]["clave"] if ent["fuera_catalogo"] else ""
    return Routes(eleccion, e["ambito"], ambito_id, cat["casillas"][i][1], cat["casillas"][i][0],
                  segmento, fuera)  # fmt: skip


def open_view(page: Page, base_url: str, route: str, *, query: str = "") -> None:
    page.goto(f"{base_url}index.html{query}#{route}")
    wait_view(page, route)


def wait_view(page: Page, route: str) -> None:
    vista = route.strip("/") or "inicio"
    page.wait_for_selector(f'main[data-vista="{vista}"]', timeout=10_000)


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions of the page, as they happen."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def digits(text: str) -> str:
    return text.replace(",", "").replace("\u00a0", " ").strip()
