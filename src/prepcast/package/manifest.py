"""The manifest of a cut: every file with its SHA-256 and size, the cut, its times and chain.

:func:`parse_manifest` is pure (bytes in, a manifest or failures out); :func:`load_manifest`
finds and reads the manifest of a package directory.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.errors import IntegrityError
from prepcast.package.canonical import (
    JsonRefused,
    canonical_json,
    read_bounded,
    sha256_hex,
    strict_json,
)
from prepcast.package.ejercicio import CutId, is_ejercicio
from prepcast.package.layout import MAIN_PATH, manifest_path, path_problem, signature_path

MANIFEST_SCHEMA = "prepcast.manifest/1"
_HEX64 = frozenset("0123456789abcdef")
MAIN_LIMIT = 1024 * 1024
MANIFEST_LIMIT = 32 * 1024 * 1024


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


def _str(doc: dict[str, Any], key: str) -> str:
    v = doc[key]
    if not isinstance(v, str) or not v:
        raise TypeError(f"{key} is not a string")
    return v


def _int(doc: dict[str, Any], key: str, *, nullable: bool = False) -> Any:
    v = doc[key]
    if v is None and nullable:
        return None
    if type(v) is not int:
        raise TypeError(f"{key} is not an integer")
    return v


def path_collisions(paths: Iterable[str]) -> list[str]:
    """Paths that name the same file on a case-insensitive or normalizing filesystem."""
    seen: dict[str, str] = {}
    out = []
    for p in sorted(paths):
        key = unicodedata.normalize("NFC", p).casefold()
        if key in seen:
            out.append(f"{p[:120]!r} and {seen[key][:120]!r} collide (case or Unicode "
                       "normalization)")
        else:
            seen[key] = p
    return out


def parse_manifest(data: bytes, source: str,
                   limit: int = MANIFEST_LIMIT) -> tuple[Manifest | None, list[str]]:
    """The manifest in ``data`` (not yet trusted: the signature is checked elsewhere).

    Pure and total: any bytes give a manifest or failures, never another exception."""
    try:
        doc = strict_json(data, limit=limit)
    except JsonRefused as exc:
        return None, [f"{source}: not a manifest: {exc}"]
    if not isinstance(doc, dict):
        return None, [f"{source}: not a JSON object"]
    if doc.get("schema") != MANIFEST_SCHEMA:
        return None, [f"{source}: unknown manifest schema {str(doc.get('schema'))[:40]!r}"]
    try:
        files: dict[str, FileEntry] = {}
        raw_files = doc["files"]
        if not isinstance(raw_files, dict):
            raise TypeError("files is not an object")
        for path, e in raw_files.items():
            if not isinstance(e, dict) or set(e) != {"sha256", "size"}:
                return None, [f"{source}: entry {path[:80]!r} is not {{sha256, size}}"]
            sha, size = e["sha256"], e["size"]
            if not _is_digest(sha) or type(size) is not int or size < 0:
                return None, [f"{source}: entry {path[:80]!r} has a malformed sha256 or size"]
            files[path] = FileEntry(sha, size)
        cut, kv = _int(doc, "cut"), _int(doc, "keyring_version")
        prev_cut = _int(doc, "previous_cut", nullable=True)
        prev = doc["previous"]
        if cut < 1 or kv < 1:
            raise ValueError("cut and keyring_version start at 1")
        if not (prev is None or _is_digest(prev)):
            raise TypeError("previous is not a digest")
        if not is_ejercicio(doc["ejercicio"]):
            raise ValueError(f"unknown ejercicio {str(doc['ejercicio'])[:40]!r}")
        m = Manifest(
            proceso=_str(doc, "proceso"),
            ejercicio=doc["ejercicio"],
            cut=cut,
            built_at=_time(doc["built_at"]),
            not_before=_time(doc["not_before"]),
            expires=_time(doc["expires"]),
            previous=prev,
            previous_cut=prev_cut,
            keyid=_str(doc, "keyid"),
            keyring=_str(doc, "keyring"),
            keyring_version=kv,
            files=files,
            digest=sha256_hex(data),
            raw=data,
        )
    except KeyError as exc:
        return None, [f"{source}: malformed manifest (no field {exc})"]
    except (TypeError, ValueError, OverflowError) as exc:
        return None, [f"{source}: malformed manifest ({str(exc)[:120]})"]
    return m, []


def _read_small(path: Path, limit: int) -> bytes:
    """A regular file's bytes, never through a link, at most ``limit`` (else JsonRefused)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise JsonRefused("not a regular file")
        return read_bounded(fd, limit)
    finally:
        os.close(fd)


def find_manifest_path(pkg_dir: Path) -> Path:
    """The manifest of a package: the one ``json/main.json`` names, else the only one there is."""
    try:
        signed = strict_json(_read_small(pkg_dir / MAIN_PATH, MAIN_LIMIT), limit=MAIN_LIMIT)
        rel = signed["signed"]["manifest"]
        if isinstance(rel, str) and rel.startswith("manifests/") and path_problem(rel) is None:
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
        data = _read_small(path, MANIFEST_LIMIT)
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read manifest: {exc.strerror}") from None
    except JsonRefused as exc:
        raise IntegrityError(f"{path}: {exc}") from None
    m, failures = parse_manifest(data, str(path))
    if m is None:
        raise IntegrityError(failures)
    return m
