"""The drop folder as the night's source: a zip is taken only when complete, recounted, and
refused (naming the figures) when its recount differs from the preamble the capture system printed."""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from prepcast.election import cut_time, load_election_dir, tally_cut
from prepcast.election.rules import get_profile
from prepcast.errors import IntegrityError
from prepcast.formats.drop_folder import RefusedCut, complete, take_cut, take_drop
from prepcast.formats.write_prep_csv import build_databases, write_database_zips
from tests.conftest import QROO, TAMAULIPAS

INE = get_profile("ine-2023")


def _zip(csv_bytes: bytes, name: str = "TAMPS_SEN_FED_ext_2023.csv") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, csv_bytes)
        zf.writestr(name.replace(".csv", "_CANDIDATURAS.csv"), b"ID_ESTADO,PARTIDO_CI\r\n")
    return buf.getvalue()


def _drop(folder: Path, name: str, data: bytes, *, sha: bool = True, age: float = 10) -> Path:
    path = folder / name
    path.write_bytes(data)
    if sha:
        (folder / (name + ".sha256")).write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    t = time.time() - age
    os.utime(path, (t, t))
    return path


def test_a_complete_zip_is_taken_once_and_recounts(tmp_path: Path) -> None:
    _drop(tmp_path, "20230220_1105_PREP_SEN.zip", _zip(TAMAULIPAS.read_bytes()))
    cut = take_cut(tmp_path, INE, last_cut=True)
    assert cut is not None and cut.eleccion == "SEN"
    assert cut.recount.rows == 4782 and cut.recount.rows_mismatched == 0
    assert cut.sha256 == hashlib.sha256(cut.path.read_bytes()).hexdigest()
    assert take_cut(tmp_path, INE, taken={cut.path.name}, last_cut=True) is None


def test_an_incomplete_zip_is_waited_for(tmp_path: Path) -> None:
    data = _zip(TAMAULIPAS.read_bytes())
    half = _drop(tmp_path, "20230220_1105_PREP_SEN.zip", data[: len(data) // 2], sha=False, age=0)
    assert complete(half) is None  # still being written (recent, not a whole zip)
    (tmp_path / "20230220_1105_PREP_SEN.zip.sha256").write_text(
        f"{hashlib.sha256(data).hexdigest()}  x\n")
    assert complete(half) is None  # its .sha256 is there, the bytes are not yet
    assert take_cut(tmp_path, INE, last_cut=True) is None
    half.write_bytes(data)
    assert complete(half) == hashlib.sha256(data).hexdigest()
    # without a .sha256: whole and unchanged for the settling time
    (tmp_path / "20230220_1105_PREP_SEN.zip.sha256").unlink()
    os.utime(half, None)
    assert complete(half, settle=5) is None
    assert complete(half, settle=5, now=time.time() + 6) == hashlib.sha256(data).hexdigest()


def test_a_zip_whose_sha256_never_matches_is_refused(tmp_path: Path) -> None:
    path = _drop(tmp_path, "20230220_1105_PREP_SEN.zip", _zip(TAMAULIPAS.read_bytes()), sha=False)
    (tmp_path / (path.name + ".sha256")).write_text("0" * 64 + "  x\n")
    with pytest.raises(IntegrityError, match="SHA-256"):
        take_cut(tmp_path, INE, last_cut=True)


def test_a_recount_that_differs_from_the_preamble_is_refused_naming_the_figures(tmp_path: Path) -> None:
    raw = TAMAULIPAS.read_bytes()
    tampered = raw.replace(b"4778,4782,4,4778,100.0000,4682,97.9907", b"4778,4782,4,4778,100.0000,4690,98.1582", 1)
    assert tampered != raw
    _drop(tmp_path, "20230220_1105_PREP_SEN.zip", _zip(tampered))
    with pytest.raises(IntegrityError) as err:
        take_cut(tmp_path, INE, last_cut=True)
    text = str(err.value)
    assert err.value.path.name == "20230220_1105_PREP_SEN.zip"  # type: ignore[attr-defined]
    assert "ACTAS_CONTABILIZADAS publicado 4690, recontado 4682" in text
    assert "PORCENTAJE_ACTAS_CONTABILIZADAS publicado 98.1582, recontado 97.9907" in text
    # a row whose CONTABILIZADA the capture system got wrong
    bad = QROO.read_bytes().replace(b"|483|6||1|F|", b"|483|6||0|F|", 1)
    assert bad != QROO.read_bytes()
    for p in tmp_path.iterdir():
        p.unlink()
    _drop(tmp_path, "20190603_0547_PREP_DIP.zip", _zip(bad, "QROO_DIP_LOC_2019.csv"))
    with pytest.raises(IntegrityError, match="en 1 filas CONTABILIZADA o TOTAL_VOTOS_CALCULADO no es lo que dan las reglas qroo-2019"):
        take_cut(tmp_path, get_profile("qroo-2019"), last_cut=True)


def test_a_cut_of_two_elections_waits_for_both_and_gives_their_feeds(
        small_election: Path, tmp_path: Path) -> None:
    ed = load_election_dir(small_election)
    p = ed.proceso
    at = cut_time(p, 10)
    cut = tally_cut(p, ed.casillas, ed.feeds, at, number=10)
    first, second = build_databases(cut)
    write_database_zips([first], tmp_path)
    assert take_drop(tmp_path, p, last_cut=lambda t: False) is None  # the other is to come
    write_database_zips([second], tmp_path)
    drop = take_drop(tmp_path, p, last_cut=lambda t: False)
    assert drop is not None and drop.stamp == f"{at:%Y%m%d_%H%M}" and drop.at == at
    assert set(drop.cuts) == {e.id for e in p.elections}
    assert all(c.recount.rows_mismatched == 0 for c in drop.cuts.values())
    # the drop's rows are the feed of its cut: the same figures again on the catalog
    again = tally_cut(p, ed.casillas, drop.feeds, at, number=10)
    for eid, er in cut.elections.items():
        assert again.elections[eid].preamble == er.preamble
        assert again.elections[eid].entidad == er.entidad
    assert take_drop(tmp_path, p, skip={drop.stamp}, last_cut=lambda t: False) is None
    # a zip of an election the proceso does not hold is refused, naming it
    later = tmp_path / f"{cut_time(p, 11):%Y%m%d_%H%M}_PREP_GUB.zip"
    later.write_bytes(first.data)
    with pytest.raises(RefusedCut, match="no nombra ninguna elección del proceso"):
        take_drop(tmp_path, p, skip={drop.stamp}, last_cut=lambda t: False)
