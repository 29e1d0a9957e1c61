"""Whether the cut a difusor serves is one the institute signed, for the compliance checks.

``prepcast difusores check`` compares every file a difusor serves with the manifest of the cut
it holds live; that manifest is read from the difusor itself, so without this a difusor that
changed a file and rewrote the manifest to match would pass, and ``json/main.json`` (the one
file no manifest lists) would not be looked at. The registry's checks may not read signatures
(the package layer is above them), so the caller hands them this check
(:data:`prepcast.registry.checks.http.Vouch`).
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.monitor.reference import Untrusted, trusted_manifest
from prepcast.package.bytes_check import check_main
from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import parse_manifest
from prepcast.registry.checks.http import Fetch, Vouch

log = logging.getLogger(__name__)

# what a difusor reads in its report (Spanish), by the step that failed
UNTRUSTED = {
    "keyring": "su anillo de llaves no está firmado por la llave raíz del instituto",
    "key": "lo firma una llave que no es una llave activa del anillo del instituto",
    "signature": "su firma no corresponde al manifiesto (alterado, o firmado por otro)",
}


def _inside(path: str) -> bool:
    """A path the site serves below its root (a manifest names its keyring and signature)."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/")


def signed_by(root: Ed25519PublicKey) -> Vouch:
    """The check that a served cut is signed under ``root`` (the institute's root key): the
    manifest's keyring by ``root``, the manifest by an active key of that keyring, and
    ``json/main.json`` by the cut's key, naming that manifest; its answer in Spanish (the
    English details go to the log)."""

    async def vouch(main: bytes, raw: bytes, fetch: Fetch) -> str | None:
        manifest, bad = parse_manifest(raw, "manifest")
        if manifest is None:
            log.info("served manifest refused: %s", "; ".join(bad))
            return "no es el manifiesto de un paquete del instituto"
        if not (_inside(manifest.keyring) and _inside(manifest.signature_rel)):
            return "el manifiesto nombra su anillo de llaves o su firma fuera del sitio"
        keyring = await fetch(manifest.keyring)
        if keyring is None:
            return f"el sitio no sirve el anillo de llaves /{manifest.keyring}"
        try:
            ring = trusted_manifest(manifest, keyring, await fetch(manifest.signature_rel),
                                    root, "")
        except Untrusted as exc:
            log.info("served manifest refused: %s", exc)
            return f"el manifiesto no lleva la firma del instituto: {UNTRUSTED[exc.step]}"
        bad = check_main(main, ring, manifest)
        if bad:
            log.info("served %s refused: %s", MAIN_PATH, "; ".join(bad))
            return (f"/{MAIN_PATH} no lleva la firma del instituto para este corte (alterado, "
                    "o de otro corte)")
        return None

    return vouch
