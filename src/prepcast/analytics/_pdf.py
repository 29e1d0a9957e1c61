"""The informe's PDF, laid out by WeasyPrint in worker processes beside the report.

WeasyPrint lays out a document on one core (about a second of CPU for a 2-million-line informe,
after 0.3 s to import it), and only once every figure exists. :class:`PdfWorkers` starts its
workers when the report starts: each imports WeasyPrint and loads its fonts while DuckDB parses
the logs, then waits for jobs; the report hands each outline's HTML file to a worker as soon as
it is written and goes on (the other outlines, the tables, closing the database) while the PDF
is laid out, and several outlines are laid out side by side.

This file is also the worker itself (``python -I _pdf.py``): it imports nothing of prepcast, so
a worker costs a bare interpreter plus WeasyPrint. A job is one line on its standard input, the
JSON array ``[html_path, pdf_path]``; it answers one line, ``ok`` or ``error <message>``. It ignores
Ctrl-C (the report stops it) and ends when its input closes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

_WARM_UP = (
    "<!DOCTYPE html><html lang='es-MX'><head><meta charset='utf-8'><style>"
    "body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; } th { font-weight: bold; }"
    "</style></head><body><h1>Informe técnico</h1><table><tr><th>Año</th><td>0123456789 %</td>"
    "</tr></table><svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'>"
    "<text x='1' y='9' font-family='DejaVu Sans'>é</text></svg></body></html>"
)


def write_pdf(html: str, out: Path) -> None:
    """``html`` as a PDF at ``out`` (written under a temporary name, then renamed). Python's
    cyclic garbage collector is paused meanwhile: the layout makes hundreds of thousands of
    short-lived objects, and the collector's passes over them were about 15 % of the PDF's time
    (its cycles are collected once it runs again)."""
    from weasyprint import HTML

    part = out.with_name(f".{out.name}.part")
    paused = gc.isenabled()
    gc.disable()
    try:
        HTML(string=html).write_pdf(str(part))
        os.replace(part, out)
    finally:
        if paused:
            gc.enable()
        part.unlink(missing_ok=True)


class PdfError(Exception):
    """A worker could not write a PDF (the report turns it into a :class:`PrepcastError`)."""


class PdfWorkers:
    """Up to ``count`` worker processes, started at once; :meth:`submit` hands each job to the
    worker with the fewest, :meth:`finish` waits for every PDF and raises :class:`PdfError` naming
    each that failed; :meth:`stop` (always, in a ``finally``) ends whatever still runs."""

    def __init__(self, count: int) -> None:
        self._procs: list[subprocess.Popen[str]] = []
        self._jobs: list[list[Path]] = []
        # WeasyPrint's warnings go to a file, never to a pipe that could fill; closed by stop().
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        for _ in range(max(1, count)):
            self._procs.append(subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).resolve())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors,
                text=True, encoding="utf-8", start_new_session=True,
            ))
            self._jobs.append([])

    def submit(self, html_path: Path, pdf_path: Path) -> None:
        i = min(range(len(self._procs)), key=lambda k: len(self._jobs[k]))
        stdin = self._procs[i].stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # a worker that died says why in finish()
            stdin.write(json.dumps([str(html_path), str(pdf_path)]) + "\n")
            stdin.flush()
        self._jobs[i].append(pdf_path)

    def finish(self) -> None:
        failures: list[str] = []
        for proc, jobs in zip(self._procs, self._jobs, strict=True):
            out, _ = proc.communicate()
            answers = out.splitlines()
            for k, pdf in enumerate(jobs):
                answer = answers[k] if k < len(answers) else ""
                if answer != "ok":
                    reason = answer.removeprefix("error ") or self._last_error() or (
                        f"the PDF worker ended with status {proc.returncode}")
                    failures.append(f"{pdf.name}: {reason}")
        if failures:
            raise PdfError("; ".join(failures))

    @property
    def alive(self) -> int:
        """How many workers still run."""
        return sum(1 for proc in self._procs if proc.poll() is None)

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        self._errors.close()

    def _last_error(self) -> str:
        self._errors.seek(0)
        lines = [line for line in self._errors.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""


def _import_weasyprint() -> Any:
    """WeasyPrint, imported without ``ctypes.util.find_library``'s subprocesses: WeasyPrint tries
    each system library under several names, and for every name that is not a file name
    find_library runs ldconfig, gcc and ld (about 0.15 s of CPU in all). Each list also holds the
    library's file name (``libpango-1.0.so.0``, ``….dylib``), which loads directly; if none does,
    the import is done again the ordinary way."""
    import ctypes.util

    ordinary = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint
    except OSError:
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
        ctypes.util.find_library = ordinary
        import weasyprint
    finally:
        ctypes.util.find_library = ordinary
    return weasyprint


def _serve(jobs: IO[str], answers: IO[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    broken = ""
    try:
        weasyprint = _import_weasyprint()
        weasyprint.HTML(string=_WARM_UP).write_pdf()  # fonts, fontconfig, cffi's types, once
    except Exception as exc:
        broken = _why(exc)
    for line in jobs:
        try:
            html_path, pdf_path = json.loads(line)
            if broken:
                raise PdfError(broken)
            write_pdf(Path(html_path).read_text(encoding="utf-8"), Path(pdf_path))
            answers.write("ok\n")
        except Exception as exc:
            answers.write(f"error {broken or _why(exc)}\n")
        answers.flush()


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


if __name__ == "__main__":
    _serve(sys.stdin, sys.stdout)
