"""The night-long tally gives exactly what a full tally gives, cut after cut."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from prepcast.election import load_election_dir, tally_cut
from prepcast.election.night_tally import NightTally
from prepcast.election.schedule import cut_time
from tests.election.test_tally_properties import PROCESO, START, nights
from tests.examples import examples


def _same(a: object, b: object) -> None:
    for eid, x in a.elections.items():  # type: ignore[attr-defined]
        y = b.elections[eid]  # type: ignore[attr-defined]
        assert x.preamble == y.preamble
        assert x.entidad == y.entidad
        assert x.ambitos == y.ambitos
        assert x.secciones == y.secciones
        assert [(r.casilla, r.acta, r.evaluation) for r in x.rows] == [
            (r.casilla, r.acta, r.evaluation) for r in y.rows]


@settings(max_examples=examples(100), deadline=None)
@given(nights(), st.lists(st.integers(0, 1500), min_size=1, max_size=6))
def test_night_tally_equals_full_tally(night: tuple[list, dict], minutes: list[int]) -> None:  # type: ignore[type-arg]
    casillas, feeds = night
    nt = NightTally(PROCESO, casillas, feeds)
    for n, minute in enumerate(sorted(minutes), start=1):
        at = START + timedelta(minutes=minute)
        _same(nt.cut(at, number=n), tally_cut(PROCESO, casillas, feeds, at, number=n))
    # going back in time falls back to a full tally
    at = START + timedelta(minutes=min(minutes) - 1)
    _same(nt.cut(at, number=1), tally_cut(PROCESO, casillas, feeds, at, number=1))


def test_night_tally_on_a_synthetic_night(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    p = ed.proceso
    nt = NightTally(p, ed.casillas, ed.feeds)
    for n in range(1, len(p.cut_times()) + 1, 4):
        at = cut_time(p, n)
        _same(nt.cut(at, number=n, last=n == 73), tally_cut(p, ed.casillas, ed.feeds, at, number=n,
                                                             last=n == 73))
