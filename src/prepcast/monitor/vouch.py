"""Whether a manifest a difusor serves is one the institute signed, for the compliance checks.

``prepcast difusores check`` compares every file a difusor serves with the manifest of the cut
it holds live; that manifest is read from the difusor itself, so without this a difusor that
changed a file and rewrote the manifest to match would pass. The registry's checks may not read
signatures (the package layer is above them), so the caller hands them this check
(:data:`prepcast.registry.checks.http.Vouch`).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.errors import IntegrityError
from prepcast.monitor.reference import trusted_manifest
from prepcast.package.manifest import parse_manifest
from prepcast.registry.checks.http import Fetch, Vouch


def _inside(path: str) -> bool:
    """A path the site serves below its root (a manifest names its keyring and signature)."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/")


def signed_by(root: Ed25519PublicKey) -> Vouch:
    """The check that a served manifest's keyring is signed by ``root`` (the institute's root
    key) and the manifest by an active key of that keyring; its answer in Spanish."""

    async def vouch(raw: bytes, fetch: Fetch) -> str | None:
        manifest, bad = parse_manifest(raw, "manifiesto")
        if manifest is None:
            return f"no es un manifiesto del instituto ({'; '.join(bad)})"
        if not (_inside(manifest.keyring) and _inside(manifest.signature_rel)):
            return "el manifiesto nombra su anillo de llaves o su firma fuera del sitio"
        keyring = await fetch(manifest.keyring)
        if keyring is None:
            return f"el sitio no sirve el anillo de llaves /{manifest.keyring}"
        try:
            trusted_manifest(manifest, keyring, await fetch(manifest.signature_rel), root, "")
        except IntegrityError as exc:
            return f"no lleva la firma del instituto (original: «{exc}»)"
        return None

    return vouch
