"""What a report is made of (:class:`ReportData`) and what :func:`write_report` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prepcast.analytics.compat import GoAccessFigures
from prepcast.analytics.enrich import Enrichment
from prepcast.analytics.incidents import EventLog, Incident
from prepcast.analytics.metrics import Figures, Table
from prepcast.analytics.parse import ParseStats


@dataclass
class ReportData:
    difusor: str
    version: str
    generated: datetime
    parse: ParseStats
    enrichment: Enrichment
    figures: Figures
    tables: dict[str, Table]
    goaccess: GoAccessFigures
    events: EventLog
    incidents: list[Incident]
    probe_availability: float | None
    analysis: list[str]
    recommendations: list[str]
    geo_source: str
    geo_note: str
    period_note: str = ""
    outside_period: int = 0
    warnings: list[str] = field(default_factory=list)
    silences: list[Incident] = field(default_factory=list)
    # "Periodo analizado" (epoch seconds): --from/--to when given, else the logs' first and last
    period_epochs: tuple[int | None, int | None] = (None, None)


@dataclass(frozen=True)
class ReportSummary:
    """What :func:`prepcast.analytics.write_report` wrote and its headline figures."""

    out: Path
    html: Path
    pdf: Path | None
    tables: tuple[Path, ...]
    lines: int
    malformed: int
    requests: int
    visitors: int
    sessions: int
    page_views: int
    bot_requests: int
    availability: float  # request-based, percent
    incidents: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # what the reader should know (malformed lines, damaged files)
