"""The layer that composes cuts sits above the engine, the site and the signed container."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ENGINE = ("prepcast.election", "prepcast.formats", "prepcast.site", "prepcast.publish")


def _loaded(module: str) -> list[str]:
    """The prepcast modules a fresh interpreter holds once it has imported ``module`` and used
    every name of its public surface (a part's members are loaded on first use)."""
    code = (f"import json, sys, {module} as mod; "
            "[getattr(mod, name) for name in getattr(mod, '__all__', ())]; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('prepcast'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


@pytest.mark.parametrize("module", ["prepcast.difusor.daemon", "prepcast.difusor",
                                    "prepcast.package"])
def test_difusor_side_loads_no_engine(module: str) -> None:
    loaded = _loaded(module)
    assert module in loaded
    assert "prepcast.package.verify" in loaded
    assert [m for m in loaded if m.startswith(ENGINE)] == []


def test_publish_composes_from_the_layers_below() -> None:
    loaded = _loaded("prepcast.publish")
    for part in ("prepcast.election", "prepcast.formats", "prepcast.site", "prepcast.package"):
        assert part in loaded
    assert not [m for m in loaded if m.startswith(("prepcast.cli", "prepcast.simulacro"))]


@pytest.mark.parametrize("module", ["prepcast.publish.deliver", "prepcast.publish.status"])
def test_pushing_and_status_load_no_engine(module: str) -> None:
    """The runner's pushing process and ``night status`` load neither the results engine nor
    the site: the parts' members are loaded on first use, not with their package."""
    loaded = _loaded(module)
    assert module in loaded
    assert [m for m in loaded if m.startswith((*ENGINE[:3], "prepcast.publish.cut"))] == []
