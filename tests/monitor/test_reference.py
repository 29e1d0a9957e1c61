"""The monitor's reference: a difusor is behind only against a cut that has gone out (its push
ended), from the time it went out; a root no night runner keeps is judged by ``current``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prepcast.difusor.activate import ReleaseStore, read_pushed
from prepcast.monitor import ProbeResult, ProbeSettings
from prepcast.monitor.incidents import troubles
from prepcast.monitor.reference import Reference
from prepcast.package import CutId
from prepcast.package.keys import load_root_public
from tests.monitor.monitor_lab import Lab, make_lab, tag


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = make_lab(tmp_path_factory.mktemp("reference"), cuts=3)
    try:
        yield lab
    finally:
        lab.stop()


def _behind(ref: Reference, cut: int, now: datetime, bound: float = 10.0) -> list[str]:
    """What the incidents make of a difusor showing ``cut`` now (lag bound ``bound`` s)."""
    ref.refresh()
    res = ProbeResult("d", "https://d.example/", now, up=True, ejercicio="jornada", cut=cut)
    res.lag_cuts, res.lag_s = ref.lag("jornada", cut, now)
    return list(troubles(res, ProbeSettings(lag_bound_s=bound)))


def test_behind_only_against_a_cut_that_went_out(lab: Lab) -> None:
    store = ReleaseStore(lab.reference)
    store.keep_pushed()  # the night runner starts the record before its first cut
    lab.advance(1, [])
    lab.advance(2, [])
    ref = Reference(lab.reference, load_root_public(lab.trust))
    # cuts 1 and 2 published, no push ended yet: nobody is behind, however long it takes
    assert ref.current() is None
    assert _behind(ref, 1, datetime.now(UTC) + timedelta(minutes=10), bound=0) == []
    t0 = datetime.now(UTC)
    store.mark_pushed(CutId.of("jornada", 1), t0)
    # cut 2 is published at the institute, still travelling to the difusores
    later = t0 + timedelta(minutes=10)  # however long the build or the push of cut 2 takes
    assert _behind(ref, 1, later) == []
    cur = ref.current()
    assert cur is not None and cur.tag == tag(1)
    # cut 2 went out: from then on a difusor still on cut 1 is behind, from that time
    t2 = later
    store.mark_pushed(CutId.of("jornada", 2), t2)
    ref.refresh()
    assert ref.lag("jornada", 1, t2 + timedelta(seconds=4)) == (1, 4.0)
    assert _behind(ref, 1, t2 + timedelta(seconds=9)) == []
    assert _behind(ref, 1, t2 + timedelta(seconds=11)) == ["lag"]
    assert _behind(ref, 2, t2 + timedelta(hours=1)) == []
    # a push of cut 2 tried again later (for a difusor that failed) does not move its time
    assert not store.mark_pushed(CutId.of("jornada", 2), t2 + timedelta(minutes=5))
    pushed = read_pushed(lab.reference)
    assert pushed == {tag(1): t0, tag(2): t2}
    # two cuts behind: since the first it missed went out
    lab.advance(3, [])
    store.mark_pushed(CutId.of("jornada", 3), t2 + timedelta(seconds=30))
    ref.refresh()
    assert ref.lag("jornada", 1, t2 + timedelta(seconds=40)) == (2, 40.0)
    # only the releases still held are recorded
    for t in (tag(1), tag(2)):
        (lab.reference / "releases" / t).rename(lab.reference / "releases" / f".{t}.gone")
    store.mark_pushed(CutId.of("jornada", 4), t2 + timedelta(minutes=1))
    assert set(read_pushed(lab.reference) or {}) == {tag(3), "jornada-0004"}


def test_a_root_without_pushes_is_judged_by_current(tmp_path: Path) -> None:
    """A publish root no night runner keeps (copied by hand, another tool): ``current`` is the
    reference, out since its release appeared."""
    lab = make_lab(tmp_path, cuts=2)
    try:
        lab.advance(1, [])
        lab.advance(2, [])
        ref = Reference(lab.reference, load_root_public(lab.trust))
        ref.refresh()
        cur = ref.current()
        assert cur is not None and cur.tag == tag(2)
        assert read_pushed(lab.reference) is None
        now = datetime.now(UTC) + timedelta(seconds=30)
        assert _behind(ref, 1, now) == ["lag"]
        (lab.reference / "pushed.json").write_text("{not json")
        assert read_pushed(lab.reference) is None
        assert _behind(ref, 1, now) == ["lag"]
    finally:
        lab.stop()
