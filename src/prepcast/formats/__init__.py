"""PREP database formats: read published databases, recount them, write the database of a cut
(on columns: :mod:`prepcast.formats.write_prep_csv_columns`), import a published database as an
election, take cuts from a drop folder."""

from prepcast.formats.drop_folder import DroppedCut, RefusedCut, take_cut
from prepcast.formats.import_prep_csv import import_database
from prepcast.formats.read_prep_csv import PublishedDatabase, parse_prep_csv, read_prep_csv
from prepcast.formats.recount import Recount, recount
from prepcast.formats.write_prep_csv import (
    DatabaseWriter,
    DatabaseZip,
    build_databases,
    write_databases,
)

__all__ = [
    "DatabaseWriter",
    "DatabaseZip",
    "DroppedCut",
    "PublishedDatabase",
    "Recount",
    "RefusedCut",
    "build_databases",
    "import_database",
    "parse_prep_csv",
    "read_prep_csv",
    "recount",
    "take_cut",
    "write_databases",
]
