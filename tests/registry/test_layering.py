"""The registry sits below the pusher, the runner and the command line: it imports none of them."""

from __future__ import annotations

from pathlib import Path

import prepcast.registry

ROOT = Path(prepcast.registry.__file__).parent


def test_the_registry_imports_nothing_above_it() -> None:
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for upper in ("prepcast.cli", "prepcast.distribution", "prepcast.publish",
                      "prepcast.simulacro", "prepcast.monitor", "prepcast.site",
                      "prepcast.package", "prepcast.difusor"):
            assert f"import {upper}" not in text and f"from {upper}" not in text, (path, upper)


def test_modules_stay_small() -> None:
    for path in ROOT.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path
