"""The night's database writer on columns: each record's row formatted once, each cut gathering
the rows it holds — the same bytes as formatting each cut's rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepcast.election.columnar import load_columns, tally_columns
from prepcast.election.schedule import cut_time
from prepcast.election.synthetic import generate
from prepcast.formats.write_prep_csv_columns import ColumnDatabaseWriter, build_databases_columns
from tests.once import made_once


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "nacional-small-5",
                     lambda d: generate("nacional-small", 5, d / "e"))


@pytest.mark.parametrize("which", ["small", "national"])
def test_a_night_of_cuts_gives_the_bytes_of_each_cut_alone(which: str, small_election: Path,
                                                           national: Path) -> None:
    root = small_election if which == "small" else national
    night = load_columns(root)
    alone = load_columns(root)
    assert night is not None and alone is not None
    writer = ColumnDatabaseWriter()
    for n in (2, 5, 11, 30, 73):
        at = cut_time(night.proceso, n)
        zips = writer.build(tally_columns(night, at, number=n, last=n == 73))
        expected = build_databases_columns(tally_columns(alone, at, number=n, last=n == 73))
        assert [z.data for z in zips] == [z.data for z in expected]
        assert len(zips) == len(night.proceso.elections)
