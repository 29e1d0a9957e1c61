"""Definitions on a handcrafted log: visitors, sessions, time on site, channels, period."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from prepcast.analytics import ReportOptions, write_report

PHONE = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36"
DESK = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
SITE = "https://prep.example.mx/"


def line(ip: str, when: str, path: str, ua: str, referer: str = SITE, status: int = 200) -> str:
    return f'{ip} - - [{when} -0600] "GET {path} HTTP/2.0" {status} 100 "{referer}" "{ua}"'


def visit(ip: str, day_time: str, ua: str, referer: str, entry: str = "/", views: int = 1, gap: int = 60) -> list[str]:
    day, hms = day_time.split(" ")
    start = datetime.strptime(f"{day} {hms}", "%d/%b/%Y %H:%M:%S")
    out = [line(ip, start.strftime("%d/%b/%Y:%H:%M:%S"), entry, ua, referer)]
    for i in range(views):
        moment = datetime.fromtimestamp(start.timestamp() + 1 + i * gap)
        out.append(line(ip, moment.strftime("%d/%b/%Y:%H:%M:%S"), f"/data/DIP/entidad.a{i}.json", ua))
    return out


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory, mmdb: Path) -> dict[str, object]:
    base = tmp_path_factory.mktemp("semantics")
    lines = []
    # One reader before and after midnight: one visitor, two sessions (gap > 30 min), GoAccess: 2.
    lines += visit("38.123.192.10", "02/Jun/2024 23:50:00", PHONE, "https://www.google.com/", views=3)
    lines += visit("38.123.192.10", "03/Jun/2024 00:40:00", PHONE, "-", views=1)
    # Same address, other browser: another visitor (from the institute's site).
    lines += visit("38.123.192.10", "02/Jun/2024 23:55:00", DESK, "https://www.ieem.org.mx/prep", views=2)
    # Embedded in a news page; social; referral.
    lines += visit("2.58.76.9", "03/Jun/2024 00:05:00", DESK, "https://news.example.com/x", entry="/?embed=1", views=1)
    lines += visit("45.7.136.4", "03/Jun/2024 00:06:00", PHONE, "https://m.facebook.com/", views=2, gap=29 * 60)
    lines += visit("1.32.232.8", "03/Jun/2024 00:07:00", DESK, "https://blog.example.org/", views=1)
    # A bot: counted apart, never a visitor.
    lines.append(line("66.249.66.1", "03/Jun/2024:00:08:00", "/", "Mozilla/5.0 (compatible; Googlebot/2.1)", "-"))
    lines.sort(key=lambda x: x.split("[")[1])
    log = base / "access.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = write_report([log], base / "out", pdf=False, geoip_db=mmdb,
                           options=ReportOptions(site_hosts=("prep.example.mx",)))
    t = {p.stem: json.loads(p.read_text()) for p in summary.out.glob("tablas/*.json")}
    t["summary"] = summary
    return t


def _rows(tables: dict[str, object], name: str) -> list[dict[str, object]]:
    return tables[name]["rows"]  # type: ignore[index,no-any-return]


def test_visitors_are_unique_over_the_whole_night(tables: dict[str, object]) -> None:
    r = tables["resumen"]
    assert r["visitors"] == 5  # type: ignore[index]
    assert r["bot_requests"] == 1 and r["bot_clients"] == 1  # type: ignore[index]
    g = tables["goaccess"]
    assert g["unique_visitors"] == 7  # type: ignore[index]  # by IP + date + UA, bot included
    per_day = {row["fecha"]: row["visitantes"] for row in _rows(tables, "por_dia")}
    assert per_day == {"2024-06-02": 2, "2024-06-03": 4}


def test_sessions_and_time_on_site(tables: dict[str, object]) -> None:
    r = tables["resumen"]
    # 6 sessions: the midnight reader has two; the facebook reader's 29-min gap keeps one.
    assert r["sessions"] == 6  # type: ignore[index]
    # Every session lasts from its first to its last request of any kind (entry page included):
    # the three single-view sessions last 1 s each.
    assert r["avg_duration_s"] == pytest.approx((121 + 61 + 1741 + 3) / 6)  # type: ignore[index]
    assert r["single_view_sessions"] == 3  # type: ignore[index]
    assert r["bounce_rate"] == pytest.approx(50.0)  # type: ignore[index]


def test_channels(tables: dict[str, object]) -> None:
    got = {row["canal"]: row["sesiones"] for row in _rows(tables, "canales")}
    assert got == {
        "Buscadores": 1, "Directo (sin referente)": 1, "Sitio del instituto": 1,
        "Incrustado en otra página": 1, "Redes sociales": 1, "Otros sitios (enlaces)": 1,
    }


def test_devices_and_places(tables: dict[str, object]) -> None:
    devices = {row["tipo"]: row["visitantes"] for row in _rows(tables, "dispositivos")}
    assert devices == {"Teléfono": 2, "Computadora": 3}
    states = {row["clave_inegi"]: row["visitantes"] for row in _rows(tables, "entidades")}
    assert states == {"15": 2, "09": 1, "01": 1}
    countries = {row["codigo"]: row["visitantes"] for row in _rows(tables, "paises")}
    assert countries == {"MX": 4, "US": 1}


def test_views(tables: dict[str, object]) -> None:
    views = {row["vista"]: row["solicitudes"] for row in _rows(tables, "vistas")}
    assert views["Entidad"] == 10 and views["Portada (entrada al sitio)"] == 6


def test_the_institutes_own_sites_are_the_institute_channel() -> None:
    from prepcast.analytics.views import classify_host

    for host in ("www.ieem.org.mx", "iem.mx", "www.iem.mx", "prep.iem.org.mx", "ine.mx"):
        assert classify_host(host, ("prep.example.mx",)) == "institute", host
    assert classify_host("noticias-iem.mx", ("prep.example.mx",)) == "referral"
