"""A malformed published database ends in one clear message naming file, line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prepcast.cli import main
from tests.conftest import TAMAULIPAS


def _lines() -> list[str]:
    return TAMAULIPAS.read_bytes().decode("utf-8-sig").split("\r")


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    code = main(["results", "recount", str(path), "--json"])
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_not_a_prep_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, "a,b,c\n1,2,3\n", capsys)
    assert code == 2
    assert "bad.csv" in err and "ACTAS_ESPERADAS" in err


def test_vote_field_not_a_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines()
    fields = lines[9].split(",")
    fields[17] = "doce"  # PRI
    lines[9] = ",".join(fields)
    code, err = _run(tmp_path, "\r".join(lines), capsys)
    assert code == 2
    assert "bad.csv:10: PRI: not a vote count: 'doce'" in err


def test_row_with_missing_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines()
    lines[12] = ",".join(lines[12].split(",")[:20])
    code, err = _run(tmp_path, "\r".join(lines), capsys)
    assert code == 2
    assert "bad.csv:13: 20 fields, header has 44" in err


def test_unknown_column_is_reported_not_guessed(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    lines = _lines()
    lines[6] = lines[6].replace("MECANISMOS_TRASLADO", "MECANISMO_RARO")
    code, err = _run(tmp_path, "\r".join(lines), capsys)
    assert code == 2
    assert "unknown column MECANISMO_RARO" in err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["results", "recount", str(tmp_path / "nope.csv")])
    assert code == 2
    assert "nope.csv: cannot read" in capsys.readouterr().err


def test_no_traceback_from_the_installed_command(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "prepcast", "results", "recount", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("prepcast: ")
