"""The public results site (prototipo navegable): static assets and the data files they read.

``site_files(cut, databases, difusores) -> SiteFiles`` gives every file of the site for one cut
(``.files``: path -> bytes), what goes under ``signed.data`` in ``json/main.json``
(``.main_fields``) and the night's history (``.history``, which the next cut extends:
``history_json``, ``read_history``); ``seccion_index`` is the Mi sección index. See
``docs/site.md`` for the layout and the JSON Schemas.
"""

from prepcast.site.data import SCHEMA, DatabaseZip, SiteFiles, SiteWriter, site_files
from prepcast.site.history import history_json, read_history
from prepcast.site.search_index import seccion_index
from prepcast.site.validation import validate

__all__ = [
    "SCHEMA",
    "DatabaseZip",
    "SiteFiles",
    "SiteWriter",
    "history_json",
    "read_history",
    "seccion_index",
    "site_files",
    "validate",
]
