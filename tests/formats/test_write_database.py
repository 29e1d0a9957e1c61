"""The PREP database of a cut: INE's 2024 layout, recountable to its own preamble, same bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir, tally_cut
from prepcast.election.rules import PREAMBLE_FIELDS, get_profile
from prepcast.election.schedule import cut_time, is_last_cut
from prepcast.formats.read_prep_csv import parse_prep_csv
from prepcast.formats.recount import recount
from prepcast.formats.write_prep_csv import DatabaseWriter, build_databases, header


@pytest.mark.parametrize("number", [1, 6, 12, 30, 73])
def test_written_database_recounts_to_its_own_preamble(small_election: Path, number: int) -> None:
    ed = load_election_dir(small_election)
    p = ed.proceso
    last = is_last_cut(p, number)
    cut = tally_cut(p, ed.casillas, ed.feeds, cut_time(p, number), number=number, last=last)
    for z in build_databases(cut):
        with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
            raw = zf.read(z.csv_name)
            names = zf.namelist()
        assert raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        lines = text.split("\r\n")
        er = cut.elections[z.eleccion]
        assert lines[0] == er.election.titulo
        assert lines[1].endswith("(UTC-6)") and lines[1][:10] == f"{cut.at:%d/%m/%Y}"
        assert lines[3] == ",".join(PREAMBLE_FIELDS)
        assert lines[6] == ",".join(header(er))
        db = parse_prep_csv(text, z.name)
        assert len(db.rows) == er.preamble.actas_registradas
        rc = recount(db, get_profile("ine-2023"), last_cut=last)
        assert rc.rows_mismatched == 0
        assert rc.differs_from_published() == []
        assert rc.preamble == er.preamble
        assert names == [z.csv_name, z.csv_name.replace(".csv", "_CANDIDATURAS.csv"), "LEEME.txt"]


def test_zip_name_and_sha256(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    cut = tally_cut(ed.proceso, ed.casillas, ed.feeds, cut_time(ed.proceso, 5), number=5)
    names = [z.name for z in build_databases(cut)]
    assert names == ["20240602_2120_PREP_DIP_LOC.zip", "20240602_2120_PREP_AYUN.zip"]


def test_same_cut_same_bytes_and_the_night_writer_agrees(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    p = ed.proceso
    writer = DatabaseWriter()
    for n in (10, 11, 20):
        cut = tally_cut(p, ed.casillas, ed.feeds, cut_time(p, n), number=n)
        fresh = [z.data for z in build_databases(cut)]
        assert fresh == [z.data for z in build_databases(cut)]
        assert fresh == [z.data for z in writer.build(cut)]


def test_leeme_describes_every_column(small_election: Path) -> None:
    ed = load_election_dir(small_election)
    cut = tally_cut(ed.proceso, ed.casillas, ed.feeds, cut_time(ed.proceso, 40), number=40)
    z = build_databases(cut)[0]
    with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
        leeme = zf.read("LEEME.txt").decode("utf-8")
    for column in (*PREAMBLE_FIELDS, *header(cut.elections[z.eleccion])):
        assert f"{column} - " in leeme, column
    assert "truncados" in leeme


def test_database_build_command(small_election: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "db"
    assert main(["database", "build", str(small_election), "--at", "2024-06-03T01:05-06:00",
                 "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["20240603_0100_PREP_AYUN.zip", "20240603_0100_PREP_AYUN.zip.sha256",
                     "20240603_0100_PREP_DIP_LOC.zip", "20240603_0100_PREP_DIP_LOC.zip.sha256"]
    import hashlib

    digest = hashlib.sha256((out / names[0]).read_bytes()).hexdigest()
    assert (out / names[1]).read_text().split()[0] == digest


def test_database_build_before_the_first_cut(small_election: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["database", "build", str(small_election), "--at", "2024-06-02T19:00",
                 "--out", str(tmp_path / "db")])
    assert code == 2
    assert "before the first cut" in capsys.readouterr().err
    assert not (tmp_path / "db").exists()


def test_leeme_gives_the_elections_utc_offset(tmp_path: Path) -> None:
    # It said (UTC-6) for every election; Quintana Roo is UTC-5, as the CSV beside it says.
    from tests.conftest import QROO

    assert main(["election", "import", str(QROO), "--rules", "qroo-2019",
                 "--out", str(tmp_path / "qroo")]) == 0
    assert main(["database", "build", str(tmp_path / "qroo"), "--at", "2019-06-03T05:47-05:00",
                 "--out", str(tmp_path / "db")]) == 0
    (zipped,) = (tmp_path / "db").glob("*.zip")
    with zipfile.ZipFile(zipped) as zf:
        leeme = zf.read("LEEME.txt").decode("utf-8")
        csv_text = zf.read(next(n for n in zf.namelist() if n.endswith("2019.csv"))).decode("utf-8-sig")
    assert "03/06/2019 05:47 (UTC-5)" in csv_text.splitlines()[1]
    assert "(dd/mm/aaaa hh:mm (UTC-5))" in leeme and "UTC-6" not in leeme
