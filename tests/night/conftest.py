from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prepcast.package import init_keys
from tests.distribution.dist_servers import Sshd


@pytest.fixture(scope="module")
def sshd() -> Iterator[Sshd]:
    server = Sshd()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def night_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keys = tmp_path_factory.mktemp("night") / "llaves"
    init_keys(keys)
    return keys
