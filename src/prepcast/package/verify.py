"""Verify a package: key chain, signatures, every file, nothing missing or extra, no escapes,
no rollback, the chain to the previous cut.

Every failure is collected, one line each naming the file and what is wrong, and raised at once
as :class:`prepcast.errors.IntegrityError`. Sizes are checked against the limits before any
listed file is read, and no file is ever opened through a link.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.errors import IntegrityError
from prepcast.package.build import MAIN_SCHEMA
from prepcast.package.canonical import canonical_json
from prepcast.package.keys import Keyring, load_root_public, parse_keyring
from prepcast.package.layout import MAIN_PATH, path_problem
from prepcast.package.manifest import Manifest, find_manifest_path, load_manifest, parse_manifest
from prepcast.package.sign import unb64, verify_signature

_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyLimits:
    """What a verifier accepts at most; anything larger is refused before it is read."""

    max_file_size: int = 512 * 1024 * 1024
    max_package_size: int = 4 * 1024 * 1024 * 1024
    max_files: int = 10_000
    max_manifest_size: int = 32 * 1024 * 1024
    max_meta_size: int = 1024 * 1024  # main.json, keyring, signature


class _Reader:
    """Reads small files of the package without following links, recording failures."""

    def __init__(self, root: Path, failures: list[str]) -> None:
        self.root = root
        self.failures = failures

    def read(self, rel: str, limit: int) -> bytes | None:
        path = self.root / rel
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self.failures.append(f"{rel}: missing")
            return None
        except OSError as exc:
            self.failures.append(f"{rel}: cannot read: {exc.strerror}")
            return None
        if not stat.S_ISREG(st.st_mode):
            self.failures.append(f"{rel}: {_kind(st.st_mode)}, not a regular file")
            return None
        if st.st_size > limit:
            self.failures.append(f"{rel}: {st.st_size} bytes, more than the limit of {limit}")
            return None
        return _read_nofollow(path)


def _read_nofollow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _walk(root: Path, failures: list[str]) -> dict[str, int]:
    """Every regular file below ``root`` with its size; anything else is a failure."""
    found: dict[str, int] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir if rel_dir else root))
        except OSError as exc:
            failures.append(f"{rel_dir or '.'}: cannot list: {exc.strerror}")
            continue
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            st = e.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
            elif stat.S_ISREG(st.st_mode):
                found[rel] = st.st_size
            else:
                failures.append(f"{rel}: {_kind(st.st_mode)} (not allowed in a package)")
    return found


def _check_signed_main(data: bytes, key: Ed25519PublicKey, m: Manifest, failures: list[str]) -> None:
    try:
        doc = json.loads(data)
        signed: dict[str, Any] = doc["signed"]
        sigs = doc["signatures"]
        if not isinstance(signed, dict) or not isinstance(sigs, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        failures.append(f"{MAIN_PATH}: not a signed pointer (malformed JSON or missing fields)")
        return
    message = canonical_json(signed)
    good = any(
        isinstance(s, dict)
        and s.get("keyid") == m.keyid
        and (sig := unb64(s.get("sig"))) is not None
        and verify_signature(key, sig, message)
        for s in sigs
    )
    if not good:
        failures.append(f"{MAIN_PATH}: signature invalid (not signed by cut key {m.keyid})")
    if signed.get("schema") != MAIN_SCHEMA:
        failures.append(f"{MAIN_PATH}: unknown schema {signed.get('schema')!r}")
    if signed.get("manifest") != m.manifest_rel:
        failures.append(f"{MAIN_PATH}: names manifest {signed.get('manifest')!r}, "
                        f"not {m.manifest_rel}")
    if signed.get("manifest_sha256") != m.digest:
        failures.append(f"{MAIN_PATH}: manifest_sha256 does not match {m.manifest_rel}")
    if (signed.get("cut") != m.cut or signed.get("proceso") != m.proceso
            or signed.get("ejercicio") != m.ejercicio):
        failures.append(f"{MAIN_PATH}: cut, proceso or ejercicio differs from the manifest's")


def _check_key(ring: Keyring | None, m: Manifest, rel: str, sig: bytes | None,
               failures: list[str]) -> Ed25519PublicKey | None:
    if ring is None:
        return None
    entry = ring.keys.get(m.keyid)
    if entry is None:
        failures.append(f"{rel}: signed by unknown key {m.keyid} (not in keyring v{ring.version})")
        return None
    if entry.status == "revoked":
        failures.append(f"{rel}: signed by revoked key {m.keyid}")
        return None
    if sig is not None and not verify_signature(entry.public, sig, m.raw):
        failures.append(f"{rel}: signature does not match the manifest (edited or wrong key)")
    return entry.public


def _check_last(m: Manifest, last: int | Manifest | Path | None, failures: list[str]) -> None:
    """No rollback: a later cut of the same ejercicio, or the first package of a later one.

    An ``int`` ``last`` is a cut number of the package's own ejercicio."""
    if last is None:
        return
    if isinstance(last, Path):
        try:
            last = load_manifest(last)
        except IntegrityError as exc:
            failures.extend(f"last state: {f}" for f in exc.failures)
            return
    here = m.manifest_rel
    if isinstance(last, Manifest) and m.proceso != last.proceso:
        failures.append(f"{here}: proceso {m.proceso!r}, not {last.proceso!r}")
    if isinstance(last, Manifest) and m.ejercicio != last.ejercicio:
        if m.cut_id.ejercicio < last.cut_id.ejercicio:
            failures.append(
                f"{here}: ejercicio {m.ejercicio!r} comes before {last.ejercicio!r} already held "
                "(rollback refused: a difusor never goes back to an earlier ejercicio"
                + (", and one that holds the jornada never accepts a drill or test package)"
                   if last.cut_id.ejercicio.is_jornada else ")"))
        elif m.keyring_version < last.keyring_version:
            failures.append(f"{m.keyring}: keyring v{m.keyring_version} older than "
                            f"v{last.keyring_version} already seen (rollback refused)")
        return  # a later ejercicio starts a chain of its own
    last_cut = last if isinstance(last, int) else last.cut
    if m.cut <= last_cut:
        failures.append(f"{here}: cut {m.cut} is not newer than cut {last_cut} "
                        "already seen (rollback refused)")
    if not isinstance(last, Manifest):
        return
    if m.keyring_version < last.keyring_version:
        failures.append(f"{m.keyring}: keyring v{m.keyring_version} older than "
                        f"v{last.keyring_version} already seen (rollback refused)")
    if m.previous_cut == last.cut and m.previous != last.digest:
        failures.append(f"{here}: previous manifest digest does not match cut "
                        f"{last.cut} (chain broken)")
    elif m.cut == last.cut + 1 and m.previous_cut != last.cut:
        failures.append(f"{here}: does not chain to cut {last.cut}")


