"""The report as files: one self-contained HTML page, its PDF, and every table as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from html import escape
from pathlib import Path
from typing import Any

from prepcast.analytics import _pdf
from prepcast.analytics.blocks import blocks
from prepcast.analytics.metrics import Table
from prepcast.analytics.model import ReportData

_CSS = """
@page { size: A4; margin: 18mm 14mm 18mm 14mm;
  @bottom-center { content: "Informe técnico de difusión del PREP — página " counter(page)
    " de " counter(pages); font-family: 'DejaVu Sans', sans-serif; font-size: 8pt; color: #555; } }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #222; max-width: 60em;
  margin: 0 auto; line-height: 1.4; }
h1 { color: #7a1f5c; font-size: 20pt; margin-bottom: 0; }
h2 { color: #7a1f5c; border-bottom: 2px solid #7a1f5c; padding-bottom: 2px; margin-top: 1.6em;
  break-after: avoid; }
h3 { break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; font-size: 9pt; }
table.fixed { table-layout: fixed; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3e8ef; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
.cards { display: flex; flex-wrap: wrap; gap: 6px; }
.card { border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px; min-width: 10em; }
.card b { display: block; font-size: 14pt; color: #7a1f5c; }
.note { color: #555; font-size: 9pt; }
.ok { color: #1f6f3a; font-weight: bold; } .bad { color: #a0201f; font-weight: bold; }
figure { margin: 0.5em 0 1em; break-inside: avoid; } figcaption { font-size: 9pt; color: #555; }
"""


def render_html(data: ReportData, formato: str = "prepcast") -> str:
    """The whole report as one HTML page, in the outline of ``formato`` (see :mod:`.outline`)."""
    from prepcast.analytics.outline import assemble

    parts = blocks(data)
    return (
        "<!DOCTYPE html><html lang='es-MX'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(assemble_title(formato))} — {escape(data.difusor)}</title>"
        f"<style>{_CSS}</style></head><body>" + assemble(formato, parts) + "</body></html>"
    )


def assemble_title(formato: str) -> str:
    from prepcast.analytics.outline import OUTLINES

    return OUTLINES[formato].title


def write_pdf(html: str, out: Path) -> None:
    """The informe as PDF (WeasyPrint), in this process (a report uses :class:`._pdf.PdfWorkers`)."""
    _pdf.write_pdf(html, out)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as written to CSV: text that a spreadsheet would read as a formula (it starts
    with = + - @, a tab or a carriage return) is prefixed with an apostrophe, so it stays text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; a CR in a cell is quoted
    writer.writerow([csv_cell(key) for key, _ in table.columns])
    for r in table.rows:
        writer.writerow([csv_cell(r.get(k)) for k, _ in table.columns])
    return buf.getvalue()


def table_json(table: Table) -> str:
    payload = {
        "name": table.name,
        "title": table.title,
        "columns": [{"key": k, "label": label} for k, label in table.columns],
        "rows": [{k: r.get(k) for k, _ in table.columns} for r in table.rows],
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n"
