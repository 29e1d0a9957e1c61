"""The report's files: each outline's informe (HTML, its PDF handed to a worker) and the tables
written into a staging folder beside ``--out``, and the finished report moved into place, so a
failure never leaves half a report and nothing of an earlier report stays beside the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta, timezone
from pathlib import Path

from prepcast.analytics._pdf import PdfWorkers
from prepcast.analytics.ledger import availability_table, incidents_table
from prepcast.analytics.model import ReportData
from prepcast.analytics.render import render_html, table_csv, table_json
from prepcast.errors import InputError

HTML_NAME = "informe.html"
PDF_NAME = "informe.pdf"
TABLES_DIR = "tablas"


def write_informes(
    data: ReportData, formatos: tuple[str, ...], suffixed: bool, stage: Path, out: Path,
    workers: PdfWorkers | None,
) -> dict[str, Path]:
    """Each outline's HTML into ``stage``, and its PDF handed to a worker (collected later)."""
    files: dict[str, Path] = {}
    for formato in formatos:
        html = render_html(data, formato)
        suffix = f"-{formato}" if suffixed else ""
        html_name, pdf_name = f"informe{suffix}.html", f"informe{suffix}.pdf"
        (stage / html_name).write_text(html, encoding="utf-8")
        files.setdefault("html", out / html_name)
        files[f"html-{formato}"] = out / html_name
        if workers is not None:
            workers.submit(stage / html_name, stage / pdf_name)
            files.setdefault("pdf", out / pdf_name)
            files[f"pdf-{formato}"] = out / pdf_name
    return files


def write_tables(data: ReportData, stage: Path, out: Path) -> list[Path]:
    """The informe's tables (CSV and JSON) and its figures (JSON) into ``stage``'s tables folder;
    the paths they will have in ``out``."""
    table_paths = []
    tz = timezone(timedelta(seconds=data.figures.offset_s))
    ledger = (incidents_table(data.incidents, tz), availability_table(data.figures, data.events))
    for table in (*data.tables.values(), *ledger):
        (stage / TABLES_DIR / f"{table.name}.csv").write_text(table_csv(table), encoding="utf-8")
        (stage / TABLES_DIR / f"{table.name}.json").write_text(table_json(table), encoding="utf-8")
        table_paths += [out / TABLES_DIR / f"{table.name}.csv", out / TABLES_DIR / f"{table.name}.json"]
    extra = {
        "resumen": {k: v for k, v in asdict(data.figures).items() if k != "extra"},
        "goaccess": asdict(data.goaccess),
        "lectura": {"lineas": data.parse.lines, "malformadas": data.parse.malformed,
                    "fuera_del_periodo": data.outside_period, "formatos": data.parse.by_format},
    }
    for name, payload in extra.items():
        path = stage / TABLES_DIR / f"{name}.json"
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
        table_paths.append(out / TABLES_DIR / f"{name}.json")
    return table_paths


def _owned(path: Path) -> bool:
    """Whether ``path`` (in an output folder) is something a report writes."""
    if path.name == TABLES_DIR:
        return path.is_dir()
    return path.is_file() and path.name.startswith("informe") and path.suffix in (".html", ".pdf")


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held until the block ends (in the main thread; elsewhere, as is)."""
    main = threading.current_thread() is threading.main_thread()
    held = {signal.SIGINT, signal.SIGTERM}
    if main:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if main:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def move_into_place(stage: Path, out: Path) -> None:
    """Put the finished report at ``out``: a new directory; or, over an earlier report, the whole
    folder swapped; or, in a folder with other files too, the earlier report's files replaced
    (nothing of an earlier run stays beside the new one)."""
    if not out.exists():
        os.replace(stage, out)
        return
    if not out.is_dir():
        raise InputError.at(out, "exists and is not a directory", field="--out")
    if all(_owned(p) for p in out.iterdir()):
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        with _signals_deferred():  # Ctrl-C between the two renames would lose both reports
            os.replace(out, old)
            os.replace(stage, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    for path in out.iterdir():
        if _owned(path):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    for path in stage.iterdir():
        os.replace(path, out / path.name)
