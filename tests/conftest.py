"""Shared fixtures: where the real published databases live, and a small synthetic election."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.once import made_once

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real"
TAMAULIPAS = REAL / "tamaulipas-2023-sen-ext" / "TAMPS_SEN_FED_ext_2023.csv"
QROO = REAL / "qroo-2019-dip-loc" / "QROO_DIP_LOC_2019.csv"


@pytest.fixture(scope="session")
def small_election(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `small` synthetic election (seed 7), generated once per run. Read-only."""
    from prepcast.election.synthetic import generate

    return made_once(tmp_path_factory, "small-7", lambda d: generate("small", 7, d / "small"))


@pytest.fixture(scope="session")
def national_election(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `nacional-small` synthetic election (seed 2), generated once per run. Read-only."""
    from prepcast.election.synthetic import generate

    return made_once(tmp_path_factory, "nacional-small-2",
                     lambda d: generate("nacional-small", 2, d / "e"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that mostly wait (``@pytest.mark.waits``) first: over xdist workers each starts
    at once and waits while the other workers' tests use the cores, instead of ending the run
    alone. The rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("waits") is None)
