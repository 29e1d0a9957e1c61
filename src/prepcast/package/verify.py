"""Verify a package folder: the I/O shell around the pure core :mod:`prepcast.package.check`.

It reads the small signed files (bounded, never through a link), lists the folder, hashes what
the manifest lists (never past the listed size) and hands it all to the core; every failure is
collected, one line each naming the file and what is wrong, and raised at once as
:class:`prepcast.errors.IntegrityError`. Paths and sizes are checked before any listed file is
read. :func:`verify_signed` is the first half alone, for a receiver that must not link or write
anything a manifest names before its signature holds (the difusor daemon).
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.errors import IntegrityError
from prepcast.package.canonical import JsonRefused, read_bounded
from prepcast.package.check import (
    Listing,
    SignedParts,
    Verdict,
    VerifyLimits,
    carried_chain,
    check_contents,
    check_signed,
    listing_usable,
    own_files,
    peek_manifest,
)
from prepcast.package.keys import load_root_public
from prepcast.package.layout import MAIN_PATH, path_problem
from prepcast.package.manifest import Manifest, find_manifest_path, load_manifest

__all__ = ["VerifyLimits", "read_parts", "verify_contents", "verify_package", "verify_signed"]

_CHUNK = 1 << 20


def read_small(root: Path, rel: str, limit: int) -> bytes | str:
    """A small file of a package without following links: its bytes, or why not."""
    try:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        if os.path.islink(root / rel):
            return "a symbolic link, not a regular file"
        return f"cannot read: {exc.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return f"{_kind(st.st_mode)}, not a regular file"
        if st.st_size > limit:
            return f"{st.st_size} bytes, more than the limit of {limit}"
        return read_bounded(fd, limit)
    except JsonRefused:
        return f"more than the limit of {limit} bytes"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    finally:
        os.close(fd)


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


def list_folder(root: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Every regular file below ``root`` with its size, and everything else with its kind."""
    found: dict[str, int] = {}
    others: dict[str, str] = {}
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir if rel_dir else root))
        except OSError as exc:
            others[rel_dir or "."] = f"cannot list: {exc.strerror}"
            continue
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            st = e.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append(rel)
            elif stat.S_ISREG(st.st_mode):
                found[rel] = st.st_size
            else:
                others[rel] = _kind(st.st_mode)
    return found, others


