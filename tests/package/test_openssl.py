"""The manifest's detached signature checks with OpenSSL too (raw Ed25519 over the file bytes)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.package import load_manifest, manifest_path, signature_path


def _cut_key_pem(pkg: Path, out: Path) -> Path:
    m = load_manifest(pkg)
    ring = json.loads((pkg / m.keyring).read_bytes())
    entry = next(k for k in ring["signed"]["keys"] if k["keyid"] == m.keyid)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public"]))
    out.write_bytes(key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return out


def _openssl_verify(pem: Path, data: Path, sig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-rawin",
         "-in", str(data), "-sigfile", str(sig)],
        capture_output=True, text=True, check=False,
    )


def test_openssl_verifies_the_manifest(pkg: Path, tmp_path: Path) -> None:
    pem = _cut_key_pem(pkg, tmp_path / "cut.pem")
    ok = _openssl_verify(pem, pkg / manifest_path("jornada", 3), pkg / signature_path("jornada", 3))
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout
    edited = tmp_path / "edited.json"
    edited.write_bytes((pkg / manifest_path("jornada", 3)).read_bytes().replace(b'"cut":3', b'"cut":4'))
    assert _openssl_verify(pem, edited, pkg / signature_path("jornada", 3)).returncode != 0
