"""The signed dissemination package (paquete de difusión) of each cut.

One cut becomes one directory: site, data, PREP database zips, a manifest of every file with
its SHA-256 and size signed by an online cut key, the keyring of cut keys signed by the offline
root key, and the one mutable pointer ``json/main.json``, signed too. See ``docs/package.md``.

This is the container only: what fills it (tally, databases, site) is composed in
:mod:`prepcast.publish`, so the difusor side loads this package without the results engine.
"""

import typing as _typing

from prepcast._lazy import members as _members

# ``diff`` names both a module of this package and its function: imported now, so that
# ``prepcast.package.diff`` is the function whichever module is loaded first.
from prepcast.package.diff import Delta, diff, diff_manifests

if _typing.TYPE_CHECKING:
    from prepcast.package.build import assemble
    from prepcast.package.canonical import canonical_json, content_name, sha256_hex
    from prepcast.package.ejercicio import JORNADA, CutId, Ejercicio
    from prepcast.package.keys import Signer, init_keys, load_signer, revoke_key, rotate_keys
    from prepcast.package.layout import (
        CACHE_CONTROL_IMMUTABLE,
        CACHE_CONTROL_MUTABLE,
        MAIN_PATH,
        MUTABLE_PATHS,
        cache_control_for,
        manifest_path,
        path_problem,
        signature_path,
    )
    from prepcast.package.manifest import FileEntry, Manifest, load_manifest
    from prepcast.package.schemas import schema_problems, validate
    from prepcast.package.verify import VerifyLimits, verify_package

__all__ = [
    "CACHE_CONTROL_IMMUTABLE",
    "CACHE_CONTROL_MUTABLE",
    "JORNADA",
    "MAIN_PATH",
    "MUTABLE_PATHS",
    "CutId",
    "Delta",
    "Ejercicio",
    "FileEntry",
    "Manifest",
    "Signer",
    "VerifyLimits",
    "assemble",
    "cache_control_for",
    "canonical_json",
    "content_name",
    "diff",
    "diff_manifests",
    "init_keys",
    "load_manifest",
    "load_signer",
    "manifest_path",
    "path_problem",
    "revoke_key",
    "rotate_keys",
    "schema_problems",
    "sha256_hex",
    "signature_path",
    "validate",
    "verify_package",
]

__getattr__, __dir__ = _members(__name__, {
    "assemble": "build",
    "canonical_json": "canonical", "content_name": "canonical", "sha256_hex": "canonical",
    "JORNADA": "ejercicio", "CutId": "ejercicio", "Ejercicio": "ejercicio",
    "Signer": "keys", "init_keys": "keys", "load_signer": "keys", "revoke_key": "keys",
    "rotate_keys": "keys",
    "CACHE_CONTROL_IMMUTABLE": "layout", "CACHE_CONTROL_MUTABLE": "layout", "MAIN_PATH": "layout",
    "MUTABLE_PATHS": "layout", "cache_control_for": "layout", "manifest_path": "layout",
    "path_problem": "layout", "signature_path": "layout",
    "FileEntry": "manifest", "Manifest": "manifest", "load_manifest": "manifest",
    "schema_problems": "schemas", "validate": "schemas",
    "VerifyLimits": "verify", "verify_package": "verify",
})
