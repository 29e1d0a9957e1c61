"""Bytes fetched from elsewhere (a difusor's public site) against a signed manifest, through
the verification core (:mod:`prepcast.package.check`): bytes in, findings out (one line each
naming the file); nothing here reads a disk or a network. The monitor uses it on what a difusor
serves, one file at a time; a package folder is verified whole by :mod:`prepcast.package.verify`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from prepcast.package.check import Listing, check_contents, check_signed_main
from prepcast.package.keys import Keyring
from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import Manifest


def check_entry(rel: str, data: bytes, m: Manifest) -> list[str]:
    """What is wrong with ``data`` served as ``rel`` of the cut of ``m`` (empty when it is the
    listed file): the verification core's :func:`check_contents` on that one file."""
    entry = m.files.get(rel)
    if entry is None:
        return [f"{rel}: not in the manifest"]
    one = replace(m, files={rel: entry})
    listing = Listing(files={rel: len(data)}, digests={rel: hashlib.sha256(data).hexdigest()})
    found = [str(f) for f in check_contents(one, listing)]
    return [f if "content changed" in f else f"{f} (content changed)" for f in found]


def read_signed_main(data: bytes) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The ``signed`` part and the signatures of a ``main.json`` (not yet trusted)."""
    try:
        doc = json.loads(data)
        signed, sigs = doc["signed"], doc["signatures"]
    except (ValueError, KeyError, TypeError):
        return None, []
    if not isinstance(signed, dict) or not isinstance(sigs, list):
        return None, []
    return signed, [s for s in sigs if isinstance(s, dict)]


def check_main(data: bytes, ring: Keyring, manifest: Manifest) -> list[str]:
    """What is wrong with ``main.json`` bytes: signed by the cut's key of ``ring`` (a keyring
    already trusted through the root key) and pointing at ``manifest`` — the verification
    core's :func:`check_signed_main`."""
    entry = ring.keys.get(manifest.keyid)
    if entry is None or entry.status == "revoked":
        return [f"{MAIN_PATH}: signed by key {manifest.keyid}, not an active key of the keyring"]
    return [str(f) for f in check_signed_main(data, entry.public, manifest)]
