"""Compliance checks of a difusor's servers (``prepcast difusores check``).

::

    check_difusor(d, registry) -> CheckReport     check_all(difusores, registry)
    record(registry, reports)                     aspirantes that passed become validado
    write_reports(report, out_dir)                JSON, HTML and PDF in Spanish
"""

from prepcast.registry.checks.findings import CheckReport, Finding
from prepcast.registry.checks.report import render_html, write_reports
from prepcast.registry.checks.run import check_all, check_difusor, record, test_package

__all__ = ["CheckReport", "Finding", "check_all", "check_difusor", "record", "render_html",
           "test_package", "write_reports"]
