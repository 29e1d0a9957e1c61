"""docs/registry.md names every command of ``prepcast difusores`` and every registry setting."""

from __future__ import annotations

import re
from pathlib import Path

from prepcast.cli import build_parser
from prepcast.registry.deadlines import ITEMS
from prepcast.registry.load import CHECK_KEYS, DIFUSOR_KEYS, PERSONA_KEYS, SERVIDOR_KEYS, TOP

DOC = (Path(__file__).resolve().parents[2] / "docs" / "registry.md").read_text()


def test_every_command_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    difusores = sub.choices["difusores"]  # type: ignore[index]
    actions = next(a for a in difusores._actions if a.dest == "difusores_command")
    for name in actions.choices:  # type: ignore[union-attr]
        assert re.search(rf"prepcast difusores {name}\b", DOC), name


def test_every_setting_is_documented() -> None:
    for key in tuple(k for k in TOP if k != "difusor") + DIFUSOR_KEYS + CHECK_KEYS + PERSONA_KEYS + SERVIDOR_KEYS + ITEMS:
        assert f"`{key}`" in DOC or re.search(rf"^{key} = ", DOC, re.M), key
