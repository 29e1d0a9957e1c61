"""The report of a compliance check, per difusor, in Spanish: HTML, PDF (WeasyPrint) and JSON.
Every file is written to a temporary name and renamed into place."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from prepcast.files import write_atomic
from prepcast.registry.checks.findings import CheckReport

_CSS = """
@page { size: letter; margin: 18mm; @bottom-right { content: "Página " counter(page);
  font-family: "DejaVu Sans", sans-serif; font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #222; }
h1 { font-size: 15pt; margin-bottom: 2pt; } .sub { color: #555; margin-top: 0; }
.veredicto { padding: 6pt 10pt; border-radius: 4pt; font-weight: bold; }
.si { background: #e5f4e8; color: #14532d; } .no { background: #fde8e8; color: #7f1d1d; }
table { border-collapse: collapse; width: 100%; margin-top: 10pt; }
th, td { border-bottom: 1px solid #ccc; padding: 4pt; text-align: left; vertical-align: top; }
td.r { white-space: nowrap; font-weight: bold; } .ok { color: #14532d; } .mal { color: #b91c1c; }
.na { color: #666; }
"""


def render_html(r: CheckReport) -> str:
    rows = []
    for f in r.findings:
        mark, cls = (("No evaluado", "na") if f.ok is None else
                     ("Cumple", "ok") if f.ok else ("No cumple", "mal"))
        fix = f"<br><strong>Qué corregir:</strong> {escape(f.corregir)}" if f.corregir else ""
        rows.append(f'<tr><td class="r {cls}">{mark}</td><td>{escape(f.titulo)}</td>'
                    f"<td>{escape(f.detalle)}{fix}</td></tr>")
    pending = (f" {len(r.not_evaluated)} requisito(s) no evaluado(s), cada uno con lo que lo "
               "impidió: el difusor no se valida mientras quede alguno sin evaluar."
               if r.not_evaluated else "")
    verdict = ((f'<p class="veredicto si">Cumple con todos los requisitos técnicos evaluados.'
                f"{pending}</p>" if pending else
                '<p class="veredicto si">Cumple con todos los requisitos técnicos.</p>')
               if r.passed else
               f'<p class="veredicto no">No cumple: {len(r.failed)} requisito(s) por '
               f"corregir.{pending}</p>")
    modo = ("releases/ y current (enlace simbólico)" if r.modo == "sftp" else
            "demonio del difusor (un archivo por corte en su buzón)" if r.modo == "daemon" else
            "plano (archivos inmutables primero; index.html y json/main.json al final)"
            if r.modo else "sin determinar")
    return (f'<!doctype html><html lang="es"><head><meta charset="utf-8">'
            f"<title>Pruebas de cumplimiento · {escape(r.nombre)}</title><style>{_CSS}</style>"
            f"</head><body><h1>Pruebas de cumplimiento del difusor {escape(r.nombre)}</h1>"
            f'<p class="sub">Identificador {escape(r.difusor)} · {r.at:%d/%m/%Y %H:%M} UTC · '
            f"modo de entrega recomendado: {escape(modo)}</p>{verdict}"
            f"<table><thead><tr><th>Resultado</th><th>Requisito</th><th>Detalle</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>\n")


def _write(path: Path, data: bytes) -> None:
    write_atomic(path, data)


def write_reports(r: CheckReport, out: Path, *, pdf: bool = True) -> list[Path]:
    """``<name>.json``, ``<name>.html`` and (with ``pdf``) ``<name>.pdf`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(r)
    written = [out / f"{r.difusor}.json", out / f"{r.difusor}.html"]
    _write(written[0], json.dumps(r.as_json(), ensure_ascii=False, indent=2).encode() + b"\n")
    _write(written[1], html.encode())
    if pdf:
        from weasyprint import HTML

        written.append(out / f"{r.difusor}.pdf")
        _write(written[2], HTML(string=html).write_pdf())
    return written
