"""Fixtures of the site's browser tests: a small synthetic election published as a package and
served on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prepcast.election import ElectionDir, load_election_dir
from tests.site.site_package import XSS, PublishedCut, publish
from tests.site.site_server import StaticServer
from tests.site.site_views import AXE

CUT = 10


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe-core is injected as an inline script, which the site's CSP refuses.
    return {**browser_context_args, "bypass_csp": True, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def election(tmp_path_factory: pytest.TempPathFactory, small_election: Path) -> ElectionDir:
    root = tmp_path_factory.mktemp("election")
    shutil.copytree(small_election, root, dirs_exist_ok=True)  # the session's, edited here
    # A candidate whose name is markup: the site must show it literally.
    cands = root / "candidaturas" / "DIP_LOC.csv"
    lines = cands.read_text("utf-8").splitlines()
    first = lines[1].split(",")[2]
    cands.write_text("\n".join(line.replace(first, XSS) for line in lines) + "\n", "utf-8")
    return load_election_dir(root)


@pytest.fixture(scope="session")
def published(election: ElectionDir, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PublishedCut]:
    root = tmp_path_factory.mktemp("pkg")
    return root, publish(election, CUT, root)


@pytest.fixture(scope="session")
def server(published: tuple[Path, PublishedCut]) -> Iterator[StaticServer]:
    with StaticServer(published[0]) as srv:
        yield srv


@pytest.fixture(scope="session")
def axe_source() -> Path:
    assert AXE.exists(), "run `make node-deps` (axe-core from npm)"
    return AXE
