"""Staging one archive from the inbox: unpack, verify, complete from held releases, seal.

Nothing the archive or its manifest names is linked or written outside the cut's ``.partial``
folder, and nothing is linked before the signature and paths hold
(:func:`prepcast.package.check.check_signed`, the same verification the CLI and the monitor
use). A delta may leave out files (and the keyring) that a release held already has; they are
taken from there and hashed like the rest. Any failure raises :class:`IntegrityError`
(or ``OSError``); the caller removes the ``.partial`` folder.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.difusor.activate import ReleaseStore
from prepcast.difusor.verified import VerifiedFiles
from prepcast.errors import IntegrityError
from prepcast.package import CutId, Manifest, VerifyLimits, load_manifest
from prepcast.package.check import check_signed, peek_manifest
from prepcast.package.layout import path_problem
from prepcast.package.verify import read_parts, read_small


def stage_archive(store: ReleaseStore, verified: VerifiedFiles, archive: BinaryIO, name: str,
                  cut: CutId, *, trust: Ed25519PublicKey, limits: VerifyLimits, now: datetime,
                  proceso: str | None) -> Manifest:
    """Stage ``archive`` (inbox entry ``name``) as release ``cut``; its verified manifest."""
    held = store.cuts()
    newest = held[-1] if held else None
    if newest is not None and cut <= newest:
        raise IntegrityError(f"{cut} is not newer than {newest} already held")
    last: Manifest | None = None  # its proceso, ejercicio, keyring version and chain
    if newest is not None:
        with contextlib.suppress(IntegrityError, OSError):
            last = load_manifest(store.path(newest))
    partial = store.unpack(archive, cut, name=name, limits=limits)
    sources = [store.path(c) for c in reversed(held)]
    parts = read_parts(partial, limits)
    if parts.keyring == "missing" and isinstance(parts.manifest, bytes):
        parts = replace(parts, keyring=held_keyring(parts.manifest, parts.manifest_path,
                                                    sources, limits))
    verdict = check_signed(parts, trust, last=last, now=now, proceso=proceso, limits=limits)
    if not verdict.ok or verdict.manifest is None:
        raise IntegrityError(verdict.messages())
    manifest = verdict.manifest
    if manifest.cut_id != cut:
        raise IntegrityError(f"{name} holds {manifest.cut_id}, not {cut}")
    store.complete_from(partial, sources, manifest)
    # every file hashed, but those linked from a release verified before (same inode)
    verified.verify_contents(partial, manifest)
    verified.remember(cut.tag, partial, manifest)
    store.carry_over(partial, store.path(newest) if newest else None)
    store.seal(partial, cut)
    return manifest


def held_keyring(data: bytes, rel: str, sources: list[Path],
                 limits: VerifyLimits) -> bytes | str:
    """The keyring a delta left out, from a release held (its hash is checked after)."""
    m = peek_manifest(data, rel, limits)
    if m is None or path_problem(m.keyring) is not None:
        return "missing"
    for src in sources:
        got = read_small(src, m.keyring, limits.max_meta_size)
        if isinstance(got, bytes):
            return got
    return "missing"