def _check_listing(m: Manifest, limits: VerifyLimits, failures: list[str]) -> bool:
    """Paths and sizes of the manifest, before anything listed is read. False: stop here."""
    ok = True
    if len(m.files) > limits.max_files:
        failures.append(f"{m.manifest_rel}: lists {len(m.files)} files, more than the "
                        f"limit of {limits.max_files}")
        ok = False
    for rel, e in sorted(m.files.items()):
        why = path_problem(rel)
        if why is not None:
            failures.append(f"{rel[:120]!r}: {why}")
            ok = False
        elif e.size > limits.max_file_size:
            failures.append(f"{rel}: listed as {e.size} bytes, more than the limit of "
                            f"{limits.max_file_size}")
            ok = False
    if m.total_size > limits.max_package_size:
        failures.append(f"{m.manifest_rel}: lists {m.total_size} bytes in all, more than "
                        f"the limit of {limits.max_package_size}")
        ok = False
    return ok


def _check_files(root: Path, m: Manifest, failures: list[str]) -> None:
    present = _walk(root, failures)
    own = {MAIN_PATH, m.manifest_rel, m.signature_rel}
    for rel in sorted(set(present) - set(m.files) - own):
        failures.append(f"{rel}: not in the manifest (extra file)")
    for rel, e in sorted(m.files.items()):
        size = present.get(rel)
        if size is None:
            if not os.path.lexists(root / rel):
                failures.append(f"{rel}: missing")
            continue
        if size != e.size:
            failures.append(f"{rel}: size {size}, manifest says {e.size}")
            continue
        h = hashlib.sha256()
        left = e.size + 1  # never read more than listed, even if the file grows meanwhile
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            while left > 0 and (chunk := f.read(min(_CHUNK, left))):
                h.update(chunk)
                left -= len(chunk)
        if left <= 0 or h.hexdigest() != e.sha256:
            failures.append(f"{rel}: sha256 does not match the manifest (content changed)")


def verify_package(
    pkg_dir: Path,
    trusted_root: Path | bytes,
    *,
    last: int | Manifest | Path | None = None,
    limits: VerifyLimits | None = None,
    now: datetime | None = None,
) -> Manifest:
    """The package's manifest when every check holds; else IntegrityError with every failure.

    ``now``, when given, also refuses a package whose manifest has expired (the embargo,
    ``not_before``, is for the activation to honour, not a failure of the package)."""
    limits = limits or VerifyLimits()
    root_key = load_root_public(trusted_root)
    root = Path(pkg_dir)
    if not root.is_dir() or root.is_symlink():
        raise IntegrityError(f"{root}: not a package directory")
    failures: list[str] = []
    reader = _Reader(root, failures)
    try:
        mpath = find_manifest_path(root)
    except IntegrityError as exc:
        raise IntegrityError([*exc.failures]) from None
    mrel = mpath.relative_to(root).as_posix()
    if path_problem(mrel) is not None:
        raise IntegrityError(f"{MAIN_PATH}: names an unsafe manifest path {mrel[:80]!r}")
    mdata = reader.read(mrel, limits.max_manifest_size)
    if mdata is None:
        raise IntegrityError(failures)
    m, bad = parse_manifest(mdata, mrel)
    if m is None:
        raise IntegrityError(failures + bad)
    if mrel != m.manifest_rel:
        failures.append(f"{mrel}: holds {m.cut_id}, expected at {m.manifest_rel}")
    sig = reader.read(m.signature_rel, limits.max_meta_size)
    ring = None
    if m.keyring not in m.files or path_problem(m.keyring) is not None:
        failures.append(f"{mrel}: keyring {m.keyring[:80]!r} is not a listed file")
    else:
        kdata = reader.read(m.keyring, limits.max_meta_size)
        if kdata is not None:
            ring, bad = parse_keyring(kdata, root_key, m.keyring)
            failures.extend(bad)
            if ring is not None and ring.version != m.keyring_version:
                failures.append(f"{m.keyring}: version {ring.version}, manifest says "
                                f"{m.keyring_version}")
    key = _check_key(ring, m, m.signature_rel, sig, failures)
    main = reader.read(MAIN_PATH, limits.max_meta_size)
    if main is not None and key is not None:
        _check_signed_main(main, key, m, failures)
    _check_last(m, last, failures)
    if now is not None and now >= m.expires:
        failures.append(f"{mrel}: expired at {m.expires.isoformat()}")
    if _check_listing(m, limits, failures):
        _check_files(root, m, failures)
    if failures:
        raise IntegrityError(list(dict.fromkeys(failures)))
    return m
