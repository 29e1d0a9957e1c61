"""What a package directory holds, as the pusher needs it: every file with its hash and size.

The manifest lists the immutable files; the pusher also moves what the manifest leaves out
(``json/main.json``, the manifest and its signature), so it walks the directory and hashes
every regular file. Cut number, embargo and digest come from the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prepcast.errors import InputError, IntegrityError
from prepcast.package.ejercicio import CutId, Ejercicio
from prepcast.package.layout import MUTABLE_PATHS, manifest_path, signature_path
from prepcast.package.manifest import find_manifest_path


@dataclass(frozen=True)
class PackageContents:
    """A package on the institute's disk: cut, embargo, manifest digest, files (sha256, size)."""

    root: Path
    ejercicio: str
    cut: int
    not_before: datetime
    digest: str
    files: dict[str, tuple[str, int]]

    @property
    def cut_id(self) -> CutId:
        return CutId.of(self.ejercicio, self.cut)

    @property
    def manifest_rel(self) -> str:
        return manifest_path(self.ejercicio, self.cut)

    @property
    def signature_rel(self) -> str:
        return signature_path(self.ejercicio, self.cut)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files.values())

    def immutable(self) -> dict[str, tuple[str, int]]:
        return {p: v for p, v in self.files.items() if p not in MUTABLE_PATHS}


def read_package(root: str | Path,
                 known: Mapping[str, tuple[str, int]] | None = None) -> PackageContents:
    """Hash every file of the package at ``root`` and read its manifest's cut and embargo.

    ``known`` (path -> sha256, size) holds files the caller has just checked against the
    package's verified manifest: one of those whose size on disk is the same is not hashed
    again (a difusor checks every file it receives in any case)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError.at(root, "package directory not found")
    ejercicio, cut, not_before, digest = _manifest_facts(root)
    files: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink() or not full.is_file():
                raise InputError.at(full, "a package holds only regular files")
            if known is not None and rel in known and full.stat().st_size == known[rel][1]:
                files[rel] = known[rel]
                continue
            data = full.read_bytes()
            files[rel] = (hashlib.sha256(data).hexdigest(), len(data))
    return PackageContents(root, ejercicio, cut, not_before, digest, files)


def _manifest_facts(root: Path) -> tuple[str, int, datetime, str]:
    try:
        path = find_manifest_path(root)
        raw = path.read_bytes()
    except (IntegrityError, OSError):
        raise InputError.at(root, "no manifests/<ejercicio>-<cut>.json: not a package") from None
    try:
        doc = json.loads(raw)
        cut = int(doc["cut"])
        ejercicio = str(doc["ejercicio"])
        Ejercicio.parse(ejercicio)
        not_before = datetime.fromisoformat(str(doc["not_before"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError.at(path, f"unreadable manifest: {exc}") from None
    if not_before.tzinfo is None:
        raise InputError.at(path, "not_before has no UTC offset", field="not_before")
    return ejercicio, cut, not_before, hashlib.sha256(raw).hexdigest()
