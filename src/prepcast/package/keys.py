"""The two levels of keys: an offline root key signs the keyring of online cut-signing keys.

A key directory (KEYDIR) holds ``root.key``/``root.pub``, one ``cut-<keyid>.key`` per cut key
and ``keyring.json`` (the keyring signed by the root key). ``root.key`` may live elsewhere,
offline: rotate and revoke take its path. Private keys are written with mode 0600 and their
contents never reach a log or a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prepcast.errors import InputError, PrepcastError
from prepcast.files import read_bytes, write_atomic
from prepcast.package.canonical import canonical_json, strict_json
from prepcast.package.sign import (
    b64,
    key_id,
    load_private_key,
    parse_public_key,
    public_from_raw,
    public_pem,
    raw_public,
    unb64,
    verify_signature,
    write_private_key,
)

KEYRING_SCHEMA = "prepcast.keyring/1"
ROOT_KEY = "root.key"
ROOT_PUB = "root.pub"
KEYRING = "keyring.json"
STATUSES = ("active", "retired", "revoked")
_KEYRING_LIMIT = 1024 * 1024
_ROOT_KEY_LIMIT = 16 * 1024


@dataclass(frozen=True)
class KeyEntry:
    keyid: str
    public: Ed25519PublicKey
    status: str


@dataclass(frozen=True)
class Keyring:
    version: int
    root_keyid: str
    keys: dict[str, KeyEntry]

    def active(self) -> KeyEntry | None:
        return next((k for k in self.keys.values() if k.status == "active"), None)


@dataclass(frozen=True)
class Signer:
    """The active cut key of a key directory, with the signed keyring that vouches for it."""

    keyid: str
    _key: Ed25519PrivateKey
    keyring_bytes: bytes
    keyring_version: int
    root_public: bytes = b""  # the root's raw 32-byte public key (the site's code carries it)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:  # never show the private key
        return f"Signer(keyid={self.keyid!r}, keyring_version={self.keyring_version})"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_keyring(data: bytes, root: Ed25519PublicKey, source: str) -> tuple[Keyring | None, list[str]]:
    """Check a signed keyring against the root key: the keyring, or the failures found."""
    try:
        doc = strict_json(data, limit=_KEYRING_LIMIT)
        signed = doc["signed"]
        sigs = doc["signatures"]
        version = signed["version"]
        entries = signed["keys"]
        if not (isinstance(version, int) and isinstance(entries, list) and isinstance(sigs, list)):
            raise TypeError
    except (ValueError, KeyError, TypeError):  # JsonRefused is a ValueError
        return None, [f"{source}: not a keyring (malformed JSON or missing fields)"]
    if type(version) is not int:
        return None, [f"{source}: not a keyring (version is not an integer)"]
    if signed.get("schema") != KEYRING_SCHEMA:
        return None, [f"{source}: unknown keyring schema {signed.get('schema')!r}"]
    rid = key_id(root)
    try:
        message = canonical_json(signed)
    except (TypeError, ValueError):
        return None, [f"{source}: not a keyring (not canonical JSON)"]
    good = any(
        isinstance(s, dict)
        and s.get("keyid") == rid
        and (sig := unb64(s.get("sig"))) is not None
        and verify_signature(root, sig, message)
        for s in sigs
    )
    if not good:
        return None, [f"{source}: keyring not signed by the trusted root key {rid}"]
    keys: dict[str, KeyEntry] = {}
    for e in entries:
        raw = unb64(e.get("public")) if isinstance(e, dict) else None
        pub = public_from_raw(raw) if raw is not None else None
        if pub is None or e.get("status") not in STATUSES or e.get("keyid") != key_id(pub):
            return None, [f"{source}: malformed key entry in keyring"]
        keys[key_id(pub)] = KeyEntry(key_id(pub), pub, e["status"])
    return Keyring(version, rid, keys), []


def _signed_keyring(root: Ed25519PrivateKey, version: int, entries: list[dict[str, Any]]) -> bytes:
    signed = {
        "schema": KEYRING_SCHEMA,
        "version": version,
        "root_keyid": key_id(root.public_key()),
        "keys": entries,
    }
    sig = root.sign(canonical_json(signed))
    doc = {"signed": signed, "signatures": [{"keyid": key_id(root.public_key()), "sig": b64(sig)}]}
    return canonical_json(doc)


def _new_cut_key(keydir: Path) -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    key = Ed25519PrivateKey.generate()
    kid = key_id(key.public_key())
    write_private_key(keydir / f"cut-{kid}.key", key)
    entry = {"keyid": kid, "public": b64(raw_public(key.public_key())), "status": "active",
             "created": _now()}
    return key, entry


def init_keys(out: Path) -> str:
    """Create a key directory: root key, a first cut key, the keyring. Returns the cut key id."""
    if (out / ROOT_KEY).exists() or (out / KEYRING).exists():
        raise InputError.at(out, "already holds keys; refusing to overwrite them")
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise PrepcastError(f"{out}: cannot create key directory: {exc.strerror}") from None
    root = Ed25519PrivateKey.generate()
    write_private_key(out / ROOT_KEY, root)
    write_atomic(out / ROOT_PUB, public_pem(root.public_key()))
    _, entry = _new_cut_key(out)
    write_atomic(out / KEYRING, _signed_keyring(root, 1, [entry]))
    return str(entry["keyid"])


def _read_entries(keydir: Path, root: Ed25519PrivateKey) -> tuple[int, list[dict[str, Any]]]:
    path = keydir / KEYRING
    data = read_bytes(path, what="keyring")
    ring, failures = parse_keyring(data, root.public_key(), str(path))
    if ring is None:
        raise InputError.at(path, "; ".join(failures))
    entries: list[dict[str, Any]] = json.loads(data)["signed"]["keys"]
    return ring.version, entries


def rotate_keys(keydir: Path, root_key: Path | None = None) -> str:
    """A new active cut key; the active one becomes retired. Returns the new key id."""
    root = load_private_key(root_key or keydir / ROOT_KEY)
    version, entries = _read_entries(keydir, root)
    for e in entries:
        if e["status"] == "active":
            e["status"] = "retired"
    _, entry = _new_cut_key(keydir)
    write_atomic(keydir / KEYRING, _signed_keyring(root, version + 1, [*entries, entry]))
    return str(entry["keyid"])


def revoke_key(keydir: Path, kid: str, root_key: Path | None = None) -> str | None:
    """Revoke a cut key. When it was the active key a new one replaces it (its id is returned)."""
    root = load_private_key(root_key or keydir / ROOT_KEY)
    version, entries = _read_entries(keydir, root)
    found = [e for e in entries if e["keyid"] == kid]
    if not found:
        raise InputError.at(keydir / KEYRING, f"no cut key {kid!r} in the keyring")
    was_active = found[0]["status"] == "active"
    found[0]["status"] = "revoked"
    new_entry = None
    if was_active:
        _, new_entry = _new_cut_key(keydir)
        entries.append(new_entry)
    write_atomic(keydir / KEYRING, _signed_keyring(root, version + 1, entries))
    (keydir / f"cut-{kid}.key").unlink(missing_ok=True)
    return str(new_entry["keyid"]) if new_entry else None


def load_root_public(source: Path | bytes) -> Ed25519PublicKey:
    if isinstance(source, bytes):
        return parse_public_key(source, "trusted root key")
    try:
        with open(source, "rb") as f:
            data = f.read(_ROOT_KEY_LIMIT + 1)
    except OSError as exc:
        raise InputError.at(source, f"cannot read root public key: {exc.strerror}") from None
    if len(data) > _ROOT_KEY_LIMIT:
        raise InputError.at(source, f"more than {_ROOT_KEY_LIMIT} bytes: not a public key")
    return parse_public_key(data, str(source))


def load_signer(keydir: Path) -> Signer:
    """The active cut key of ``keydir`` and its keyring (checked against ``root.pub``)."""
    path = keydir / KEYRING
    data = read_bytes(path, what="keyring")
    root = load_root_public(keydir / ROOT_PUB)
    ring, failures = parse_keyring(data, root, str(path))
    if ring is None:
        raise InputError.at(path, "; ".join(failures))
    active = ring.active()
    if active is None:
        raise InputError.at(path, "no active cut key (run `prepcast keys rotate`)")
    key = load_private_key(keydir / f"cut-{active.keyid}.key")
    if key_id(key.public_key()) != active.keyid:
        raise InputError.at(keydir / f"cut-{active.keyid}.key", "does not match its key id")
    return Signer(active.keyid, key, data, ring.version, raw_public(root))
