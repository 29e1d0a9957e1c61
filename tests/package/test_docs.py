"""docs/package.md names every command and option of `prepcast keys` and `prepcast cut`."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.cli import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "package.md"


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_and_option_is_documented() -> None:
    doc = DOC.read_text("utf-8")
    top = _subparsers(build_parser())
    for group in ("keys", "cut"):
        for name, sub in _subparsers(top[group]).items():
            assert f"prepcast {group} {name}" in doc, f"prepcast {group} {name}"
            for action in sub._actions:
                for opt in action.option_strings:
                    if opt.startswith("--") and opt != "--help":
                        assert opt in doc, f"prepcast {group} {name} {opt}"


def test_schemas_are_referenced() -> None:
    doc = DOC.read_text("utf-8")
    schemas = Path(__file__).resolve().parents[2] / "src/prepcast/package/schemas"
    for f in schemas.glob("*.json"):
        assert f.name in doc
