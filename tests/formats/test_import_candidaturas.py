"""The candidaturas file of ``election import``: read in its own encoding, and only the
database's own.

Quintana Roo's candidaturas file is cp1252; it was read as UTF-8 with replacement characters,
and 43 names such as ``MAURICIO DELFIN AVENDA�O`` reached the public site and the database zip.
Another election's candidaturas (Tamaulipas' senate file with Quintana Roo's database) were taken
without a word, replacing the 265 candidaturas of the distritos with 11 of another entidad."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir
from tests.conftest import QROO, REAL, TAMAULIPAS

QROO_CANDIDATURAS = REAL / "qroo-2019-dip-loc" / "QROO_DIP_CANDIDATURAS_2019.csv"
TAMPS_CANDIDATURAS = REAL / "tamaulipas-2023-sen-ext" / "TAMPS_SEN_FED_ext_Candidaturas_2023.csv"


def _names(text: str) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(text), delimiter="|" if "|" in text else ","))
    return {r[k].strip() for r in rows for k in ("CANDIDATURA_PROPIETARIA", "CANDIDATURA_SUPLENTE")
            if r.get(k, "").strip()}


def test_the_cp1252_candidaturas_reach_the_database_zip_as_published(tmp_path: Path) -> None:
    published = _names(QROO_CANDIDATURAS.read_bytes().decode("cp1252"))
    assert "MAURICIO DELFIN AVENDAÑO" in published and len(published) == 193
    out = tmp_path / "qroo"
    assert main(["election", "import", str(QROO), "--candidaturas", str(QROO_CANDIDATURAS),
                 "--rules", "qroo-2019", "--out", str(out)]) == 0
    (election,) = load_election_dir(out, with_feeds=False).proceso.elections
    assert {c.propietaria for c in election.candidaturas} | {
        c.suplente for c in election.candidaturas if c.suplente} == published
    assert main(["database", "build", str(out), "--at", "2019-06-03T05:47",
                 "--out", str(tmp_path / "db")]) == 0
    (zpath,) = sorted((tmp_path / "db").glob("*.zip"))
    with zipfile.ZipFile(zpath) as zf:
        [name] = [n for n in zf.namelist() if "CANDIDATURAS" in n.upper()]
        text = zf.read(name).decode("utf-8-sig")
    assert "\ufffd" not in text
    assert _names(text) == published  # every name as published, Ñ intact


def test_candidaturas_that_are_not_text_are_refused_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cand.csv"
    bad.write_bytes(b"ID_ESTADO,PARTIDO_CI,CANDIDATURA_PROPIETARIA\r\n23,PAN,AVENDA\x81O\r\n")
    assert main(["election", "import", str(QROO), "--candidaturas", str(bad), "--rules",
                 "qroo-2019", "--out", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"prepcast: {bad}: not text in UTF-8 nor in cp1252") and err.count("\n") == 1
    assert not (tmp_path / "e").exists()


def test_another_elections_candidaturas_are_refused_naming_what_does_not_match(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "e"
    assert main(["election", "import", str(QROO), "--candidaturas", str(TAMPS_CANDIDATURAS),
                 "--rules", "qroo-2019", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{TAMPS_CANDIDATURAS}:2: ID_ESTADO: 28 (11 rows) is not the entidad of the database " \
           f"{QROO} (23)" in err
    assert f"{TAMPS_CANDIDATURAS}:8: PARTIDO_CI: PAN-PRI, PRI-PRD, PAN-PRI-PRD (3 rows): no such " \
           "vote column" in err
    assert not out.exists()
    # the other way round: Quintana Roo's distritos and parties are not Tamaulipas'
    assert main(["election", "import", str(TAMAULIPAS), "--candidaturas", str(QROO_CANDIDATURAS),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ID_ESTADO: 23 (265 rows) is not the entidad" in err
    assert "ID_DISTRITO_LOCAL: 10, 11, 12, 13, 14, 15 (111 rows): not an ID_DISTRITO" in err
    assert "PARTIDO_CI: MC, MAS, CI_1" in err
    assert not out.exists()
