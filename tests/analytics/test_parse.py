from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from prepcast.analytics import detect_format
from prepcast.analytics._db import connect, dicts
from prepcast.analytics.parse import load_logs
from prepcast.errors import InputError

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
COMBINED = [
    f'38.123.192.10 - - [02/Jun/2024:20:01:02 -0600] "GET /json/main.json?t=1 HTTP/2.0" 200 1536 "https://prep.example.mx/" "{UA}"',
    f'38.123.192.10 - - [02/Jun/2024:20:01:03 -0600] "GET /data/DIP/entidad.ab12.json HTTP/2.0" 304 - "https://prep.example.mx/" "{UA}" 0.004',
    '1.32.235.4 - - [02/Jun/2024:20:02:00 -0600] "GET / HTTP/1.1" 200 3120 "-" "curl/8.0 \\"quoted\\""',
]


def _load(tmp_path: Path, name: str, text: str | bytes) -> tuple[object, list[dict[str, object]]]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    con = connect()
    stats = load_logs(con, [path])
    return stats, dicts(con, "SELECT * FROM hits ORDER BY epoch NULLS LAST")


def test_combined_with_and_without_request_time(tmp_path: Path) -> None:
    stats, hits = _load(tmp_path, "access.log", "\n".join(COMBINED) + "\n")
    assert stats.lines == 3 and stats.malformed == 0  # type: ignore[attr-defined]
    first = hits[0]
    assert first["ip"] == "38.123.192.10"
    assert first["epoch"] == 1717380062 and first["off_s"] == -6 * 3600
    assert (first["path"], first["query"], first["status"], first["bytes"]) == ("/json/main.json", "t=1", 200, 1536)
    assert first["referer"] == "https://prep.example.mx/" and first["ua"] == UA
    assert hits[1]["status"] == 304 and hits[1]["bytes"] == 0
    assert hits[2]["referer"] == "" and hits[2]["ua"] == 'curl/8.0 \\"quoted\\"'


def test_vcombined(tmp_path: Path) -> None:
    text = "\n".join(f"prep.example.mx:443 {line}" for line in COMBINED) + "\n"
    assert detect_format(_write(tmp_path / "v.log", text)).format == "vcombined"
    stats, hits = _load(tmp_path, "v2.log", text)
    assert stats.malformed == 0  # type: ignore[attr-defined]
    assert hits[0]["ip"] == "38.123.192.10" and hits[0]["path"] == "/json/main.json"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_gzip_and_many_files(tmp_path: Path) -> None:
    plain = _write(tmp_path / "a.log", "\n".join(COMBINED) + "\n")
    packed = tmp_path / "b.log.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(COMBINED) + "\n")
    con = connect()
    stats = load_logs(con, [plain, packed])
    assert stats.lines == 6 and stats.malformed == 0


def test_json_lines(tmp_path: Path) -> None:
    lines = [
        {"time_iso8601": "2024-06-02T20:01:02-06:00", "remote_addr": "38.123.192.10",
         "request": "GET /data/AYU/municipio/001.ff.json HTTP/2.0", "status": "200",
         "body_bytes_sent": "900", "http_referer": "", "http_user_agent": UA, "request_time": "0.010"},
        {"time": "2024-06-02T20:01:05-06:00", "client_ip": "1.32.232.9", "method": "GET",
         "uri": "/?embed=1", "status": 200, "bytes": 10, "referer": "https://news.example/", "user_agent": UA},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n{broken json\n"
    stats, hits = _load(tmp_path, "access.json", text)
    assert stats.lines == 3 and stats.malformed == 1  # type: ignore[attr-defined]
    assert hits[0]["path"] == "/data/AYU/municipio/001.ff.json" and hits[0]["off_s"] == -21600
    assert hits[0]["epoch"] == 1717380062 and hits[0]["ua"] == UA
    assert (hits[1]["path"], hits[1]["query"], hits[1]["ip"]) == ("/", "embed=1", "1.32.232.9")


def test_cloudfront(tmp_path: Path) -> None:
    text = (
        "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
        "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type "
        "x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n"
        "2024-06-03\t02:01:02\tMEX50-C1\t1536\t38.123.192.10\tGET\td1.cloudfront.net\t/json/main.json\t200\t"
        "https://prep.example.mx/\tMozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2017_5)\t-\t-\tHit\tabc\t"
        "prep.example.mx\thttps\t120\t0.002\n"
    )
    stats, hits = _load(tmp_path, "cf.log", text)
    assert stats.lines == 1 and stats.malformed == 0  # type: ignore[attr-defined]
    assert hits[0]["epoch"] == 1717380062 and hits[0]["off_s"] == 0
    assert hits[0]["ua"] == "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5)" and hits[0]["path"] == "/json/main.json"


def test_malformed_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    body = "\n".join(COMBINED).encode() + b"\ngarbage\n" + COMBINED[0][:60].encode() + b"\nbad \xff\xfe bytes\n"
    stats, hits = _load(tmp_path, "mixed.log", body)
    assert stats.lines == 6 and stats.malformed == 3  # type: ignore[attr-defined]
    assert sum(1 for h in hits if h["ok"]) == 3


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "notes.txt", "hello\nthis is not a log\n")
    with pytest.raises(InputError) as info:
        load_logs(connect(), [path])
    assert "notes.txt" in str(info.value) and "unknown log format" in str(info.value)
    with pytest.raises(InputError, match="not found"):
        load_logs(connect(), [tmp_path / "missing.log"])


def test_ipv6_clients(tmp_path: Path) -> None:
    line = f'2001:db8::7 - - [02/Jun/2024:20:01:02 -0600] "GET / HTTP/2.0" 200 10 "-" "{UA}"\n'
    assert detect_format(_write(tmp_path / "v6.log", line)).format == "combined"
    stats, hits = _load(tmp_path, "v6b.log", line)
    assert stats.malformed == 0 and hits[0]["ip"] == "2001:db8::7"  # type: ignore[attr-defined]


def test_without_keep_query_only_the_embed_mark_is_stored(tmp_path: Path) -> None:
    lines = [
        COMBINED[0],
        COMBINED[0].replace("/json/main.json?t=1", "/?utm=x&embed=1").replace("20:01:02", "20:01:04"),
        COMBINED[0].replace("/json/main.json?t=1", "/index.html").replace("20:01:02", "20:01:05"),
    ]
    path = tmp_path / "access.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept, marked = connect(), connect()
    load_logs(kept, [path])
    load_logs(marked, [path], keep_query=False)
    sql = "SELECT path, query FROM hits ORDER BY epoch"
    assert [r["query"] for r in dicts(kept, sql)] == ["t=1", "utm=x&embed=1", ""]
    assert [r["query"] for r in dicts(marked, sql)] == ["", "embed", ""]
    assert [r["path"] for r in dicts(marked, sql)] == ["/json/main.json", "/", "/index.html"]
