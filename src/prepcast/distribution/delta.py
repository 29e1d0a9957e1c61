"""What a difusor lacks, and the single archive that carries it to a daemon's inbox.

Content addressing makes the delta a set difference on SHA-256: a file whose content the
receiver already holds (at any path) is not sent again. ``json/main.json``, the manifest and
its signature always travel. The archive is deterministic (sorted, zero times, fixed owner),
so a dropped transfer resumes into the same bytes.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

from prepcast.distribution.contents import PackageContents
from prepcast.package.layout import MAIN_PATH


def always_sent(pkg: PackageContents) -> set[str]:
    return {MAIN_PATH, pkg.manifest_rel, pkg.signature_rel}


def lacking(pkg: PackageContents, held: Mapping[str, tuple[str, int]]) -> list[str]:
    """Paths of ``pkg`` whose content is not among ``held`` (path -> (sha256, size))."""
    have = {sha for sha, _ in held.values()}
    must = always_sent(pkg)
    return sorted(p for p, (sha, _) in pkg.files.items() if p in must or sha not in have)


def write_delta_archive(pkg: PackageContents, paths: list[str], out: Path) -> Path:
    """Write a tar of ``paths`` (relative to the package) to ``out`` atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted(paths):
            data = (pkg.root / rel).read_bytes()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "prep"
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)
    return out
