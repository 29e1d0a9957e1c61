"""The public results site (prototipo navegable): static assets and the data files they read.

``site_files(cut, databases, difusores) -> SiteFiles`` gives every file of the site for one cut
(``.files``: path -> bytes) and what goes under ``signed.data`` in ``json/main.json``
(``.main_fields``). See ``docs/site.md`` for the layout and the JSON Schemas.
"""

from prepcast.site.data import SCHEMA, DatabaseZip, SiteFiles, SiteWriter, site_files
from prepcast.site.validation import validate

__all__ = ["SCHEMA", "DatabaseZip", "SiteFiles", "SiteWriter", "site_files", "validate"]
