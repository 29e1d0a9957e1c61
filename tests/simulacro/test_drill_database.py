"""A drill's PREP database download says it is a drill; the jornada's is INE's layout as ever."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from prepcast.election import load_election_dir
from prepcast.election.columnar import ColumnElection
from prepcast.publish.cut import CutBuilder, open_election


def _zips(builder: CutBuilder, cut: int) -> dict[str, bytes]:
    return {p: b for p, b in builder.files(cut).files.items() if p.endswith(".zip")}


@pytest.mark.parametrize("ejercicio", ["simulacro-3", "prueba-1"])
def test_a_drill_database_says_so_in_its_leeme_and_zip_comment(
        small_election: Path, ejercicio: str) -> None:
    """Regression: a drill's database (``db/simulacro-1-0003/…_PREP_AYUN.zip``) could not be
    told apart from the jornada's: neither its LEEME.txt nor the zip said SIMULACRO. Now both
    say it, on the row path and on columns alike (the same bytes), while the CSV keeps INE's
    layout and the zip its name."""
    kind = ejercicio.split("-")[0].upper()
    on_rows = _zips(CutBuilder(load_election_dir(small_election), None, ejercicio=ejercicio), 3)
    columns = open_election(small_election)
    assert isinstance(columns, ColumnElection)
    on_cols = _zips(CutBuilder(columns, None, ejercicio=ejercicio, night=False), 3)
    assert on_rows == on_cols and on_rows
    jornada = _zips(CutBuilder(load_election_dir(small_election), None), 3)
    for path, data in on_rows.items():
        assert path.startswith(f"db/{ejercicio}-0003/") and "_PREP_" in path
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            leeme = zf.read("LEEME.txt").decode("utf-8")
            assert leeme.startswith(f"*** {kind}: DATOS FICTICIOS ***\r\n"), leeme[:200]
            assert f"Esta base de datos es del {ejercicio}" in leeme
            assert zf.comment.decode("ascii").startswith(f"{kind} ({ejercicio}): datos ficticios")
            csv_name = next(n for n in zf.namelist() if not n.startswith("LEEME")
                            and "CANDIDATURAS" not in n)
            drill_csv = zf.read(csv_name)
        same = path.replace(f"db/{ejercicio}-0003/", "db/jornada-0003/")
        with zipfile.ZipFile(io.BytesIO(jornada[same])) as zf:
            assert zf.comment == b"" and "FICTICIOS" not in zf.read("LEEME.txt").decode()
            assert zf.read(csv_name) == drill_csv  # the CSV itself: INE's layout, unchanged
            assert zf.read("LEEME.txt").decode("utf-8") == leeme.split("\r\n", 3)[3]
