"""Databases given on the command line: the zip institutes publish is read, and a file that is
not text is refused naming it.

``results recount`` on a database zip answered "a file given is not text in UTF-8 (character maps
to <undefined> at byte 82)", naming no file and refusing the zip that institutes publish and
``database build`` writes; ``election import`` on a binary file said the same."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from prepcast.cli import main
from tests.conftest import QROO

QROO_CANDIDATURAS = QROO.with_name("QROO_DIP_CANDIDATURAS_2019.csv")


def _published_zip(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(QROO.name, QROO.read_bytes())
        zf.writestr("QROO_DIP_LOC_2019_CANDIDATURAS.csv", QROO_CANDIDATURAS.read_bytes())
        zf.writestr("LEEME.txt", "Base de datos del PREP\n".encode("cp1252"))
    path.write_bytes(buf.getvalue())
    return path


def test_results_recount_reads_the_database_zip(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    z = _published_zip(tmp_path / "20190603_0547_PREP_QROO_DIP_LOC_2019.zip")
    assert main(["results", "recount", str(z), "--rules", "qroo-2019", "--last-cut",
                 "--json"]) == 0
    from_zip = json.loads(capsys.readouterr().out)
    assert main(["results", "recount", str(QROO), "--rules", "qroo-2019", "--last-cut",
                 "--json"]) == 0
    assert from_zip == json.loads(capsys.readouterr().out)
    assert from_zip["ACTAS_CONTABILIZADAS"] == 2031 and from_zip["rows_mismatched"] == 0


@pytest.mark.parametrize(("content", "says"), [
    (b"\x7fELF\x02\x01\x01\x00" * 40, "not a text file (it holds NUL bytes)"),
    (b"ACTAS_ESPERADAS\r\n\x81\x8d\x90\r\n", "not text in UTF-8 nor in cp1252 (byte 17"),
    (b"PK\x03\x04 not really a zip", "not a readable zip"),
])
def test_an_undecodable_input_is_refused_naming_the_file(
        content: bytes, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    given = tmp_path / "bin.csv"
    given.write_bytes(content)
    for argv in (["results", "recount", str(given)],
                 ["election", "import", str(given), "--out", str(tmp_path / "e")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"prepcast: {given}: {says}") and err.count("\n") == 1, err
    assert not (tmp_path / "e").exists()
