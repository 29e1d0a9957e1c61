from __future__ import annotations

from pathlib import Path

import pytest

from tests.difusor.difusor_helpers import make_keys


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dkeys") / "k"
    make_keys(d)
    return d


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory, keydir: Path) -> list[Path]:
    """Four chained cuts, embargo already past."""
    base = tmp_path_factory.mktemp("pkgs")
    out: list[Path] = []
    for cut in range(1, 5):
        out.append(make_package_chain(base / f"p{cut}", keydir, cut, out[-1] if out else None))
    return out


def make_package_chain(out: Path, keydir: Path, cut: int, previous: Path | None) -> Path:
    from tests.difusor.difusor_helpers import make_package

    return make_package(out, keydir, cut, previous=previous)
