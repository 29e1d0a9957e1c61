"""PREP database formats: read published databases, recount them, write the database of a cut
(on columns: :mod:`prepcast.formats.write_prep_csv_columns`), import a published database as an
election, take cuts from a drop folder.

The names below are imported when first used, so a command that needs one module of this
package (``prepcast database build``) does not load the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prepcast._lazy import members as _members

# ``read_prep_csv`` and ``recount`` name both a module of this package and its function: imported
# now, so that ``prepcast.formats.recount`` is the function whichever module is loaded first.
from prepcast.formats.read_prep_csv import PublishedDatabase, parse_prep_csv, read_prep_csv
from prepcast.formats.recount import Recount, recount

if TYPE_CHECKING:
    from prepcast.formats.drop_folder import Drop, DroppedCut, RefusedCut, take_cut, take_drop
    from prepcast.formats.import_prep_csv import import_database
    from prepcast.formats.write_prep_csv import (
        DatabaseWriter,
        DatabaseZip,
        build_databases,
        write_databases,
    )

_WHERE = {
    "Drop": "drop_folder", "DroppedCut": "drop_folder", "RefusedCut": "drop_folder",
    "take_cut": "drop_folder", "take_drop": "drop_folder",
    "import_database": "import_prep_csv",
    "DatabaseWriter": "write_prep_csv", "DatabaseZip": "write_prep_csv",
    "build_databases": "write_prep_csv", "write_databases": "write_prep_csv",
}

__all__ = [
    "DatabaseWriter",
    "DatabaseZip",
    "Drop",
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
    "take_drop",
    "write_databases",
]


__getattr__, __dir__ = _members(__name__, _WHERE)
