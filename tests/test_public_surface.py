"""Each part's public surface is what its ``__init__`` exports, and all of it imports."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", [
    "prepcast.election", "prepcast.formats", "prepcast.package", "prepcast.site", "prepcast.publish",
    "prepcast.distribution", "prepcast.difusor", "prepcast.analytics", "prepcast.simulacro",
    "prepcast.registry", "prepcast.registry.checks",
])
def test_exported_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    assert names, f"{module} declares no public surface"
    assert sorted(names) == sorted(set(names))
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


def test_core_knows_nothing_of_the_edges() -> None:
    """election/ and formats/ import no transport, web or command-line code."""
    import pathlib

    root = pathlib.Path(importlib.import_module("prepcast").__file__).parent  # type: ignore[arg-type]
    for part in ("election", "formats"):
        for path in (root / part).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            for edge in ("asyncssh", "httpx", "prepcast.cli", "prepcast.distribution",
                         "prepcast.difusor", "prepcast.package", "prepcast.site"):
                assert f"import {edge}" not in text and f"from {edge}" not in text, (path, edge)
