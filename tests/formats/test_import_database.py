"""`prepcast election import`: both real published databases become election directories whose
last cut's database recounts to the figures each institute published; bad rows come back at once."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from prepcast.cli import main
from prepcast.election import load_election_dir, tally_cut
from prepcast.election.columnar import load_columns
from prepcast.election.rules import get_profile
from prepcast.formats.read_prep_csv import parse_prep_csv, read_prep_csv
from prepcast.formats.recount import recount
from prepcast.formats.write_prep_csv import build_databases
from tests.conftest import QROO, REAL, TAMAULIPAS

CASES = [
    (TAMAULIPAS, REAL / "tamaulipas-2023-sen-ext" / "TAMPS_SEN_FED_ext_Candidaturas_2023.csv",
     "ine-2023", "2023-02-20T11:05"),
    (QROO, REAL / "qroo-2019-dip-loc" / "QROO_DIP_CANDIDATURAS_2019.csv", "qroo-2019",
     "2019-06-03T05:47"),
]


@pytest.mark.parametrize(("database", "candidaturas", "rules", "at"), CASES,
                         ids=["tamaulipas-2023", "qroo-2019"])
def test_real_database_imported_recounts_to_its_published_preamble(
        tmp_path: Path, database: Path, candidaturas: Path, rules: str, at: str) -> None:
    out = tmp_path / "e"
    assert main(["election", "import", str(database), "--candidaturas", str(candidaturas),
                 "--rules", rules, "--out", str(out)]) == 0
    ed = load_election_dir(out)
    (election,) = ed.proceso.elections
    assert len(ed.casillas) == int(read_prep_csv(database).preamble["ACTAS_ESPERADAS"])
    assert election.candidaturas  # from the candidaturas file, in prepcast's column names
    assert load_columns(out) is not None  # the imported files are plain: the columnar engine
    assert main(["database", "build", str(out), "--at", at, "--out", str(tmp_path / "db")]) == 0
    (zpath,) = sorted((tmp_path / "db").glob("*.zip"))
    with zipfile.ZipFile(zpath) as zf:
        text = zf.read(f"{election.file_stem}.csv").decode("utf-8-sig")
    published = read_prep_csv(database)
    rc = recount(parse_prep_csv(text, zpath.name), get_profile(rules), last_cut=True)
    assert rc.rows_mismatched == 0
    assert rc.rows == len(published.rows)
    assert {k: str(v) for k, v in rc.preamble.as_dict().items()} == {
        k: published.preamble[k].strip() for k in rc.preamble.as_dict()}  # all 13 figures
    # and the row engine writes the same bytes
    p = ed.proceso
    rows = build_databases(tally_cut(p, ed.casillas, ed.feeds, p.end, number=1, last=True))
    with zipfile.ZipFile(io.BytesIO(rows[0].data)) as zf:
        assert zf.read(f"{election.file_stem}.csv").decode("utf-8-sig") == text


def test_bad_rows_reported_at_once_with_their_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines = QROO.read_bytes().decode("utf-8").split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("CLAVE_CASILLA"))
    bad = lines[header + 3].split("|")
    bad[8] = "Q"  # TIPO_CASILLA
    lines[header + 3] = "|".join(bad)
    worse = lines[header + 10].split("|")
    worse[16] = "mil"  # PAN
    lines[header + 10] = "|".join(worse)
    src = tmp_path / "db.csv"
    src.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "e"
    assert main(["election", "import", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:{header + 4}: TIPO_CASILLA: unknown casilla type 'Q'" in err
    assert f"{src}:{header + 11}: PAN: not a vote count: 'mil'" in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".e*"))


def test_a_database_missing_casillas_asks_for_the_catalog(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    lines = QROO.read_bytes().decode("utf-8").split("\n")
    src = tmp_path / "db.csv"
    src.write_text("\n".join(lines[:-20]) + "\n", encoding="utf-8")
    assert main(["election", "import", str(src), "--out", str(tmp_path / "e")]) == 2
    assert "give the catalog with --catalogo" in capsys.readouterr().err
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "notas.txt").write_text("mías")  # an empty folder is taken; this one not
    assert main(["election", "import", str(QROO), "--out", str(tmp_path / "e")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_the_institute_names_the_proceso(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019",
                 "--out", str(tmp_path / "default")]) == 0
    assert load_election_dir(tmp_path / "default").proceso.institute == "QROO"  # from its name
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019", "--instituto", "IEQROO",
                 "--out", str(tmp_path / "given")]) == 0
    assert load_election_dir(tmp_path / "given").proceso.institute == "IEQROO"
    assert main(["election", "import", str(QROO), "--instituto", "IE QROO",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "--instituto 'IE QROO': letters, digits and '-' only" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_the_catalog_given_is_read_and_checked_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019",
                 "--out", str(tmp_path / "first")]) == 0
    good = tmp_path / "first" / "casillas.csv"
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019", "--catalogo", str(good),
                 "--out", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "casillas.csv").read_bytes() == good.read_bytes()
    capsys.readouterr()
    readme = Path(__file__).parents[2] / "README.md"
    foo = tmp_path / "foo.csv"
    foo.write_text("foo,bar\n1,2\n", encoding="utf-8")
    short = tmp_path / "short.csv"
    rows = good.read_text(encoding="utf-8").splitlines()
    short.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")  # its last casilla left out
    for catalog, says in [(readme, f"{readme}:1: missing column(s) ID_ENTIDAD"),
                          (foo, f"{foo}:1: missing column(s) ID_ENTIDAD"),
                          (tmp_path / "nonexist.csv", f"{tmp_path / 'nonexist.csv'}: missing"),
                          (short, f"is not in the catalog {short}")]:
        out = tmp_path / "e"
        assert main(["election", "import", str(QROO), "--rules", "qroo-2019",
                     "--catalogo", str(catalog), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err
        assert not out.exists() and not list(tmp_path.glob(".e*"))


def test_import_takes_an_empty_folder_but_never_a_full_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `election generate` took an existing empty folder, `import` refused it."""
    empty = tmp_path / "vacia"
    empty.mkdir()
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019", "--out",
                 str(empty)]) == 0
    assert (empty / "election.toml").is_file()
    assert main(["election", "import", str(QROO), "--rules", "qroo-2019", "--out",
                 str(empty)]) == 2
    assert "already exists; give a new or empty directory" in capsys.readouterr().err


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_database_zip_imports_as_the_csv_inside_it(tmp_path: Path) -> None:
    """Regression: a zip took its default ids from its own name (``20190603_0547_PREP_DIP_LOC``:
    institute ``20190603``); now from the CSV inside it, as that CSV given directly."""
    candidaturas = REAL / "qroo-2019-dip-loc" / "QROO_DIP_CANDIDATURAS_2019.csv"
    db = _zip(tmp_path / "20190603_0547_PREP_DIP_LOC.zip", {
        "QROO_DIP_LOC_2019.csv": QROO.read_bytes(),
        "QROO_DIP_CANDIDATURAS_2019.csv": candidaturas.read_bytes(),
        "LEEME.txt": (REAL / "qroo-2019-dip-loc" / "LEEME.txt").read_bytes()})
    args = ["--candidaturas", str(candidaturas), "--rules", "qroo-2019"]
    assert main(["election", "import", str(db), *args, "--out", str(tmp_path / "z")]) == 0
    assert main(["election", "import", str(QROO), *args, "--out", str(tmp_path / "c")]) == 0
    ed = load_election_dir(tmp_path / "z")
    assert ed.proceso.institute == "QROO"
    (election,) = ed.proceso.elections
    assert (election.id, election.file_stem) == ("QROO_DIP_LOC_2019", "QROO_DIP_LOC_2019")
    for name in ("election.toml", "casillas.csv", "candidaturas/QROO_DIP_LOC_2019.csv",
                 "capturas/QROO_DIP_LOC_2019.csv"):
        assert (tmp_path / "z" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name


@pytest.mark.parametrize(("members", "said"), [
    ({"LEEME.txt": b"nada"}, "holds 0 database CSVs, not one (none)"),
    ({"QROO_DIP_LOC_2019.csv": b"", "OTRA_2019.csv": b""},
     "holds 2 database CSVs, not one (QROO_DIP_LOC_2019.csv, OTRA_2019.csv)"),
])
def test_a_zip_without_exactly_one_database_is_refused(
        tmp_path: Path, members: dict[str, bytes], said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = _zip(tmp_path / "20190603_0547_PREP_DIP_LOC.zip", members)
    assert main(["election", "import", str(db), "--out", str(tmp_path / "e")]) == 2
    assert capsys.readouterr().err == f"prepcast: {db}: {said}\n"
    assert not (tmp_path / "e").exists() and not list(tmp_path.glob(".e*"))
