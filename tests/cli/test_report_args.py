"""``prepcast report --utc-offset``: a negative offset given as the next argument is its value.

argparse takes an argument that starts with a dash for an option; ``report`` glues the value
to its flag before parsing (``prepare_argv``), with nothing of argparse's private interface.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.cli import build_parser, main
from prepcast.cli.report import prepare_argv

BASE = ["report", "--logs", "access.log", "--out", "informe"]


@pytest.mark.parametrize(("given", "value"), [
    (["--utc-offset", "-06:00"], "-06:00"),
    (["--utc-offset=-06:00"], "-06:00"),
    (["--utc-offset", "-0600"], "-0600"),
    (["--utc-offset", "-6"], "-6"),
    (["--utc-offset", "+05:30"], "+05:30"),
    (["--utc-offset", "UTC"], "UTC"),
    (["--utc", "-06:00"], "-06:00"),
    (["--utc-off", "-05:00"], "-05:00"),
])
def test_every_form_of_the_offset_is_its_value(given: list[str], value: str) -> None:
    args = build_parser("report").parse_args(prepare_argv([*BASE, *given, "--pdf"]))
    assert args.utc_offset == value and args.pdf


def test_only_the_offset_is_rewritten() -> None:
    argv = [*BASE, "--site-path", "/prep/", "--utc-offset", "-06:00", "--", "--utc-offset", "-5"]
    assert prepare_argv(argv) == [*BASE, "--site-path", "/prep/", "--utc-offset=-06:00", "--",
                                  "--utc-offset", "-5"]
    assert prepare_argv([*BASE, "--utc-offset"]) == [*BASE, "--utc-offset"]
    assert prepare_argv([*BASE, "--utc-offset", "--pdf"]) == [*BASE, "--utc-offset", "--pdf"]


@pytest.mark.parametrize("value", ["-25:00", "-0x:00", "-06:0"])
def test_a_bad_offset_after_a_space_says_which_and_why(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text("", encoding="utf-8")
    status = main(["report", "--logs", str(log), "--out", str(tmp_path / "o"),
                   "--utc-offset", value])
    err = capsys.readouterr().err
    assert status == 2
    assert err == f"prepcast: --utc-offset: expected an offset such as -06:00, not '{value}'\n"
    assert not (tmp_path / "o").exists()
