"""PREP database formats: read published databases, recount them, write the database of a cut."""

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
    "PublishedDatabase",
    "Recount",
    "build_databases",
    "parse_prep_csv",
    "read_prep_csv",
    "recount",
    "write_databases",
]
