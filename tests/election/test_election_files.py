"""Reading an election directory: every problem reported at once, with file, line and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir
from prepcast.election.feed import read_feed
from prepcast.errors import InputError


@pytest.fixture()
def election(small_election: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "e"
    shutil.copytree(small_election, dest)
    return dest


def test_small_election_loads(election: Path) -> None:
    ed = load_election_dir(election)
    assert [e.id for e in ed.proceso.elections] == ["DIP_LOC", "AYUN"]
    dip = ed.proceso.election("DIP_LOC")
    assert dip.column_ids[:7] == ("PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA")
    assert "PAN-PRI-PRD" in dip.column_ids and "PVEM-MORENA" in dip.column_ids
    assert dip.column_ids[-3:] == ("CI_1", "NO_REGISTRADAS", "NULOS")
    assert 200 < len(ed.casillas) < 400
    assert ed.feeds["DIP_LOC"] and ed.feeds["AYUN"]
    assert {c.tipo for c in ed.casillas} >= {"B", "C", "S"}


def test_catalog_problems_are_all_reported(election: Path) -> None:
    path = election / "casillas.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    f = lines[3].split(",")
    f[6] = "Q"
    lines[3] = ",".join(f)
    f = lines[5].split(",")
    f[10] = "mil"
    lines[5] = ",".join(f)
    lines.append(lines[2])  # a repeated casilla
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_election_dir(election)
    text = str(err.value)
    assert "casillas.csv:4: TIPO_CASILLA: unknown casilla type 'Q'" in text
    assert "casillas.csv:6: LISTA_NOMINAL: not a whole number: 'mil'" in text
    assert "repeats line 3" in text


def test_bad_toml_names_the_file(election: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (election / "election.toml").write_text("nombre = [unclosed\n", encoding="utf-8")
    code = main(["database", "build", str(election), "--at", "2024-06-02T23:00", "--out",
                 str(election / "out")])
    assert code == 2
    assert "election.toml: not valid TOML" in capsys.readouterr().err
    assert not (election / "out").exists()


def test_unknown_party_and_rules(election: Path) -> None:
    toml = election / "election.toml"
    text = toml.read_text(encoding="utf-8").replace('rules = "ine-2023"', 'rules = "ine-1990"')
    text = text.replace('partidos = ["PAN",', 'partidos = ["PANAL", "PAN",', 1)
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_election_dir(election)
    assert "unknown rules 'ine-1990'" in str(err.value)
    assert "unknown party 'PANAL'" in str(err.value)


def test_feed_bad_field_names_line_and_column(election: Path) -> None:
    feed = election / "capturas" / "AYUN.csv"
    lines = feed.read_text(encoding="utf-8").splitlines()
    f = lines[4].split(",")
    f[13] = "muchos"  # PAN
    lines[4] = ",".join(f)
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"AYUN.csv:5: PAN: not a number, Ilegible or Sin dato"):
        load_election_dir(election)


def test_feed_line_still_being_written_is_left_for_later(election: Path) -> None:
    ed = load_election_dir(election)
    e = ed.proceso.election("DIP_LOC")
    feed = election / "capturas" / "DIP_LOC.csv"
    whole = list(read_feed(feed, e, ed.proceso.tz))
    data = feed.read_bytes()
    feed.write_bytes(data + data.splitlines(keepends=True)[3][:40])  # half a line, no line end
    assert len(list(read_feed(feed, e, ed.proceso.tz))) == len(whole)


def test_feed_with_an_unknown_column(election: Path) -> None:
    feed = election / "capturas" / "DIP_LOC.csv"
    text = feed.read_text(encoding="utf-8").replace("NULOS,", "NULOS,EXTRA,", 1)
    feed.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown column\(s\) EXTRA"):
        load_election_dir(election)


@pytest.mark.parametrize(("spoil", "says"), [
    (lambda p: p.unlink(), "missing"),
    (lambda p: (p.unlink(), p.mkdir()), "cannot read: Is a directory"),
    (lambda p: p.write_bytes(b"SECCION,CASILLA\n1,B\xe1sica\n"),
     "not UTF-8 (invalid continuation byte at byte 19)"),
])
def test_a_catalog_that_cannot_be_read_is_one_message_naming_it(
        election: Path, spoil: Callable[[Path], object], says: str) -> None:
    path = election / "casillas.csv"
    spoil(path)
    with pytest.raises(InputError) as err:
        load_election_dir(election)
    assert str(err.value) == f"{path}: {says}"


def test_an_election_description_that_is_not_text_names_it(
        election: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (election / "election.toml").write_bytes(b"nombre = \"Elecci\xf3n\"\n")
    assert main(["database", "build", str(election), "--at", "2024-06-02T23:00", "--out",
                 str(election / "out")]) == 2
    assert f"{election / 'election.toml'}: not valid TOML: not text in UTF-8" in \
        capsys.readouterr().err
