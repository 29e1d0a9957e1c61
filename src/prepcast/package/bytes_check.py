"""Pure checks of bytes fetched from elsewhere (a difusor's public site) against a manifest.

Bytes and a manifest entry in, findings out (one line each naming the file); nothing here reads
a disk or a network. The monitor uses it on what a difusor serves; a package directory is
verified whole by :mod:`prepcast.package.verify`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from prepcast.package.build import MAIN_SCHEMA
from prepcast.package.canonical import canonical_json
from prepcast.package.keys import Keyring
from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import FileEntry, Manifest
from prepcast.package.sign import unb64, verify_signature


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
    """What is wrong with ``main.json`` bytes: its signature by the cut's key in ``ring``, and
    that it points at ``manifest`` (the signed manifest of the cut it names)."""
    signed, sigs = read_signed_main(data)
    if signed is None:
        return [f"{MAIN_PATH}: not a signed pointer (malformed JSON or missing fields)"]
    found: list[str] = []
    entry = ring.keys.get(manifest.keyid)
    message = canonical_json(signed)
    good = entry is not None and entry.status != "revoked" and any(
        s.get("keyid") == manifest.keyid
        and (sig := unb64(s.get("sig"))) is not None
        and verify_signature(entry.public, sig, message)
        for s in sigs)
    if not good:
        found.append(f"{MAIN_PATH}: signature invalid (not signed by cut key {manifest.keyid})")
    if signed.get("schema") != MAIN_SCHEMA:
        found.append(f"{MAIN_PATH}: unknown schema {str(signed.get('schema'))[:40]!r}")
    if signed.get("manifest_sha256") != manifest.digest:
        found.append(f"{MAIN_PATH}: manifest_sha256 is not the signed manifest's of "
                     f"{manifest.cut_id}")
    if (signed.get("cut") != manifest.cut or signed.get("ejercicio") != manifest.ejercicio
            or signed.get("proceso") != manifest.proceso):
        found.append(f"{MAIN_PATH}: cut, proceso or ejercicio differs from the manifest's")
    return found
