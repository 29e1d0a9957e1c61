"""docs/report.md documents every option of `prepcast report` and `prepcast logs synth`, every
event of the vocabulary and both institutes' outlines."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from prepcast import events as ev
from prepcast.analytics.outline import OUTLINES
from prepcast.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "report.md"


def _options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> set[str]:
    with contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    return set(re.findall(r"(--[a-z][a-z-]+)", capsys.readouterr().out)) - {"--help"}


def test_every_option_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    text = DOC.read_text(encoding="utf-8")
    for argv in (["report"], ["logs", "synth"]):
        options = _options(argv, capsys)
        assert options, argv
        for option in options:
            assert f"`{option}" in text, (argv, option)


def test_every_event_and_outline_item_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ev.EVENTS:
        assert f"`{name}`" in text, name
    for formato in ("ieem", "iem"):
        for item in OUTLINES[formato].items:
            assert item.heading in text, item.heading
