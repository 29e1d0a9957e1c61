"""The informe's PDF: laid out by WeasyPrint in worker processes, the same document as in the
report's own process; a failure is one message; data tables sized without measuring every cell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from prepcast.analytics._pdf import PdfError, PdfWorkers
from prepcast.analytics.html_parts import column_weights, html_table
from prepcast.analytics.metrics import Table
from prepcast.analytics.render import write_pdf

PAGE = (
    "<!DOCTYPE html><html lang='es-MX'><head><meta charset='utf-8'><title>{title}</title>"
    "<style>body {{ font-family: 'DejaVu Sans', sans-serif; }}</style></head><body>"
    "<h1>{title}</h1><p>Visitantes únicos: 1,234</p></body></html>"
)


def _text(path: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(path).pages))


def test_workers_write_each_pdf_as_the_report_process_would(tmp_path: Path) -> None:
    names = ["0", "1", "dos\tcon tabulador\ny salto"]  # any name a folder may have
    workers = PdfWorkers(2)
    try:
        for k, name in enumerate(names):  # more jobs than workers
            (tmp_path / f"{name}.html").write_text(PAGE.format(title=f"Informe técnico {k}"), encoding="utf-8")
            workers.submit(tmp_path / f"{name}.html", tmp_path / f"{name}.pdf")
        workers.finish()
    finally:
        workers.stop()
    write_pdf(PAGE.format(title="Informe técnico 0"), tmp_path / "here.pdf")
    assert _text(tmp_path / "0.pdf") == _text(tmp_path / "here.pdf")
    for k, name in enumerate(names):
        assert f"Informe técnico {k}" in _text(tmp_path / f"{name}.pdf")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".html") == sorted(
        [f"{name}.pdf" for name in names] + ["here.pdf"])  # no temporary name left behind


def test_a_failed_pdf_is_one_message_naming_it(tmp_path: Path) -> None:
    workers = PdfWorkers(1)
    try:
        (tmp_path / "ok.html").write_text(PAGE.format(title="Bien"), encoding="utf-8")
        workers.submit(tmp_path / "missing.html", tmp_path / "informe-ieem.pdf")
        workers.submit(tmp_path / "ok.html", tmp_path / "ok.pdf")  # the worker goes on
        with pytest.raises(PdfError, match=r"informe-ieem\.pdf: FileNotFoundError"):
            workers.finish()
    finally:
        workers.stop()
    assert not (tmp_path / "informe-ieem.pdf").exists()
    assert (tmp_path / "ok.pdf").read_bytes().startswith(b"%PDF-")


def test_stop_ends_workers_that_were_never_given_a_job() -> None:
    workers = PdfWorkers(2)
    assert workers.alive == 2
    workers.stop()
    assert workers.alive == 0


def test_columns_are_sized_by_their_text() -> None:
    table = Table("paginas", "Páginas", [("ruta", "Ruta"), ("n", "Solicitudes"), ("v", "Vista")],
                  [{"ruta": "/prep/" + "x" * 60, "n": 1_234_567, "v": True}])
    weights = column_weights(["Ruta", "Solicitudes", "Vista"], [["/prep/" + "x" * 60, "1,234,567", "sí"]])
    assert weights[0] > weights[1] > weights[2]  # long text, then the number, then "sí"
    assert weights[2] >= len("Vista")  # never narrower than a label's word
    html = html_table(table)
    widths = [float(w) for w in re.findall(r"<col style='width:([\d.]+)%'>", html)]
    assert len(widths) == 3 and abs(sum(widths) - 100) < 0.5
    assert html.startswith("<table class='fixed'><colgroup>")
