"""The informe's sentences fit their figures: no cause of "0 incidentes", one rounding."""

from __future__ import annotations

import re
from pathlib import Path

from prepcast.analytics import ReportOptions, write_report

LINE = ('38.123.{a}.{b} - - [02/Jun/2024:20:{m:02d}:{s:02d} -0600] "GET {path} HTTP/2.0" {status} 10 '
        '"-" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"\n')


def _log(tmp_path: Path) -> Path:
    """20 requests a minute for 30 minutes; one 5xx in each of 3 minutes (under the incident
    threshold of 5 a minute), so availability is 99.5 % with no incident."""
    lines = []
    for m in range(30):
        for s in range(0, 60, 3):
            path = "/" if s == 0 else "/json/main.json"
            status = 503 if m in (5, 15, 25) and s == 30 else 200
            lines.append(LINE.format(a=m, b=s, m=m, s=s, path=path, status=status))
    path = tmp_path / "access.log"
    path.write_text("".join(lines))
    return path


def test_availability_under_the_goal_without_incidents_is_worded_for_it(tmp_path: Path, mmdb: Path) -> None:
    """The recommendation said "deben atenderse las causas de los 0 incidentes" when the
    availability fell under the goal through scattered 5xx responses and no incident."""
    summary = write_report([_log(tmp_path)], tmp_path / "o", pdf=False, geoip_db=mmdb,
                           options=ReportOptions(formatos=("prepcast", "iem", "ieem")))
    assert summary.incidents == 0 and summary.availability < 99.9
    for key in ("html-prepcast", "html-iem", "html-ieem"):
        html = summary.files[key].read_text(encoding="utf-8")
        assert "0 incidentes" not in html.replace("\n", " ")
        assert "sin que se registrara ningún incidente" in html
        assert "las 3 respuestas 5xx quedaron dispersas" in html


def test_views_per_session_is_rounded_the_same_everywhere(tmp_path: Path, mmdb: Path) -> None:
    """One section said "0.26 vistas por sesión" and another "0.3 vistas por sesión"."""
    summary = write_report([_log(tmp_path)], tmp_path / "o", pdf=False, geoip_db=mmdb,
                           options=ReportOptions(formatos=("prepcast", "iem", "ieem")))
    said: set[str] = set()
    for key in ("html-prepcast", "html-iem", "html-ieem"):
        html = summary.files[key].read_text(encoding="utf-8")
        said |= set(re.findall(r"(\d+(?:\.\d+)?) (?:vistas )?por sesión", html))
    assert len(said) == 1, said
