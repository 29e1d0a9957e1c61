from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distribution.dist_packages import make_keys
from tests.distribution.dist_servers import Sshd


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    server = Sshd()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "k"
    make_keys(d)
    return d
