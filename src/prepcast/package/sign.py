"""Ed25519 signatures: key ids, signing, verifying, and reading/writing key files."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prepcast.errors import InputError
from prepcast.files import read_bytes, write_atomic


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object) -> bytes | None:
    """Decoded base64, or None when ``text`` is not valid base64."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


def public_from_raw(raw: bytes) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def verify_signature(key: Ed25519PublicKey, sig: bytes, data: bytes) -> bool:
    try:
        key.verify(sig, data)
    except InvalidSignature:
        return False
    return True


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def parse_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    """A public key from PEM, or from its raw 32 bytes."""
    if len(data) == 32:
        key = public_from_raw(data)
        if key is not None:
            return key
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError.at(source, "not an Ed25519 public key (PEM or 32 raw bytes)") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise InputError.at(source, "not an Ed25519 public key")
    return loaded


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = read_bytes(path, what="key file")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputError.at(path, "not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError.at(path, "not an Ed25519 private key")
    return key


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a private key as PEM PKCS#8 with mode 0600 (temporary file, then rename)."""
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(path, data, mode=0o600)
