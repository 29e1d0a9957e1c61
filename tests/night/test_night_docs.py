"""docs/night.md names every option of `prepcast night run` and `night status`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from prepcast.cli import build_parser

DOC = Path(__file__).parents[2] / "docs" / "night.md"


def _actions(action: str) -> list[str]:
    parser = build_parser("night")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    night = sub.choices["night"]
    nsub = next(a for a in night._actions if isinstance(a, argparse._SubParsersAction))
    return [o for a in nsub.choices[action]._actions for o in a.option_strings
            if o.startswith("--") and o != "--help"]


@pytest.mark.parametrize("action", ["run", "status"])
def test_every_option_is_in_the_runbook(action: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"prepcast night {action}" in text
    missing = [o for o in _actions(action) if o not in text]
    assert missing == []


def test_bad_arguments_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prepcast.cli import main

    base = ["night", "run", "--election", str(tmp_path), "--keys", str(tmp_path), "--state",
            str(tmp_path / "s"), "--publish-root", str(tmp_path / "p")]
    for extra, message in ((["--speed", "0"], "--speed"), (["--speed", "fast"], "--speed"),
                           (["--ntp", "off"], "--ntp off is for drills"),
                           (["--ejercicio", "ensayo"], "unknown ejercicio"),
                           (["--ntp", "host:99999", "--speed", "2"], "--ntp")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert main(["night", "status", "--state", str(tmp_path)]) == 2
    assert "not a runner's --state" in capsys.readouterr().err
