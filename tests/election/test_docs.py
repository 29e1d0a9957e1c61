"""docs/election-files.md names every command and option of `prepcast election`, `prepcast
database` and `prepcast results`."""

from __future__ import annotations

import argparse

from prepcast.cli import build_parser
from tests.conftest import REPO


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_and_option_is_documented() -> None:
    doc = (REPO / "docs" / "election-files.md").read_text(encoding="utf-8")
    top = _subparsers(build_parser())
    for group in ("election", "database", "results"):
        for name, sub in _subparsers(top[group]).items():
            assert f"prepcast {group} {name}" in doc, f"prepcast {group} {name}"
            for action in sub._actions:
                for opt in action.option_strings:
                    if opt.startswith("--") and opt != "--help":
                        assert opt in doc, f"prepcast {group} {name} {opt}"
