"""Logs in UTC (CloudFront, IIS): read, and shown at the election's offset.

The same requests written as nginx lines (the server's offset), a CloudFront log and an IIS 10
log give the same informe once the offset is chosen."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from prepcast.cli import main

UTC6 = timezone(timedelta(hours=-6))
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
FIRST = datetime(2024, 6, 3, 1, 31, tzinfo=UTC)  # 2 June 19:31 in the election's offset


def _requests() -> list[tuple[datetime, str, str, int]]:
    """(time, client, path, status): one every 2 minutes for 14 hours, from 2 June 19:31 (-06)."""
    out = []
    for i in range(0, 14 * 30):
        path = "/prep/index.html" if i % 3 == 0 else "/prep/json/main.json"
        out.append((FIRST + timedelta(minutes=2 * i), f"187.188.{i % 50}.{i % 7 + 1}", path, 200))
    return out


def _nginx(path: Path) -> Path:
    path.write_text("".join(
        f'{ip} - - [{t.astimezone(UTC6):%d/%b/%Y:%H:%M:%S %z}] "GET {p} HTTP/2.0" {s} 100 '
        f'"https://www.facebook.com/" "{UA}"\n' for t, ip, p, s in _requests()))
    return path


def _cloudfront(path: Path) -> Path:
    fields = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
              "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
              "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken")
    rows = [f"{t:%Y-%m-%d}\t{t:%H:%M:%S}\tMEX50-C1\t100\t{ip}\tGET\td1.cloudfront.net\t{p}\t{s}\t"
            f"https://www.facebook.com/\t{quote(UA)}\t-\t-\tHit\tabc==\tprep.example.mx\thttps\t"
            "300\t0.001" for t, ip, p, s in _requests()]
    path.write_text("#Version: 1.0\n#Fields: " + fields + "\n" + "\n".join(rows) + "\n")
    return path


def _iis(path: Path) -> Path:
    head = ("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
            "#Date: 2024-06-03 01:31:00\n#Fields: date time s-ip cs-method cs-uri-stem "
            "cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status "
            "sc-substatus sc-win32-status time-taken\n")
    rows = [f"{t:%Y-%m-%d %H:%M:%S} 10.0.0.5 GET {p} - 443 - {ip} {UA.replace(' ', '+')} "
            f"https://www.facebook.com/ {s} 0 0 15" for t, ip, p, s in _requests()]
    path.write_text(head + "\n".join(rows) + "\n")
    return path


def _table(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "tablas" / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _report(log: Path, out: Path, mmdb: Path, *extra: str) -> int:
    return main(["report", "--logs", str(log), "--out", str(out), "--geoip-db", str(mmdb),
                 "--formato", "ieem,iem", *extra])


@pytest.mark.parametrize("make", [_cloudfront, _iis])
def test_a_utc_log_is_shown_at_the_chosen_offset(tmp_path: Path, mmdb: Path, make: object,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A CloudFront log gave its informe in UTC: hours from 01:00, one day (3 June) where the
    night spans 2 and 3 June, so IEEM's item viii ("del 2 al 3 de junio") was wrong."""
    assert callable(make)
    log = make(tmp_path / "cdn.log")
    assert _report(_nginx(tmp_path / "access.log"), tmp_path / "nginx", mmdb) == 0
    assert _report(log, tmp_path / "utc", mmdb, "--utc-offset", "-06:00") == 0
    days = {r["fecha"]: r["solicitudes"] for r in _table(tmp_path / "utc", "por_dia")}
    assert days == {"2024-06-02": "135", "2024-06-03": "285"}
    for name in ("por_dia", "por_hora", "paginas"):
        assert _table(tmp_path / "utc", name) == _table(tmp_path / "nginx", name), name
    html = (tmp_path / "utc" / "informe-ieem.html").read_text(encoding="utf-8")
    assert "Periodo analizado: 02/06/2024 19:31 a 03/06/2024 09:29 (UTC-6)" in html
    capsys.readouterr()
    assert _report(log, tmp_path / "plain", mmdb) == 0  # no offset chosen: UTC, and said so
    assert "logs give their times in UTC" in capsys.readouterr().err
    assert [r["fecha"] for r in _table(tmp_path / "plain", "por_dia")] == ["2024-06-03"]


def test_an_iis_log_is_read(tmp_path: Path, mmdb: Path) -> None:
    """An IIS 10 log (W3C extended, space-separated) was "none of its lines is a request"."""
    assert _report(_iis(tmp_path / "u_ex240603.log"), tmp_path / "o", mmdb) == 0
    lectura = json.loads((tmp_path / "o" / "tablas" / "lectura.json").read_text())
    assert lectura["formatos"] == {"w3c": 420} and lectura["malformadas"] == 0
    devices = {r["tipo"] for r in _table(tmp_path / "o", "dispositivos")}
    assert "Teléfono" in devices  # the user agent's + read as spaces


def test_the_period_given_is_the_period_shown_and_nothing_outside_it_is_listed(
    tmp_path: Path, mmdb: Path
) -> None:
    """With --from/--to, "Periodo analizado" showed the log's own span, and an incident of the
    event log after --to was listed."""
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in (
        {"time": "2024-06-02T21:00:00-06:00", "event": "rejected", "cut": 4, "failures": ["dentro"]},
        {"time": "2024-06-04T02:00:00-06:00", "event": "rejected", "cut": 90, "failures": ["fuera"]},
    )))
    out = tmp_path / "o"
    assert _report(_cloudfront(tmp_path / "cdn.log"), out, mmdb, "--events", str(events),
                   "--from", "2024-06-02T18:00-06:00", "--to", "2024-06-04T00:00-06:00") == 0
    html = (out / "informe-iem.html").read_text(encoding="utf-8")
    assert "Periodo analizado: 02/06/2024 18:00 a 04/06/2024 00:00 (UTC-6)" in html
    rows = _table(out, "incidencias")
    assert any(r["causa_raiz"] == "dentro" for r in rows)
    assert not any(r["causa_raiz"] == "fuera" for r in rows)
    for r in rows:
        when = datetime.strptime(f"{r['fecha']} {r['hora']}", "%d/%m/%Y %H:%M").replace(tzinfo=UTC6)
        assert datetime(2024, 6, 2, 18, tzinfo=UTC6) <= when < datetime(2024, 6, 4, tzinfo=UTC6)


@pytest.mark.parametrize("value", ["-25:00", "CST", "6h"])
def test_a_bad_offset_names_the_flag(tmp_path: Path, mmdb: Path, value: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status = _report(_nginx(tmp_path / "access.log"), tmp_path / "o", mmdb, f"--utc-offset={value}")
    err = capsys.readouterr().err
    assert status == 2 and "--utc-offset" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
