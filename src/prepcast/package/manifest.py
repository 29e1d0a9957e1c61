"""The manifest of a cut: every file with its SHA-256 and size, the cut, its times and chain.

:func:`parse_manifest` is pure (bytes in, a manifest or failures out); :func:`load_manifest`
finds and reads the manifest of a package directory.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.errors import IntegrityError
from prepcast.package.canonical import canonical_json, sha256_hex
from prepcast.package.ejercicio import CutId, is_ejercicio
from prepcast.package.layout import MAIN_PATH, manifest_path, signature_path

MANIFEST_SCHEMA = "prepcast.manifest/1"
_HEX64 = frozenset("0123456789abcdef")
_MAIN_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    proceso: str
    ejercicio: str  # prueba-N, simulacro-N or jornada
    cut: int
    built_at: datetime
    not_before: datetime
    expires: datetime
    previous: str | None  # digest of the previous cut's manifest
    previous_cut: int | None
    keyid: str
    keyring: str  # path of the keyring file inside the package
    keyring_version: int
    files: dict[str, FileEntry]
    digest: str  # sha256 of the manifest's bytes
    raw: bytes

    @property
    def cut_id(self) -> CutId:
        return CutId.of(self.ejercicio, self.cut)

    @property
    def manifest_rel(self) -> str:
        """Where this manifest lives in its package."""
        return manifest_path(self.ejercicio, self.cut)

    @property
    def signature_rel(self) -> str:
        return signature_path(self.ejercicio, self.cut)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files.values())


def manifest_bytes(
    *,
    proceso: str,
    ejercicio: str,
    cut: int,
    built_at: datetime,
    not_before: datetime,
    expires: datetime,
    previous: Manifest | None,
    keyid: str,
    keyring: str,
    keyring_version: int,
    files: dict[str, FileEntry],
) -> bytes:
    doc: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "proceso": proceso,
        "ejercicio": ejercicio,
        "cut": cut,
        "built_at": built_at.isoformat(),
        "not_before": not_before.isoformat(),
        "expires": expires.isoformat(),
        "previous": previous.digest if previous else None,
        "previous_cut": previous.cut if previous else None,
        "keyid": keyid,
        "keyring": keyring,
        "keyring_version": keyring_version,
        "total_size": sum(f.size for f in files.values()),
        "files": {p: {"sha256": f.sha256, "size": f.size} for p, f in sorted(files.items())},
    }
    return canonical_json(doc)


def _is_digest(v: object) -> bool:
    return isinstance(v, str) and len(v) == 64 and set(v) <= _HEX64


def _time(v: object) -> datetime:
    if not isinstance(v, str):
        raise ValueError("not a string")
    t = datetime.fromisoformat(v)
    if t.utcoffset() is None:
        raise ValueError("time without UTC offset")
    return t


def parse_manifest(data: bytes, source: str) -> tuple[Manifest | None, list[str]]:
    """The manifest in ``data`` (not yet trusted: the signature is checked elsewhere)."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise TypeError
    except (ValueError, TypeError):
        return None, [f"{source}: not a JSON object"]
    if doc.get("schema") != MANIFEST_SCHEMA:
        return None, [f"{source}: unknown manifest schema {doc.get('schema')!r}"]
    try:
        files: dict[str, FileEntry] = {}
        raw_files = doc["files"]
        if not isinstance(raw_files, dict):
            raise TypeError("files")
        for path, e in raw_files.items():
            sha, size = e["sha256"], e["size"]
            if not _is_digest(sha) or type(size) is not int or size < 0:
                return None, [f"{source}: entry {path[:80]!r} has a malformed sha256 or size"]
            files[path] = FileEntry(sha, size)
        cut, kv, prev_cut = doc["cut"], doc["keyring_version"], doc["previous_cut"]
        prev = doc["previous"]
        if type(cut) is not int or cut < 1 or type(kv) is not int:
            raise TypeError("cut")
        if not (prev is None or _is_digest(prev)) or not (prev_cut is None or type(prev_cut) is int):
            raise TypeError("previous")
        if not isinstance(doc["keyid"], str) or not isinstance(doc["keyring"], str):
            raise TypeError("keyid")
        if not is_ejercicio(doc["ejercicio"]):
            raise ValueError(f"unknown ejercicio {str(doc['ejercicio'])[:40]!r}")
        m = Manifest(
            proceso=str(doc["proceso"]),
            ejercicio=doc["ejercicio"],
            cut=cut,
            built_at=_time(doc["built_at"]),
            not_before=_time(doc["not_before"]),
            expires=_time(doc["expires"]),
            previous=prev,
            previous_cut=prev_cut,
            keyid=doc["keyid"],
            keyring=doc["keyring"],
            keyring_version=kv,
            files=files,
            digest=sha256_hex(data),
            raw=data,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, [f"{source}: malformed manifest ({exc})"]
    return m, []


def find_manifest_path(pkg_dir: Path) -> Path:
    """The manifest of a package: the one ``json/main.json`` names, else the only one there is."""
    main = pkg_dir / MAIN_PATH
    try:
        st = os.lstat(main)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _MAIN_LIMIT:
            raise ValueError("not a small regular file")
        signed = json.loads(main.read_bytes())["signed"]
        rel = signed["manifest"]
        if isinstance(rel, str) and rel.startswith("manifests/") and ".." not in rel:
            return pkg_dir / rel
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = sorted((pkg_dir / "manifests").glob("*.json"))
    if len(found) != 1:
        raise IntegrityError(f"{pkg_dir}: no manifest found (json/main.json unreadable)")
    return found[0]


def load_manifest(pkg: Path) -> Manifest:
    """The manifest of a package directory (or a manifest file), parsed but not verified."""
    path = pkg if pkg.is_file() else find_manifest_path(pkg)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read manifest: {exc.strerror}") from None
    m, failures = parse_manifest(data, str(path))
    if m is None:
        raise IntegrityError(failures)
    return m
