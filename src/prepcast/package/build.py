"""Assemble a package directory from files: keyring, manifest, signature, signed main.json.

The whole package is written into a temporary directory beside ``out_dir`` and renamed into
place, so nobody ever sees half a package.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.errors import InputError, PrepcastError
from prepcast.package.canonical import canonical_json, content_name, sha256_hex
from prepcast.package.ejercicio import JORNADA_NAME, is_ejercicio
from prepcast.package.keys import Signer
from prepcast.package.layout import MAIN_PATH, manifest_path, path_problem
from prepcast.package.manifest import (
    FileEntry,
    Manifest,
    load_manifest,
    manifest_bytes,
    parse_manifest,
)
from prepcast.package.sign import b64

MAIN_SCHEMA = "prepcast.main/1"
# Bytes to hash or write from which two threads share the work (a national cut's 530 MB); below
# it one thread does it all.
PARALLEL_BYTES = 32 * 1024 * 1024
_RESERVED_PREFIXES = ("manifests/", "keys/")


def main_json_bytes(
    *,
    signer: Signer,
    proceso: str,
    ejercicio: str,
    cut: int,
    cut_time: datetime,
    not_before: datetime,
    manifest: Manifest,
    manifest_rel: str,
    data: dict[str, Any],
) -> bytes:
    from prepcast.election.model import display_time

    signed = {
        "schema": MAIN_SCHEMA,
        "proceso": proceso,
        "ejercicio": ejercicio,
        "cut": cut,
        "cut_time": cut_time.isoformat(),
        "cut_display": display_time(cut_time),
        "not_before": not_before.isoformat(),
        "manifest": manifest_rel,
        "manifest_sha256": manifest.digest,
        "data": data,
    }
    sig = signer.sign(canonical_json(signed))
    return canonical_json({"signed": signed, "signatures": [{"keyid": signer.keyid, "sig": b64(sig)}]})


def _check_files(files: dict[str, bytes]) -> None:
    problems = []
    for path in files:
        why = path_problem(path)
        if why is None and (path == MAIN_PATH or path.startswith(_RESERVED_PREFIXES)):
            why = "reserved for the package itself"
        if why is not None:
            problems.append(f"{path[:80]!r}: {why}")
    if problems:
        raise InputError("; ".join(problems))
    dirs = {p.rsplit("/", 1)[0] for p in files if "/" in p}
    clash = sorted(d for d in dirs if d in files)
    if clash:
        raise InputError(f"{clash[0]!r} is both a file and a directory")


def _resolve_previous(previous: Path | Manifest | None) -> Manifest | None:
    if previous is None or isinstance(previous, Manifest):
        return previous
    return load_manifest(previous)


def assemble(
    out_dir: Path,
    files: dict[str, bytes],
    *,
    cut: int,
    proceso: str,
    ejercicio: str = JORNADA_NAME,
    cut_time: datetime,
    not_before: datetime,
    expires: datetime,
    previous: Path | Manifest | None,
    signer: Signer,
    main_fields: dict[str, Any],
    built_at: datetime | None = None,
    digests: Mapping[str, str] | None = None,
) -> Manifest:
    """Write the package of one cut to ``out_dir`` (replacing it whole) and return its manifest.

    ``digests``: the SHA-256 (hex) of some of ``files``, computed by the caller from the very
    bytes it passes (a night's builder keeps those of the files that did not change)."""
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    for name, t in (("cut_time", cut_time), ("not_before", not_before), ("expires", expires)):
        if t.utcoffset() is None:
            raise InputError(f"{name} must carry a UTC offset")
    _check_files(files)
    if not is_ejercicio(ejercicio):
        raise InputError(f"unknown ejercicio {ejercicio[:40]!r} "
                         "(expected prueba-N, simulacro-N or jornada)")
    prev = _resolve_previous(previous)
    if prev is not None and prev.proceso != proceso:
        raise InputError(f"previous package is of proceso {prev.proceso!r}, not {proceso!r}")
    if prev is not None and prev.ejercicio != ejercicio:
        raise InputError(f"previous package is of ejercicio {prev.ejercicio!r}, not "
                         f"{ejercicio!r}: each ejercicio starts a chain of its own")
    if prev is not None and prev.cut >= cut:
        raise InputError(f"previous package is cut {prev.cut}; this cut ({cut}) must be newer")
    all_files = dict(files)
    keyring_rel = content_name("keys/keyring.json", signer.keyring_bytes)
    all_files[keyring_rel] = signer.keyring_bytes
    known = digests or {}
    entries = {p: FileEntry(known.get(p) or sha256_hex(b), len(b)) for p, b in all_files.items()}
    mbytes = manifest_bytes(
        proceso=proceso,
        ejercicio=ejercicio,
        cut=cut,
        built_at=built_at or cut_time,
        not_before=not_before,
        expires=expires,
        previous=prev,
        keyid=signer.keyid,
        keyring=keyring_rel,
        keyring_version=signer.keyring_version,
        files=entries,
    )
    manifest, failures = parse_manifest(mbytes, manifest_path(ejercicio, cut))
    if manifest is None:  # pragma: no cover - we just wrote it
        raise InputError('; '.join(failures))
    all_files[manifest.manifest_rel] = mbytes
    all_files[manifest.signature_rel] = signer.sign(mbytes)
    all_files[MAIN_PATH] = main_json_bytes(
        signer=signer,
        proceso=proceso,
        ejercicio=ejercicio,
        cut=cut,
        cut_time=cut_time,
        not_before=not_before,
        manifest=manifest,
        manifest_rel=manifest.manifest_rel,
        data=main_fields,
    )
    # files the previous package holds with the same hash are hard-linked from it, not written
    # again (most of a cut's files: the verification that follows reads every one in any case)
    source = previous if isinstance(previous, Path) and prev is not None else None
    same = {p for p, e in entries.items() if source is not None and prev is not None
            and prev.files.get(p) == e}
    _write_tree(out_dir, all_files, source, same)
    return manifest


def _check_replaceable(out_dir: Path) -> None:
    """Only an empty directory or an earlier package may be replaced by a new package."""
    if out_dir.is_symlink() or not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError.at(out_dir, "exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / "manifests").is_dir():
        raise InputError.at(out_dir, "exists and is not a package; refusing to replace it")


def _write_tree(out_dir: Path, files: dict[str, bytes], source: Path | None = None,
                linkable: set[str] | frozenset[str] = frozenset()) -> None:
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    except OSError as exc:
        raise PrepcastError(f"{parent}: cannot write here: {exc.strerror}") from None
    try:
        os.chmod(tmp, 0o755)
        made: set[Path] = {tmp}
        for rel in sorted(files):
            folder = (tmp / rel).parent
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)

        def put(rels: list[str]) -> None:
            for rel in rels:
                target = tmp / rel
                if source is not None and rel in linkable:
                    try:
                        os.link(source / rel, target)
                        continue
                    except OSError:
                        pass  # another file system, say: written below
                with open(target, "wb") as f:
                    f.write(files[rel])

        # two writers, each with half the bytes (the kernel's copy lets go of Python's lock),
        # when there are enough of them (a state's cut: threads would only cost)
        halves: tuple[list[str], list[str]] = ([], [])
        sizes = [0, 0]
        for rel in sorted(files, key=lambda r: -len(files[r])):
            half = 0 if sizes[0] <= sizes[1] else 1
            halves[half].append(rel)
            sizes[half] += 1 if rel in linkable else len(files[rel])
        if sum(sizes) < PARALLEL_BYTES:
            put(sorted(files))
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for done in [pool.submit(put, h) for h in halves]:
                    done.result()
        trash = None
        if out_dir.exists() or out_dir.is_symlink():
            trash = parent / f".{out_dir.name}.{os.getpid()}.old"
            os.rename(out_dir, trash)
        os.rename(tmp, out_dir)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PrepcastError(f"{out_dir}: cannot write the package: {exc.strerror}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
