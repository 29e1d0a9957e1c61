"""Old releases removed so that a process killed midway leaves no half-removed release under a
release's name (regression: a night runner killed while it pruned the institute's root left
``releases/jornada-0010`` without its ``json/main.json``, which a rollback or a reader of the
root takes for a whole release)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prepcast.difusor import activate
from prepcast.difusor.activate import ReleaseStore
from prepcast.package import CutId


class Killed(BaseException):
    """The process stopped where it stood (as by SIGKILL)."""


def _store(tmp_path: Path, cuts: range) -> ReleaseStore:
    store = ReleaseStore(tmp_path / "www")
    for n in cuts:
        release = store.path(CutId.of("jornada", n))
        for rel in ("json/main.json", f"manifests/jornada-{n:04d}.json", "data/a.json"):
            (release / rel).parent.mkdir(parents=True, exist_ok=True)
            (release / rel).write_text(str(n))
    store.activate(CutId.of("jornada", cuts[-1]))
    return store


def _killed_after_one_file(real: Callable[..., Any]) -> Callable[..., Any]:
    def rmtree(path: str | os.PathLike[str], *a: Any, **k: Any) -> None:
        first = next(p for p in sorted(Path(path).rglob("*")) if p.is_file())
        first.unlink()   # some files gone, then the process is killed
        raise Killed

    return rmtree


@pytest.mark.parametrize("step", ["prune", "seal"])
def test_a_release_removed_midway_never_stays_half_under_its_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    store = _store(tmp_path, range(1, 5))
    monkeypatch.setattr(activate.shutil, "rmtree", _killed_after_one_file(shutil.rmtree))
    with pytest.raises(Killed):
        if step == "prune":
            store.prune(2)
        else:   # a release built again under the name of one that exists
            partial = tmp_path / "www" / "releases" / ".jornada-0002.partial"
            shutil.copytree(store.path(CutId.of("jornada", 2)), partial)
            store.seal(partial, CutId.of("jornada", 2))
    for cut in store.cuts():   # every release under its name is whole
        release = store.path(cut)
        assert sorted(p.relative_to(release).as_posix() for p in release.rglob("*")
                      if p.is_file()) == ["data/a.json", "json/main.json",
                                          f"manifests/{cut.tag}.json"], cut
    monkeypatch.undo()
    # the next run removes what the killed one left, and prunes
    assert any(name.endswith(".gone") for name in store.recover())
    store.prune(2)
    assert sorted(os.listdir(tmp_path / "www" / "releases")) == ["jornada-0003", "jornada-0004"]
