"""The definitions on a log that is not only the results site: a difusor's portal, the site in a
folder, CDN noise. Sessions, durations and page views are known by the rules of docs/report.md."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prepcast.analytics import ReportOptions, write_report

PHONE = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36"
PHONE2 = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
DESK = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
PORTAL = "https://noticias.example.mx/"
T0 = datetime(2024, 6, 2, 20, 0, 0)


def hit(ip: str, seconds: int, path: str, ua: str, referer: str = PORTAL, status: int = 200) -> str:
    when = (T0 + timedelta(seconds=seconds)).strftime("%d/%b/%Y:%H:%M:%S")
    return f'{ip} - - [{when} -0600] "GET {path} HTTP/2.0" {status} 100 "{referer}" "{ua}"'


def night() -> list[str]:
    a, b, c = "38.123.192.10", "2.58.76.9", "45.7.136.4"
    lines = [
        # Reader A: the portal's home and an article, then the results site in /prep/, left open
        # and polling json/main.json for ten minutes: one session of 602 s, 3 page views.
        hit(a, 0, "/", PHONE, "https://www.google.com/"),
        hit(a, 30, "/noticias/elecciones-2024.html", PHONE),
        hit(a, 60, "/prep/", PHONE),
        hit(a, 61, "/prep/assets/app.4f2a9c.js", PHONE),
        hit(a, 62, "/prep/json/main.json?t=1", PHONE),
        hit(a, 63, "/prep/data/proceso.000000005eed.json", PHONE),
        hit(a, 63, "/prep/data/DIP_LOC/entidad.0a1b2c.json", PHONE),
        *[hit(a, 62 + 60 * k, f"/prep/json/main.json?t={k}", PHONE) for k in range(1, 10)],
        # Reader B: a distrito view (its catalog is not a view), then after 39 minutes an opinion
        # page of the portal: two sessions, 2 s and 5 s, one page view each.
        hit(b, 3600, "/prep/", DESK, "-"),
        hit(b, 3601, "/prep/json/main.json", DESK),
        hit(b, 3602, "/prep/data/DIP_LOC/distrito/01-catalogo.0000001eef.json", DESK),
        hit(b, 3602, "/prep/data/DIP_LOC/distrito/01.0a1b2c.json", DESK),
        hit(b, 3600 + 2340, "/opinion/columna-del-domingo", DESK, "https://t.co/x"),
        hit(b, 3600 + 2345, "/favicon.ico", DESK),
        # Reader C: a page that does not exist is no page view; one session of 0 s.
        hit(c, 7200, "/wp-login.php", PHONE2, "-", status=404),
        # CDN and certificate noise: not readers.
        hit("13.32.1.1", 100, "/prep/json/main.json", "Amazon CloudFront", "-"),
        hit("13.32.1.2", 200, "/cdn-cgi/trace", "Cloudflare-Healthchecks/1.0", "-"),
        hit("66.133.109.36", 300, "/.well-known/acme-challenge/abc",
            "Mozilla/5.0 (compatible; Let's Encrypt validation server; +https://www.letsencrypt.org)", "-"),
    ]
    return sorted(lines, key=lambda x: x.split("[")[1])


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory, mmdb: Path) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("definitions")
    log = base / "access.log"
    log.write_text("\n".join(night()) + "\n", encoding="utf-8")
    summary = write_report([log], base / "out", pdf=False, geoip_db=mmdb)
    out: dict[str, Any] = {p.stem: json.loads(p.read_text()) for p in summary.out.glob("tablas/*.json")}
    out["html"] = summary.html.read_text(encoding="utf-8")
    return out


def test_sessions_durations_and_page_views_by_the_rules(result: dict[str, Any]) -> None:
    r = result["resumen"]
    assert r["visitors"] == 3
    assert r["sessions"] == 4
    assert r["page_views"] == 3 + 1 + 1
    assert r["avg_duration_s"] == pytest.approx((602 + 2 + 5 + 0) / 4)
    assert r["bot_requests"] == 3


def test_portal_pages_and_site_views_apart(result: dict[str, Any]) -> None:
    views = {row["vista"]: row["solicitudes"] for row in result["vistas"]["rows"]}
    assert views["Páginas del portal del difusor"] == 4  # the 404 page included, not as a view
    assert views["Entidad"] == 1 and views["Distrito"] == 1
    assert views["Corte vigente (json/main.json)"] == 11
    assert "/prep/" in result["html"]  # the methodology names the site's folder


def test_a_log_without_page_views_says_so_in_words(tmp_path: Path, mmdb: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("\n".join(hit("38.123.192.10", i, f"/api/v1/item{i}.json", PHONE, "-")
                             for i in range(5)) + "\n")
    summary = write_report([log], tmp_path / "out", pdf=False, geoip_db=mmdb)
    assert summary.requests == 5 and summary.page_views == 0
    html = summary.html.read_text(encoding="utf-8")
    assert "no contienen vistas de página" in html
    assert any("no page views" in w for w in summary.warnings)


def test_a_silence_in_the_publication_window_is_a_possible_outage(tmp_path: Path, mmdb: Path) -> None:
    # A request every 10 s from 20:00 to 22:00, except 21:00-21:20: the server wrote nothing.
    seconds = [s for s in range(0, 7200, 10) if not 3600 <= s < 4800]
    log = tmp_path / "access.log"
    log.write_text("\n".join(hit(f"38.123.192.{s % 200}", s, "/json/main.json", PHONE)
                             for s in seconds) + "\n")
    summary = write_report([log], tmp_path / "out", pdf=False, geoip_db=mmdb,
                           options=ReportOptions(formatos=("ieem",)))
    html = summary.html.read_text(encoding="utf-8")
    assert summary.incidents == 1
    assert "Posible interrupción" in html and "20 min" in html
    section = html[html.index("i. Reporte de incidencias"):html.index("ii. Estadísticas")]
    assert "20:59" in section  # from the last request before it, in the log's offset
