"""Pure checks of bytes fetched from elsewhere (a difusor's public site) against a manifest.

Bytes and a manifest entry in, findings out (one line each naming the file); nothing here reads
a disk or a network. The monitor uses it on what a difusor serves; a package directory is
verified whole by :mod:`prepcast.package.verify`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prepcast.package.canonical import strict_json
from prepcast.package.check import check_signed_main
from prepcast.package.keys import Keyring
from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import MAIN_LIMIT, FileEntry, Manifest


def check_entry(rel: str, data: bytes, entry: FileEntry | None) -> list[str]:
    """What is wrong with ``data`` served as ``rel`` (empty when it is the listed file)."""
    if entry is None:
        return [f"{rel}: not in the manifest"]
    if len(data) != entry.size:
        return [f"{rel}: {len(data)} bytes, manifest says {entry.size} (content changed)"]
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        return [f"{rel}: sha256 does not match the manifest (content changed)"]
    return []


def read_signed_main(data: bytes) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The ``signed`` part and the signatures of a ``main.json`` (not yet trusted; parsed as
    strictly as every signed JSON: bounded, no key twice, not too deep)."""
    try:
        doc = strict_json(data, limit=MAIN_LIMIT)
        signed, sigs = doc["signed"], doc["signatures"]
    except (ValueError, KeyError, TypeError):
        return None, []
    if not isinstance(signed, dict) or not isinstance(sigs, list):
        return None, []
    return signed, [s for s in sigs if isinstance(s, dict)]


def check_main(data: bytes, ring: Keyring, manifest: Manifest) -> list[str]:
    """What is wrong with ``main.json`` bytes: its signature by the cut's key in ``ring``, and
    that it points at ``manifest`` (the signed manifest of the cut it names). The checks are
    the verification core's (:mod:`prepcast.package.check`)."""
    entry = ring.keys.get(manifest.keyid)
    if entry is None or entry.status == "revoked":
        return [f"{MAIN_PATH}: signature invalid (not signed by cut key {manifest.keyid})"]
    return [str(f) for f in check_signed_main(data, entry.public, manifest)]
