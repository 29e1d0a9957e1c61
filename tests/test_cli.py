"""The command line as a user meets it: help, unknown commands, exit codes."""

from __future__ import annotations

import subprocess
import sys

from prepcast.cli import build_parser, command_modules, main


def test_every_command_module_registers() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for name in command_modules():
        assert name in help_text


def test_unknown_command_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        main(["no-such-command"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "prepcast", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("prepcast ")
