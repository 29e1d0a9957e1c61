"""Write a signed site package for the tests: the site's files, the database zips, a manifest
and a signed ``json/main.json``, with keys made once per test session.

The page checks the institute's signature in the browser, so the tests publish real packages
(``prepcast.package.assemble``) signed by a root key the site's script carries.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from prepcast.election import ElectionDir, cut_time, is_last_cut, tally_cut
from prepcast.election.tally import CutResults
from prepcast.formats.write_prep_csv import build_databases
from prepcast.package import assemble, init_keys, load_signer
from prepcast.package.canonical import canonical_json
from prepcast.package.keys import Signer
from prepcast.package.sign import b64
from prepcast.site import SiteFiles, SiteWriter, site_files

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
    root: Path


@cache
def keys() -> Path:
    """A key directory for the whole test session (root key, cut key, keyring)."""
    top = tempfile.mkdtemp(prefix="prepcast-site-keys-")
    atexit.register(shutil.rmtree, top, True)
    keydir = Path(top) / "keys"
    init_keys(keydir)
    return keydir


@cache
def signer() -> Signer:
    return load_signer(keys())


def build_cut(ed: ElectionDir, number: int, **kw: Any) -> tuple[CutResults, SiteFiles]:
    p = ed.proceso
    cut = tally_cut(
        p, ed.casillas, ed.feeds, cut_time(p, number), number=number, last=is_last_cut(p, number)
    )
    kw.setdefault("root_key", signer().root_public)
    return cut, site_files(cut, build_databases(cut), DIFUSORES, **kw)


def publish(ed: ElectionDir, number: int, root: Path, *, previous: Path | None = None,
            ejercicio: str = "jornada", **kw: Any) -> PublishedCut:
    """Write the signed package of cut ``number`` of ``ejercicio`` as ``root`` (replacing it
    whole); ``previous``: the previous cut's package (chained, and its history extended)."""
    if previous is not None:
        kw.setdefault("history", SiteWriter().history_after(previous))
    cut, site = build_cut(ed, number, ejercicio=ejercicio, **kw)
    files = dict(site.files)
    bases = json.loads(files[site.main_fields["bases"]])
    for z, b in zip(build_databases(cut), bases["bases"], strict=True):
        files[b["ruta"]] = z.data
    at = cut.at.astimezone(ed.proceso.tz)
    assemble(root, files, cut=number, proceso=f"{ed.proceso.institute}-{ed.proceso.year}",
             cut_time=at, not_before=at, expires=at + timedelta(days=30), previous=previous,
             signer=signer(), main_fields=site.main_fields, ejercicio=ejercicio)
    main = json.loads((root / "json" / "main.json").read_bytes())
    return PublishedCut(cut, site, main, root)


def resign_main(root: Path, by: Signer | None = None, *, drop: tuple[str, ...] = (),
                **changes: Any) -> dict[str, Any]:
    """Rewrite ``root``'s main.json with ``changes`` in its signed part and without the fields
    ``drop``, signed again by ``by`` (the session's cut key by default)."""
    doc = json.loads((root / "json" / "main.json").read_bytes())
    signed = {k: v for k, v in {**doc["signed"], **changes}.items() if k not in drop}
    key = by or signer()
    new = {"signed": signed,
           "signatures": [{"keyid": key.keyid, "sig": b64(key.sign(canonical_json(signed)))}]}
    (root / "json" / "main.json").write_bytes(canonical_json(new))
    return new
