"""Fixtures of the package tests: a key directory and small packages (the small election is the
session's, ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.package import init_keys
from tests.package.pkg_helpers import small_package


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "keys"
    init_keys(d)
    return d


@pytest.fixture
def pkg(tmp_path: Path, keydir: Path) -> Path:
    """A fresh valid package of cut 3 (tests may damage it)."""
    return small_package(tmp_path / "pkg", keydir, 3)
