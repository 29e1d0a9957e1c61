"""The commands of the README's performance table run as given.

The replay rows gave ``CANDIDATURAS=…/TAMPS_SEN_FED_ext_Candidaturas_2023.csv`` with a literal
ellipsis, a command nobody can paste."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _table_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    return [c for row in rows for c in re.findall(r"`([^`]*)`", row)
            if re.match(r"(/usr/bin/time( -v)? )?(make|\.venv/bin/python|benchmarks/)", c)]


def test_the_performance_tables_commands_name_real_files() -> None:
    commands = _table_commands()
    replays = [c for c in commands if "FROM_DATABASE=" in c]
    assert len(replays) >= 2
    for command in commands:
        assert "…" not in command, command
    for command in replays:
        for name, value in re.findall(r"\b([A-Z_]+)=(\S+)", command):
            if name in ("FROM_DATABASE", "CANDIDATURAS"):
                assert (REPO / value).is_file(), f"{name}={value} in {command}"
