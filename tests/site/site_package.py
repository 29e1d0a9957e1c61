"""Write a site package for the tests: the site's files, the database zips and a main.json.

The site does not check signatures (difusores do, before serving), so the tests write an
unsigned ``json/main.json`` of the package's shape; the package engineer's tests cover signing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepcast.election import ElectionDir, cut_time, display_time, is_last_cut, tally_cut
from prepcast.election.tally import CutResults
from prepcast.formats.write_prep_csv import build_databases
from prepcast.site import SiteFiles, site_files
from prepcast.site.data import database_path

XSS = "<img src=x onerror=alert(1)>"
DIFUSORES = [
    {"nombre": "Diario del Valle", "url": "https://diario-del-valle.example"},
    {"nombre": XSS, "url": "javascript:alert(1)"},
]


@dataclass
class PublishedCut:
    cut: CutResults
    site: SiteFiles
    main: dict[str, Any]


def build_cut(ed: ElectionDir, number: int, **kw: Any) -> tuple[CutResults, SiteFiles]:
    p = ed.proceso
    cut = tally_cut(
        p, ed.casillas, ed.feeds, cut_time(p, number), number=number, last=is_last_cut(p, number)
    )
    return cut, site_files(cut, build_databases(cut), DIFUSORES, **kw)


def publish(ed: ElectionDir, number: int, root: Path, **kw: Any) -> PublishedCut:
    """Write cut ``number`` into ``root`` (files first, then main.json by rename)."""
    cut, site = build_cut(ed, number, **kw)
    for path, data in site.files.items():
        _write(root / path, data)
    for z in build_databases(cut):
        _write(root / database_path(number, z.name), z.data)
    at = cut.at.astimezone(ed.proceso.tz)
    main = {
        "signatures": [],
        "signed": {
            "schema": "prepcast.main/1",
            "cut": number,
            "cut_time": at.isoformat(),
            "cut_display": display_time(at),
            "data": site.main_fields,
        },
    }
    _write(root / "json" / "main.json", json.dumps(main, ensure_ascii=False).encode())
    return PublishedCut(cut, site, main)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
