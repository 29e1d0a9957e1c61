from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dist_packages import make_keys
from dist_servers import Sshd


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


def registry_toml(entries: list[dict[str, object]], *, concurrency: int = 8, keep: int = 3,
                  secrets: str | None = None) -> str:
    lines = [f"concurrency = {concurrency}", f"keep_releases = {keep}"]
    if secrets:
        lines.insert(0, f'secrets = "{secrets}"')
    for e in entries:
        lines.append("\n[[difusor]]")
        for k, v in e.items():
            if isinstance(v, bool):
                lines.append(f"{k} = {'true' if v else 'false'}")
            elif isinstance(v, int):
                lines.append(f"{k} = {v}")
            else:
                lines.append(f'{k} = "{v}"')
    return "\n".join(lines) + "\n"
