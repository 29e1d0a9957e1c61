"""The fast reader of combined logs reads every line as the exact reader does, or leaves it to it.

Property: on lines a server writes (escaped quotes, lines cut anywhere, CRLF, a broken line
before a valid one, a request time after the agent, a virtual host in front, bytes that are not
UTF-8), ``load_logs`` with the fast reader gives the same rows (as texts), the same number of lines
and of malformed lines as the exact reader alone: no line lost, doubled or read differently.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepcast.analytics._db import connect, rows
from prepcast.analytics.hits import HITS_TEXTS
from prepcast.analytics.parse import load_logs

_SAFE = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters='"\\'),
                max_size=20)
_ESCAPED = st.lists(st.one_of(_SAFE, st.just('\\"'), st.just("\\\\"), st.just("\\x22")),
                    max_size=4).map("".join)
_IP = st.sampled_from(["38.123.192.10", "2001:db8::7", "-", "", "1.2.3.4[", "10.0.0.1 x"])
_TIME = st.sampled_from(["02/Jun/2024:20:01:02 -0600", "03/Jun/2024:00:00:59 +0000",
                         "2/jun/2024:20:01:02 -0600", "02/Jun/2024:20:01:02", "31/Feb/2024:1:2:3 -0630",
                         "02/Jun/2024:20:01:02 +05:30"])
_REQUEST = st.one_of(
    st.sampled_from(["GET / HTTP/1.1", "GET /json/main.json?t=1 HTTP/2.0", "-", "GET  /a HTTP/1.1",
                     "POST /data/DIP/entidad.ab.json?embed=1&x=2 HTTP/1.1", "GET /a?b?c",
                     "GET /embed/ HTTP/1.1 extra"]),
    _ESCAPED.map(lambda s: f"GET /{s} HTTP/1.1"))
_STATUS = st.sampled_from(["200 1536", "304 -", "404 0", "200 99999999999999999999", "2000 1",
                           "abc 1", "200", "200 1 2", "200 007"])
_AGENT = st.one_of(st.sampled_from(["Mozilla/5.0 (iPhone)", "-", "", "curl/8.0"]), _ESCAPED)
_REFERER = st.one_of(st.sampled_from(["-", "", "https://prep.example.mx/"]), _ESCAPED)


@st.composite
def _line(draw: st.DrawFn) -> bytes:
    head = f"{draw(_IP)} - {draw(st.sampled_from(['-', 'ana', 'a]b']))} [{draw(_TIME)}]"
    line = (f'{head} "{draw(_REQUEST)}" {draw(_STATUS)} "{draw(_REFERER)}" "{draw(_AGENT)}"'
            + draw(st.sampled_from(["", " 0.004", " 0.004 0.002", ' "x"', "  "])))
    if draw(st.booleans()):
        line = draw(st.sampled_from(["", "prep.example.mx:443 "])) + line
    data = line.encode("utf-8")
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut]
    end = draw(st.sampled_from([b"\n", b"\n", b"\n", b"\r\n", b"\r"]))
    junk = draw(st.sampled_from([b"", b"", b"", b"\xff\xfe", b"\x00", b"\x01", b'"']))
    at = draw(st.integers(0, len(data)))
    return data[:at] + junk + data[at:] + end


def _read(data: bytes, fast: bool) -> tuple[int, int, Counter[tuple[object, ...]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        path.write_bytes(data)
        con = connect()
        stats = load_logs(con, [path], Path(tmp), fast=fast)
        # a malformed line is only counted: its fields are never read
        got = Counter(r if r[0] else (False,) for r in rows(con, f"SELECT * FROM {HITS_TEXTS}"))
    return stats.lines, stats.malformed, got


VALID = b'38.123.192.10 - - [02/Jun/2024:20:01:02 -0600] "GET / HTTP/1.1" 200 10 "-" "curl/8.0"\n'


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line(), max_size=30), st.booleans())
def test_the_fast_reader_reads_every_line_as_the_exact_one(lines: list[bytes], last_cut: bool) -> None:
    data = VALID * 3 + b"".join(lines)  # valid lines first: the file is read as combined
    if last_cut:
        data = data.rstrip(b"\n")
    assert _read(data, fast=True) == _read(data, fast=False)


def test_a_broken_line_does_not_swallow_the_next(tmp_path: Path) -> None:
    broken = b'1.2.3.4 - - [02/Jun/2024:20:01:02 -0600] "GET /a\\" HTTP/1.1" 200 5 "-" "ua\n'
    data = VALID * 2 + broken + VALID
    fast = _read(data, fast=True)
    assert fast == _read(data, fast=False)
    assert fast[0] == 4 and fast[1] == 0  # its open quote swallows nothing: 4 lines, 4 requests
    assert sum(n for r, n in fast[2].items() if r[0] and r[9] == "curl/8.0") == 3
