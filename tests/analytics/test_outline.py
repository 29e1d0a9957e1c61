"""Each institute's outline: its headings verbatim and in order, in the HTML and in the PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prepcast.analytics import ReportOptions, ReportSummary, write_report
from prepcast.analytics.outline import headings
from prepcast.cli import main
from tests.once import made_once

IEEM_ITEMS = [
    "i. Reporte de incidencias presentadas durante la operación que hayan afectado la publicación "
    "de los resultados electorales preliminares",
    "ii. Estadísticas de visitas", "iii. Total de usuarios activos y sesiones",
    "iv. Origen de consultas", "Total de consultas", "Consultas por país/región",
    "Nacional por entidad federativa", "v. Consulta por tipo de dispositivo", "vi. Canal de acceso",
    "vii. Número de páginas consultadas",
    "viii. Páginas y accesos del portal principal del difusor del 2 al 3 de junio de 2024",
    "ix. Periodo de permanencia",
]
IEM_ITEMS = ["a) Reporte de Incidencias", "b) Estadísticas de Visitas", "c) Análisis y Conclusiones"]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, synth_log: Path, synth_events: Path,
         mmdb: Path) -> ReportSummary:
    return made_once(tmp_path_factory, "outline", lambda d: write_report(
        [synth_log], d / "informe", pdf=True, events=synth_events, geoip_db=mmdb,
        options=ReportOptions(formatos=("ieem", "iem"))))


def _in_order(text: str, wanted: list[str]) -> None:
    at = 0
    for heading in wanted:
        found = text.find(heading, at)
        assert found >= 0, heading
        at = found + len(heading)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(path).pages))


@pytest.mark.parametrize(("formato", "items"), [("ieem", IEEM_ITEMS), ("iem", IEM_ITEMS)])
def test_headings_verbatim_and_in_order(both: ReportSummary, formato: str, items: list[str]) -> None:
    _in_order("\n".join(headings(formato)), items)
    html = both.files[f"html-{formato}"].read_text(encoding="utf-8")
    found = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[234]>(.*?)</h[234]>", html)]
    from html import unescape

    found = [unescape(h) for h in found]
    _in_order("\n".join(found), headings(formato))
    assert found.index(items[-1]) < found.index("Metodología")  # the call first, extras after
    _in_order(_pdf_text(both.files[f"pdf-{formato}"]), items)


def test_the_words_the_calls_use(both: ReportSummary) -> None:
    ieem = both.files["html-ieem"].read_text(encoding="utf-8")
    iem = both.files["html-iem"].read_text(encoding="utf-8")
    assert "<h1>Informe técnico</h1>" in ieem and "<h1>Memoria técnica</h1>" in iem
    for text in (ieem, iem):
        assert "incidencias" in text.lower() and "permanencia" in text.lower()
        assert "Causa raíz" in text and "Medidas" in text and "<svg" in text


def test_cli_writes_both_outlines(tmp_path: Path, synth_log: Path, mmdb: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert main(["report", "--logs", str(synth_log), "--out", str(out), "--geoip-db", str(mmdb),
                 "--formato", "ieem,iem"]) == 0
    assert (out / "informe-ieem.html").is_file() and (out / "informe-iem.html").is_file()
    assert main(["report", "--logs", str(synth_log), "--out", str(tmp_path / "x"),
                 "--geoip-db", str(mmdb), "--formato", "ine"]) == 2
    assert "--formato" in capsys.readouterr().err and not (tmp_path / "x").exists()
