"""Fuzzing the log-line parser: any file gives a table and counts, or one typed error."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepcast.analytics._db import connect, one
from prepcast.analytics.parse import load_logs
from prepcast.errors import InputError
from tests.examples import examples

VALID = ('38.123.192.10 - - [02/Jun/2024:20:01:02 -0600] "GET /json/main.json HTTP/2.0" 200 1536 '
         '"https://prep.example.mx/" "Mozilla/5.0 (X11; Linux x86_64)"')
FUZZ = settings(max_examples=examples(60), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# lines of any characters but the line breaks that would split them, and near-misses of the format
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                max_size=300)
_near = st.builds(lambda cut, junk: VALID[:cut] + junk, st.integers(0, len(VALID)), _text)
_line = st.one_of(_text, _near, st.just(VALID))


def _parse(data: bytes, name: str = "access.log") -> tuple[int, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        con = connect()
        stats = load_logs(con, [path])
        ok = int(one(con, "SELECT count(*) FROM hits WHERE ok")[0])
    assert 0 <= stats.malformed <= stats.lines
    return stats.lines, stats.malformed, ok


@FUZZ
@given(st.lists(_line, max_size=40), st.integers(1, 5))
def test_any_lines_after_valid_ones_are_requests_or_malformed(junk: list[str], valid: int) -> None:
    lines = [VALID] * valid + junk
    total, malformed, ok = _parse(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    assert ok >= valid  # every well-formed request is kept, whatever surrounds it
    assert ok + malformed <= total


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_give_counts_or_one_input_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        _parse(data)


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12)
_json_record = st.fixed_dictionaries(
    {}, optional={"remote_addr": st.one_of(st.just("187.190.4.7"), _json_value),
                  "time_iso8601": st.one_of(st.just("2024-06-02T20:01:02-06:00"), _json_value),
                  "status": st.one_of(st.just(200), st.just("200"), _json_value),
                  "request_uri": _json_value, "http_user_agent": _json_value})


@FUZZ
@given(st.lists(_json_record, min_size=1, max_size=30))
def test_json_lines_records_of_any_shape(records: list[dict[str, object]]) -> None:
    data = "\n".join(json.dumps(r) for r in records) + "\n"
    try:
        total, malformed, ok = _parse(data.encode(), "access.json")
    except InputError:
        return
    assert ok + malformed <= total
