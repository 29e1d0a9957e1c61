"""The whole report on a small synthetic night, checked against an independent count."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from prepcast.analytics import ReportOptions, ReportSummary, classify_user_agent, write_report
from prepcast.analytics.views import PAGE_VIEWS, VIEW_RULES
from tests.once import made_once

LINE = re.compile(r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d{3}) \S+ "([^"]*)" "([^"]*)"$')

INCIDENTS_YAML = """\
incidentes:
  - fecha: 2024-06-02
    hora: "23:10"
    duracion_min: 12
    causa_raiz: Purga de caché de la CDN tardó en propagarse
    impacto: Algunos lectores vieron el corte anterior durante 12 minutos
    medidas: Se purgó de nuevo json/main.json y se acortó el TTL
"""


@pytest.fixture(scope="module")
def report(
    tmp_path_factory: pytest.TempPathFactory, synth_log: Path, synth_events: Path, mmdb: Path
) -> ReportSummary:
    def make(base: Path) -> ReportSummary:
        incidents = base / "incidentes.yaml"
        incidents.write_text(INCIDENTS_YAML, encoding="utf-8")
        return write_report(
            [synth_log], base / "informe", pdf=True, events=synth_events, incidents=incidents,
            geoip_db=mmdb, options=ReportOptions(difusor="Periódico de Prueba"),
        )

    return made_once(tmp_path_factory, "report", make)


def _reference(log: Path) -> dict[str, int]:
    """Requests, bots, visitors, sessions and views counted in plain Python."""
    rules = [(re.compile(r.pattern), r.view) for r in VIEW_RULES]
    figures: dict[str, int] = defaultdict(int)
    views: dict[tuple[str, str], list[tuple[int, bool]]] = defaultdict(list)
    for line in log.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if not m:
            figures["malformed"] += 1
            continue
        ip, when, _, target, _status, _ref, ua = m.groups()
        figures["requests"] += 1
        if classify_user_agent(ua).is_bot:
            figures["bots"] += 1
            continue
        epoch = int(datetime.strptime(when, "%d/%b/%Y:%H:%M:%S %z").timestamp())
        path = target.split("?")[0]
        view = next((v for rx, v in rules if rx.search(path)), "otros")
        views[(ip, ua)].append((epoch, view in PAGE_VIEWS))
        figures["page_views"] += view in PAGE_VIEWS
    figures["visitors"] = len(views)
    for hits in views.values():
        hits.sort()
        figures["sessions"] += 1 + sum(1 for a, b in itertools.pairwise(hits) if b[0] - a[0] > 1800)
    return dict(figures)


def test_figures_match_an_independent_count(report: ReportSummary, synth_log: Path) -> None:
    ref = _reference(synth_log)
    assert report.lines == 30_000
    assert report.malformed == ref["malformed"] > 0
    assert report.requests == ref["requests"]
    assert report.bot_requests == ref["bots"] > 0
    assert report.visitors == ref["visitors"]
    assert report.sessions == ref["sessions"]
    assert report.page_views == ref["page_views"]


def test_html_has_every_section_in_spanish(report: ReportSummary) -> None:
    html = report.html.read_text(encoding="utf-8")
    assert "<html lang='es-MX'>" in html
    for heading in (
        "Resumen", "Incidencias", "Disponibilidad", "Estadísticas de visitas",
        "Usuarios activos y sesiones", "Origen de los visitantes", "Por entidad federativa",
        "Tipo de dispositivo", "Canal de acceso", "Páginas y vistas consultadas",
        "Análisis y conclusiones", "Recomendaciones", "Metodología", "Cortes publicados",
        "definiciones de GoAccess",
    ):
        assert heading in html, heading
    assert "IP Geolocation by DB-IP" in html
    assert "Periódico de Prueba" in html
    assert "<script" not in html and "<svg" in html  # self-contained, charts inline
    for columns in ("Fecha", "Hora", "Duración", "Causa raíz", "Impacto", "Medidas"):
        assert f"<th>{columns}</th>" in html


def test_incidents_come_from_events_yaml_and_logs(report: ReportSummary) -> None:
    html = report.html.read_text(encoding="utf-8")
    assert "Purga de caché de la CDN" in html  # YAML
    assert "El corte 10 se publicó con retraso." in html  # activation_late
    assert "no pasó la verificación" in html  # verification_failed
    assert "Reinicio tras agotarse la memoria" in html  # second daemon_started
    assert report.incidents >= 4


def test_cuts_are_marked_on_the_traffic_chart(report: ReportSummary, synth_events: Path) -> None:
    cuts = [json.loads(x) for x in synth_events.read_text().splitlines()]
    activated = [c for c in cuts if c["event"] == "activated"]
    html = report.html.read_text(encoding="utf-8")
    assert f"la publicación de los {len(activated)} cortes" in html
    assert html.count("stroke-dasharray") >= len(activated) - 10  # some fall after the log ends


def test_every_sentence_of_the_analysis_has_a_figure(report: ReportSummary) -> None:
    html = report.html.read_text(encoding="utf-8")
    section = html[html.index("9. Análisis") : html.index("10. Metodología")]
    text = re.sub(r"<[^>]+>", "\n", section)
    sentences = [s for s in re.split(r"(?<=[.;])\s+|\n", text) if len(s.strip()) > 25]
    assert len(sentences) >= 8
    for sentence in sentences:
        assert re.search(r"\d", sentence), sentence


def test_pdf_and_tables(report: ReportSummary) -> None:
    assert report.pdf is not None and report.pdf.read_bytes()[:5] == b"%PDF-"
    names = {p.name for p in report.tables}
    for table in ("entidades", "paises", "dispositivos", "canales", "vistas", "por_dia",
                  "usuarios_activos", "trafico_por_minuto", "codigos_estado", "robots"):
        assert f"{table}.csv" in names and f"{table}.json" in names
    with (report.out / "tablas" / "entidades.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["clave_inegi"] for r in rows} >= {f"{i:02d}" for i in (9, 15, 16)}
    assert next(r for r in rows if r["clave_inegi"] == "15")["entidad"] == "México"
    devices = json.loads((report.out / "tablas" / "dispositivos.json").read_text())
    share = {r["tipo"]: r["porcentaje"] for r in devices["rows"]}
    assert share["Teléfono"] > 50  # the synthetic night is mostly mobile
    channels = {r["canal"] for r in json.loads((report.out / "tablas" / "canales.json").read_text())["rows"]}
    assert {"Buscadores", "Redes sociales", "Sitio del instituto", "Incrustado en otra página",
            "Directo (sin referente)", "Otros sitios (enlaces)"} <= channels
    assert not list(report.out.parent.glob(".informe.tmp-*"))  # nothing half-written left over


def test_summary_json(report: ReportSummary) -> None:
    summary = json.loads((report.out / "tablas" / "resumen.json").read_text())
    assert summary["visitors"] == report.visitors
    assert summary["peak_active"] > 0 and summary["offset_s"] == -21600
