"""The acta segments (``prepcast.site.actas/2``): each field name written once per file, and the
acta view in Chromium showing every field of an acta read from its array of values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from prepcast.election import ElectionDir
from prepcast.election.schedule import cut_time
from prepcast.site._records import ACTA_FIELDS
from tests.site.site_package import PublishedCut, build_cut
from tests.site.site_server import StaticServer
from tests.site.site_views import load, open_view, segment_actas, watch_console


def _canonical(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_a_segment_names_each_field_once_and_each_clave_once(election: ElectionDir) -> None:
    _cut, site = build_cut(election, 15)
    segments = [p for p in site.files if "/actas/" in p]
    assert segments
    actas = 0
    for path in segments:
        text = site.files[path].decode("utf-8")
        seg = json.loads(text)
        assert seg["schema"] == "prepcast.site.actas/2"
        assert seg["campos_acta"] == list(ACTA_FIELDS)
        # the two lists of names are the only place a field name is written
        for names in (seg["campos_acta"], seg["campos_seccion"]):
            assert text.count(f":{_canonical(names)}") == 1, path
        rest = text.replace(_canonical(seg["campos_acta"]), "").replace(
            _canonical(seg["campos_seccion"]), "")
        assert [n for n in (*ACTA_FIELDS, "clave") if f'"{n}"' in rest] == [], path
        for clave, values in seg["actas"].items():
            assert isinstance(values, list) and len(values) == len(ACTA_FIELDS)
            assert text.count(f'"{clave}"') == 1, (path, clave)  # the key only, not a field
        actas += len(seg["actas"])
    # every acta the cut holds is in a segment of its election, under its clave
    p = election.proceso
    at = cut_time(p, 15)
    for eid, feed in election.feeds.items():
        registered = {a.casilla_clave(p.entidad_id) for a in feed if a.registro <= at}
        laid_out = {clave for path in segments if path.startswith(f"data/{eid}/actas/")
                    for clave in json.loads(site.files[path])["actas"]}
        assert laid_out == registered, eid
    assert actas > 100


# What the page writes for each field (app.js: num, hora, codigos, dato).
_ESTADO = {"capturada": "Capturada", "sin_acta": "Sin acta", "fuera_catalogo": "Fuera de catálogo"}
_CONTAB = {0: "No contabilizada", 1: "Contabilizada", 2: "Fuera de catálogo"}
_TRASLADO = {"D": "Dispositivo de apoyo", "F": "Centro de recepción y traslado fijo",
             "I": "Centro de recepción y traslado itinerante"}
_DIGITALIZACION = {"ESCANER": "Escáner", "MOVIL": "Aplicación para dispositivos móviles"}
_ORIGEN = {"CASILLA": "Casilla", "CATD": "Centro de Acopio y Transmisión de Datos (CATD)"}
_SIN_ACTA = {"1": "paquete no entregado", "2": "casilla no instalada",
             "3": "paquete entregado sin sobre"}
_TIPOS = {"B": "Básica", "C": "Contigua", "E": "Extraordinaria", "S": "Especial"}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _shown(text: str) -> str:
    return "Sin dato" if text == "" else text


def _num(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def _hora(iso: str) -> str:
    m = _ISO.match(iso)
    if not m:
        return iso or "Sin dato"
    zona = m[5] or ""
    if zona == "Z":
        zona = " (UTC)"
    elif zona:
        zona = f" (UTC{zona[0]}{int(zona[1:3])}{'' if zona[4:] == '00' else ':' + zona[4:]})"
    return f"{m[3]}/{m[2]}/{m[1]} {m[4]}{zona}"


def _codigos(v: str, nombres: dict[str, str]) -> str:
    return ", ".join(nombres.get(c.upper(), c) for c in re.split(r"[\s,;|]+", v.strip()) if c)


def _observaciones(v: str) -> str:
    items = re.findall(r"'([^']*)'", v) if v.startswith("[") else ([v] if v else [])
    items = [f"Sin acta ({_SIN_ACTA[m[1]]})" if (m := re.fullmatch(r"Sin acta\s*\((\d)\)", i))
             else i for i in items]
    return ", ".join(items) or "Ninguna"


def _expected(acta: dict[str, Any]) -> dict[str, str]:
    """data-campo -> the text of its <dd> in the acta view."""
    times = ("acopio", "captura", "verificacion", "registro")
    numbers = ("lista_nominal", "representantes", "total_boletas_sobrantes",
               "total_personas_votaron", "total_rep_partido_ci_votaron", "total_votos_sacados",
               "total_votos_asentado", "total_votos_calculado")
    return {
        "clave": acta["clave"],
        "estado": _ESTADO[acta["estado"]],
        "contabilizada": _CONTAB[acta["contabilizada"]],
        "observaciones": _observaciones(acta["observaciones"]),
        **{k: _num(acta[k]) for k in numbers},
        **{k: _hora(acta[k]) for k in times},
        "mecanismos_traslado": _shown(_codigos(acta["mecanismos_traslado"], _TRASLADO)),
        "origen": _shown(_codigos(acta["origen"], _ORIGEN)),
        "digitalizacion": _shown(_codigos(acta["digitalizacion"], _DIGITALIZACION)),
        "tipo_documento": _shown(acta["tipo_documento"]),
        "cotejada": {1: "Sí", 0: "No"}.get(acta["cotejada"], "Sin dato"),
        "codigo_integridad": _shown(acta["codigo_integridad"]),
    }


# Fields the view shows elsewhere than in a <dd> of their own: in the votes table, in the
# title (a casilla's sección, type, number and contigua; a clave fuera de catálogo names them),
# and the motive of a Sin acta in its observaciones.
_ELSEWHERE = {"votos", "seccion", "tipo_casilla", "id_casilla", "ext_contigua", "sin_acta_motivo"}


def _kind(acta: dict[str, Any]) -> tuple[Any, ...]:
    odd = any(isinstance(acta[k], str) for k in ACTA_FIELDS if k.startswith("total_"))
    return acta["estado"], acta["contabilizada"], odd, acta["mecanismos_traslado"] != ""


@pytest.mark.browser
def test_the_acta_view_shows_every_field_of_an_acta(
    page: Page, server: StaticServer, published: tuple[Path, PublishedCut]
) -> None:
    """One acta of each kind (counted or not, sin acta, fuera de catálogo, a total Ilegible or
    Sin dato), from a deep link: every field of its segment's array is on screen."""
    pc = published[1]
    proceso = load(pc, pc.site.main_fields["proceso"])
    errors = watch_console(page)
    kinds: set[tuple[Any, ...]] = set()
    for entry in pc.site.main_fields["elecciones"]:
        e = next(x for x in proceso["elecciones"] if x["id"] == entry["id"])
        er = pc.cut.elections[entry["id"]]
        rows = {r.acta.casilla_clave(15): r for r in er.rows if r.acta is not None}
        for path in load(pc, entry["entidad"])["segmentos"].values():
            for clave, acta in segment_actas(pc, path).items():
                if _kind(acta) in kinds:
                    continue
                kinds.add(_kind(acta))
                # every field of the segment is checked below, in one place or another
                assert set(_expected(acta)) | _ELSEWHERE == {*ACTA_FIELDS, "clave"}
                c = rows[clave].casilla
                if c is None:
                    route = f"/{e['id']}/acta/{clave}"
                    title = f"Acta · {clave} (fuera de catálogo)"
                    named = (f"{acta['seccion'] % 10_000:04d}{acta['tipo_casilla']}"
                             f"{acta['id_casilla']:02d}{acta['ext_contigua']:02d}")
                    assert clave[2:] == named
                else:
                    aid = c.ambito_id(er.election.ambito)
                    route = (f"/{e['id']}/{e['ambito']}/{aid}/seccion/{acta['seccion']}"
                             f"/casilla/{clave}")
                    ext = f" Ext. contigua {acta['ext_contigua']}" if acta["ext_contigua"] else ""
                    title = (f"Acta · Sección {acta['seccion']} · Casilla "
                             f"{_TIPOS[acta['tipo_casilla']]} {acta['id_casilla']}{ext}")
                open_view(page, server.url, route)
                assert page.locator("main h1").inner_text() == title
                shown = page.locator("main .dato").evaluate_all(
                    "ds => Object.fromEntries(ds.map(d => [d.dataset.campo, "
                    "d.querySelector('dd').textContent]))")
                assert shown == _expected(acta), route
                if acta["sin_acta_motivo"]:
                    assert _SIN_ACTA[str(acta["sin_acta_motivo"])] in shown["observaciones"]
                votos = page.locator("main .votos-acta tbody tr").evaluate_all(
                    "rs => rs.map(r => [r.dataset.columna, r.querySelector('td').textContent])")
                assert votos == [[col["id"], _num(v)] for col, v in zip(e["columnas"],
                                                                       acta["votos"], strict=True)]
    assert {k[:2] for k in kinds} >= {("capturada", 1), ("capturada", 0), ("sin_acta", 0),
                                      ("fuera_catalogo", 2)}
    assert any(k[2] for k in kinds), "no acta with a total Ilegible or Sin dato"
    assert errors == []
