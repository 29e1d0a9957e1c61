"""Sessions by their definition: a visitor's requests with no gap over 30 minutes, checked
against a plain computation on requests at any times (slot edges and gaps of exactly 30 min)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepcast.analytics._db import connect, rows, run
from prepcast.analytics.sessions import SESSION_GAP_S, build_sessions
from tests.examples import examples

BASE = 1717380000 - 1717380000 % SESSION_GAP_S  # a slot edge
CHANNELS = ("internal", "direct", "search", "social")

# offsets near slot edges and exactly one gap apart are the cases that matter
_offset = st.one_of(
    st.integers(0, 6 * SESSION_GAP_S),
    st.sampled_from([k * SESSION_GAP_S + d for k in range(6) for d in (-1, 0, 1)]).filter(
        lambda x: x >= 0),
)
_visitor = st.dictionaries(_offset, st.tuples(st.booleans(), st.sampled_from(CHANNELS)),
                           min_size=1, max_size=25)


def _expected(visits: dict[int, dict[int, tuple[bool, str]]]) -> list[tuple[Any, ...]]:
    out = []
    for vid, reqs in visits.items():
        times = sorted(reqs)
        runs: list[list[int]] = [[times[0]]]
        for t in times[1:]:
            if t - runs[-1][-1] > SESSION_GAP_S:
                runs.append([])
            runs[-1].append(t)
        for run_ in runs:
            outside = [reqs[t][1] for t in run_ if reqs[t][1] != "internal"]
            out.append((vid, BASE + run_[0], BASE + run_[-1], len(run_),
                        sum(reqs[t][0] for t in run_), run_[-1] - run_[0],
                        outside[0] if outside else "direct"))
    return sorted(out)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(1, 6), _visitor, min_size=1, max_size=4))
def test_sessions_split_exactly_at_gaps_over_30_minutes(
    visits: dict[int, dict[int, tuple[bool, str]]],
) -> None:
    con = connect()
    run(con, "CREATE TABLE req (vid UBIGINT, epoch BIGINT, is_view BOOLEAN, channel VARCHAR, "
             "ref_id BIGINT, device VARCHAR, is_bot BOOLEAN)")
    values = [(vid, BASE + t, view, channel, 0, "mobile", False)
              for vid, reqs in visits.items() for t, (view, channel) in reqs.items()]
    con.executemany("INSERT INTO req VALUES (?, ?, ?, ?, ?, ?, ?)", values)
    build_sessions(con)
    got = rows(con, "SELECT vid, start, stop, requests, views, duration_s, channel FROM sessions "
                    "ORDER BY ALL")
    assert [tuple(r) for r in got] == _expected(visits)
