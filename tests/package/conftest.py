"""Fixtures of the package tests: a key directory, a small election, small packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.election.synthetic import generate
from prepcast.package import init_keys
from tests.package.pkg_helpers import small_package


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "keys"
    init_keys(d)
    return d


@pytest.fixture(scope="session")
def small_election(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate("small", 1, tmp_path_factory.mktemp("election") / "small")


@pytest.fixture
def pkg(tmp_path: Path, keydir: Path) -> Path:
    """A fresh valid package of cut 3 (tests may damage it)."""
    return small_package(tmp_path / "pkg", keydir, 3)