def hash_file(path: Path, size: int) -> str | None:
    """SHA-256 of a regular file read without following links, never past ``size`` + 1 bytes
    (a file that grew meanwhile gets no digest)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    h = hashlib.sha256()
    left = size + 1
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        while left > 0 and (chunk := f.read(min(_CHUNK, left))):
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest() if left > 0 else None


def read_parts(root: Path, limits: VerifyLimits, *, keyring: bytes | None = None) -> SignedParts:
    """The signed small files of the package folder ``root`` (``keyring`` given: used instead of
    the folder's, e.g. from a release already held; its hash is checked all the same)."""
    try:
        mpath = find_manifest_path(root)
    except IntegrityError as exc:
        raise IntegrityError([*exc.failures]) from None
    mrel = mpath.relative_to(root).as_posix()
    if path_problem(mrel) is not None:
        raise IntegrityError(f"{MAIN_PATH}: names an unsafe manifest path {mrel[:80]!r}")
    mdata = read_small(root, mrel, limits.max_manifest_size)
    m = peek_manifest(mdata, mrel, limits) if isinstance(mdata, bytes) else None
    sig: bytes | str = "missing"
    kdata: bytes | str = "missing"
    if m is not None:
        sig = read_small(root, m.signature_rel, limits.max_meta_size)
        if keyring is not None:
            kdata = keyring
        elif path_problem(m.keyring) is None:
            kdata = read_small(root, m.keyring, limits.max_meta_size)
    main = read_small(root, MAIN_PATH, limits.max_meta_size)
    return SignedParts(mrel, mdata, sig, kdata, main)


def _digests(root: Path, m: Manifest, files: dict[str, int],
             carried: list[Manifest]) -> dict[str, str]:
    wanted = {rel: e.size for rel, e in m.files.items() if files.get(rel) == e.size}
    for old in carried:
        for rel in [*old.files, old.manifest_rel]:
            if rel in files and rel not in m.files:
                wanted.setdefault(rel, files[rel])
    out = {}
    for rel, size in wanted.items():
        d = hash_file(root / rel, size)
        if d is not None:
            out[rel] = d
    return out


def _carried(root: Path, m: Manifest, files: dict[str, int], limits: VerifyLimits) -> list[Manifest]:
    extra = set(files) - set(m.files) - own_files(m)
    if not extra:
        return []
    found = {}
    for rel in sorted(extra):
        if rel.startswith("manifests/") and rel.endswith(".json") and path_problem(rel) is None:
            data = read_small(root, rel, limits.max_manifest_size)
            if isinstance(data, bytes):
                found[rel] = data
    return carried_chain(m, found, limits)


def _raise(v: Verdict) -> None:
    if v.findings or v.manifest is None:
        raise IntegrityError(v.messages())


def _trust(trusted_root: Path | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(trusted_root, Ed25519PublicKey):
        return trusted_root
    return load_root_public(trusted_root)


def _package_dir(pkg_dir: Path) -> Path:
    """The folder itself; a symbolic link the caller names (``current``) is followed once."""
    root = Path(pkg_dir)
    if root.is_symlink() and root.is_dir():
        root = Path(os.path.realpath(root))
    if not root.is_dir() or root.is_symlink():
        raise IntegrityError(f"{pkg_dir}: not a package directory")
    return root


def verify_signed(
    pkg_dir: Path,
    trusted_root: Path | bytes | Ed25519PublicKey,
    *,
    last: int | Manifest | None = None,
    now: datetime | None = None,
    proceso: str | None = None,
    limits: VerifyLimits | None = None,
    keyring: bytes | None = None,
) -> Manifest:
    """Only what can be checked before any listed file is read or linked: signatures, chain,
    rollback, expiry, proceso, every listed path and size. IntegrityError with every failure."""
    limits = limits or VerifyLimits()
    root = _package_dir(pkg_dir)
    v = check_signed(read_parts(root, limits, keyring=keyring), _trust(trusted_root),
                     last=last, now=now, proceso=proceso, limits=limits)
    _raise(v)
    assert v.manifest is not None
    return v.manifest


def verify_contents(pkg_dir: Path, m: Manifest) -> None:
    """Every file ``m`` lists is in ``pkg_dir`` with its size and hash, and nothing else is
    (``m`` must come from :func:`verify_signed`). IntegrityError with every failure."""
    files, others = list_folder(Path(pkg_dir))
    listing = Listing(files, others, _digests(Path(pkg_dir), m, files, []))
    bad = check_contents(m, listing)
    if bad:
        raise IntegrityError(list(dict.fromkeys(str(f) for f in bad)))


def verify_package(
    pkg_dir: Path,
    trusted_root: Path | bytes | Ed25519PublicKey,
    *,
    last: int | Manifest | Path | None = None,
    limits: VerifyLimits | None = None,
    now: datetime | None = None,
    proceso: str | None = None,
) -> Manifest:
    """The package's manifest when every check holds; else IntegrityError with every failure.

    ``pkg_dir`` may be a release holding files carried over from earlier cuts (the chain's
    manifests are then present, and those files must match them), or a symbolic link to one.
    ``now``, when given, also refuses a package whose manifest has expired (the embargo,
    ``not_before``, is for the activation to honour, not a failure of the package)."""
    limits = limits or VerifyLimits()
    trust = _trust(trusted_root)
    root = _package_dir(pkg_dir)
    if isinstance(last, Path):
        try:
            last = load_manifest(last)
        except IntegrityError as exc:
            raise IntegrityError([f"last state: {f}" for f in exc.failures]) from None
    parts = read_parts(root, limits)
    v = check_signed(parts, trust, last=last, now=now, proceso=proceso, limits=limits)
    if v.manifest is not None and listing_usable(v):
        m = v.manifest
        files, others = list_folder(root)
        carried = _carried(root, m, files, limits)
        listing = Listing(files, others, _digests(root, m, files, carried))
        v = Verdict(m, v.findings + tuple(check_contents(m, listing, carried=carried)))
    _raise(v)
    assert v.manifest is not None
    return v.manifest
