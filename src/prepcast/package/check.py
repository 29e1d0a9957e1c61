"""The verification core: a package's bytes against its signed manifest, with no I/O.

::

    check_signed(SignedParts, trust, last=, now=, proceso=, limits=)  ─► Verdict(manifest, findings)
        the key chain (root → keyring → cut key → manifest, main.json), schema, rollback and
        chain to the last cut, expiry, proceso, every listed path and size against the limits
    check_contents(manifest, Listing, carried=)                         ─► findings
        every listed file present with its size and SHA-256, nothing extra (files carried over
        from earlier cuts of the chain excepted), nothing but regular files
    check_package(...)                                                  ─► both at once

Everything comes in as values (bytes, a listing of what a folder holds, digests computed by
the caller) and goes out as :class:`Finding` values; the shells (:mod:`prepcast.package.verify`
for a folder, the difusor daemon for its inbox, the monitor for HTTP) read and hash. A caller
must not read or link anything a manifest lists before :func:`check_signed` found nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.package.build import MAIN_SCHEMA
from prepcast.package.canonical import JsonRefused, canonical_json, sha256_hex, strict_json
from prepcast.package.keys import Keyring, parse_keyring
from prepcast.package.layout import MAIN_PATH, path_problem
from prepcast.package.manifest import Manifest, parse_manifest, path_collisions
from prepcast.package.sign import unb64, verify_signature

KINDS = ("unreadable", "malformed", "signature", "key", "rollback", "chain", "proceso",
         "expired", "path", "limit", "missing", "extra", "size", "hash", "not_regular")
"""What a :class:`Finding` can be about."""


@dataclass(frozen=True)
class VerifyLimits:
    """What a verifier accepts at most; anything larger is refused before it is read."""

    max_file_size: int = 512 * 1024 * 1024
    max_package_size: int = 4 * 1024 * 1024 * 1024
    max_files: int = 10_000
    max_manifest_size: int = 32 * 1024 * 1024
    max_meta_size: int = 1024 * 1024  # main.json, keyring, signature


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a package: the path it concerns ('' for the whole), what, and why."""

    path: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class SignedParts:
    """The small signed files of a package as read: bytes, or why they could not be read."""

    manifest_path: str
    manifest: bytes | str
    signature: bytes | str
    keyring: bytes | str
    main: bytes | str


@dataclass(frozen=True)
class Listing:
    """What a package folder holds: regular files with their sizes, anything else by kind, and
    the SHA-256 of the files the caller hashed."""

    files: Mapping[str, int]
    others: Mapping[str, str] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    manifest: Manifest | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.findings

    def messages(self) -> list[str]:
        return list(dict.fromkeys(str(f) for f in self.findings))


@lru_cache(maxsize=8)
def _parsed(data: bytes, source: str, limit: int) -> tuple[Manifest | None, tuple[str, ...]]:
    m, bad = parse_manifest(data, source, limit)
    return m, tuple(bad)


def peek_manifest(data: bytes, source: str, limits: VerifyLimits | None = None) -> Manifest | None:
    """The manifest in ``data`` before any check (to learn which other files to read)."""
    return _parsed(data, source, (limits or VerifyLimits()).max_manifest_size)[0]


def check_signed_main(data: bytes, key: Ed25519PublicKey, m: Manifest,
                      limit: int = VerifyLimits.max_meta_size) -> list[Finding]:
    """``main.json`` bytes against the cut key and the manifest they must point at."""
    def bad(message: str, kind: str = "malformed") -> Finding:
        return Finding(MAIN_PATH, kind, message)

    try:
        doc = strict_json(data, limit=limit)
    except JsonRefused as exc:
        return [bad(f"not a signed pointer: {exc}")]
    if not isinstance(doc, dict) or set(doc) != {"signed", "signatures"}:
        return [bad("not a signed pointer (fields other than signed and signatures)")]
    signed, sigs = doc["signed"], doc["signatures"]
    if not isinstance(signed, dict) or not isinstance(sigs, list):
        return [bad("not a signed pointer (malformed signed or signatures)")]
    try:
        message = canonical_json(signed)
    except (TypeError, ValueError) as exc:
        return [bad(f"cannot be signed as canonical JSON ({str(exc)[:80]})")]
    out = []
    good = any(
        isinstance(s, dict)
        and s.get("keyid") == m.keyid
        and (sig := unb64(s.get("sig"))) is not None
        and verify_signature(key, sig, message)
        for s in sigs
    )
    if not good:
        out.append(bad(f"signature invalid (not signed by cut key {m.keyid})", "signature"))
    if signed.get("schema") != MAIN_SCHEMA:
        out.append(bad(f"unknown schema {str(signed.get('schema'))[:40]!r}"))
    if signed.get("manifest") != m.manifest_rel:
        out.append(bad(f"names manifest {str(signed.get('manifest'))[:80]!r}, "
                       f"not {m.manifest_rel}", "chain"))
    if signed.get("manifest_sha256") != m.digest:
        out.append(bad(f"manifest_sha256 does not match {m.manifest_rel}", "chain"))
    cut, proceso, ejercicio = signed.get("cut"), signed.get("proceso"), signed.get("ejercicio")
    if type(cut) is not int or cut != m.cut or proceso != m.proceso or ejercicio != m.ejercicio:
        out.append(bad("cut, proceso or ejercicio differs from the manifest's", "chain"))
    return out


def _key(ring: Keyring | None, m: Manifest, sig: bytes | str) -> tuple[Ed25519PublicKey | None,
                                                                     list[Finding]]:
    rel = m.signature_rel
    if ring is None:
        return None, []
    entry = ring.keys.get(m.keyid)
    if entry is None:
        return None, [Finding(rel, "key", f"signed by unknown key {m.keyid[:40]} "
                                          f"(not in keyring v{ring.version})")]
    if entry.status == "revoked":
        return None, [Finding(rel, "key", f"signed by revoked key {m.keyid}")]
    if isinstance(sig, bytes) and not verify_signature(entry.public, sig, m.raw):
        return entry.public, [Finding(rel, "signature", "signature does not match the manifest "
                                                        "(edited or wrong key)")]
    return entry.public, []


def _last(m: Manifest, last: int | Manifest | None) -> list[Finding]:
    """No rollback: a later cut of the same ejercicio, or the first package of a later one
    (an ``int`` ``last`` is a cut number of the package's own ejercicio)."""
    if last is None:
        return []
    here = m.manifest_rel
    if isinstance(last, Manifest) and m.proceso != last.proceso:
        return [Finding(here, "proceso", f"proceso {m.proceso[:40]!r}, not {last.proceso!r}")]
    out = []
    if isinstance(last, Manifest) and m.ejercicio != last.ejercicio:
        if m.cut_id.ejercicio < last.cut_id.ejercicio:
            out.append(Finding(here, "rollback", (
                f"ejercicio {m.ejercicio!r} comes before {last.ejercicio!r} already held "
                "(rollback refused: a difusor never goes back to an earlier ejercicio"
                + (", and one that holds the jornada never accepts a drill or test package)"
                   if last.cut_id.ejercicio.is_jornada else ")"))))
        elif m.keyring_version < last.keyring_version:
            out.append(Finding(m.keyring, "rollback", f"keyring v{m.keyring_version} older than "
                               f"v{last.keyring_version} already seen (rollback refused)"))
        return out  # a later ejercicio starts a chain of its own
    last_cut = last if isinstance(last, int) else last.cut
    if m.cut <= last_cut:
        out.append(Finding(here, "rollback", f"cut {m.cut} is not newer than cut {last_cut} "
                                             "already seen (rollback refused)"))
    if not isinstance(last, Manifest):
        return out
    if m.keyring_version < last.keyring_version:
        out.append(Finding(m.keyring, "rollback", f"keyring v{m.keyring_version} older than "
                           f"v{last.keyring_version} already seen (rollback refused)"))
    if m.previous_cut == last.cut and m.previous != last.digest:
        out.append(Finding(here, "chain", f"previous manifest digest does not match cut "
                                          f"{last.cut} (chain broken)"))
    elif m.cut == last.cut + 1 and m.previous_cut != last.cut:
        out.append(Finding(here, "chain", f"does not chain to cut {last.cut}"))
    return out


def _listing_limits(m: Manifest, limits: VerifyLimits) -> list[Finding]:
    mrel = m.manifest_rel
    out = []
    if len(m.files) > limits.max_files:
        out.append(Finding(mrel, "limit", f"lists {len(m.files)} files, more than the limit of "
                                          f"{limits.max_files}"))
    for rel, e in sorted(m.files.items()):
        why = path_problem(rel)
        if why is not None:
            out.append(Finding(f"{rel[:120]!r}", "path", why))
        elif rel == MAIN_PATH or rel.startswith("manifests/"):
            out.append(Finding(rel, "path", "reserved for the package itself"))
        elif e.size > limits.max_file_size:
            out.append(Finding(rel, "limit", f"listed as {e.size} bytes, more than the limit of "
                                             f"{limits.max_file_size}"))
    out.extend(Finding(mrel, "path", c) for c in path_collisions(m.files))
    dirs = {rel.rsplit("/", 1)[0] for rel in m.files if "/" in rel}
    out.extend(Finding(d, "path", "listed both as a file and as a folder")
               for d in sorted(dirs & set(m.files)))
    if m.total_size > limits.max_package_size:
        out.append(Finding(mrel, "limit", f"lists {m.total_size} bytes in all, more than the "
                                          f"limit of {limits.max_package_size}"))
    return out


def check_signed(parts: SignedParts, trust: Ed25519PublicKey, *,
                 last: int | Manifest | None = None, now: datetime | None = None,
                 proceso: str | None = None, limits: VerifyLimits | None = None) -> Verdict:
    """Everything that can be checked before any listed file is touched.

    ``last`` is the cut (or manifest) already shown: older or equal cuts are a rollback.
    ``now``, when given, refuses an expired package (``not_before`` is for the activation to
    honour, not a failure). ``proceso``, when given, is the only proceso accepted."""
    limits = limits or VerifyLimits()
    mrel = parts.manifest_path
    if isinstance(parts.manifest, str):
        return Verdict(None, (Finding(mrel, "unreadable", parts.manifest),))
    m, bad = _parsed(parts.manifest, mrel, limits.max_manifest_size)
    if m is None:
        return Verdict(None, tuple(Finding("", "malformed", b) for b in bad))
    out: list[Finding] = []
    if mrel != m.manifest_rel:
        out.append(Finding(mrel, "chain", f"holds cut {m.cut}, expected at {m.manifest_rel}"))
    if isinstance(parts.signature, str):
        out.append(Finding(m.signature_rel, "unreadable", parts.signature))
    ring = None
    entry = m.files.get(m.keyring)
    if entry is None or path_problem(m.keyring) is not None:
        out.append(Finding(mrel, "key", f"keyring {m.keyring[:80]!r} is not a listed file"))
    elif isinstance(parts.keyring, str):
        out.append(Finding(m.keyring, "unreadable", parts.keyring))
    else:
        ring, kbad = parse_keyring(parts.keyring, trust, m.keyring)
        out.extend(Finding("", "key", b) for b in kbad)
        if ring is not None and ring.version != m.keyring_version:
            out.append(Finding(m.keyring, "key", f"version {ring.version}, manifest says "
                                                 f"{m.keyring_version}"))
    key, kfound = _key(ring, m, parts.signature)
    out.extend(kfound)
    if isinstance(parts.main, str):
        out.append(Finding(MAIN_PATH, "unreadable", parts.main))
    elif key is not None:
        out.extend(check_signed_main(parts.main, key, m, limits.max_meta_size))
    if proceso is not None and m.proceso != proceso:
        out.append(Finding(mrel, "proceso", f"proceso {m.proceso[:40]!r}, this difusor shows "
                                            f"{proceso!r}"))
    out.extend(_last(m, last))
    if now is not None and now >= m.expires:
        out.append(Finding(mrel, "expired", f"expired at {m.expires.isoformat()}"))
    out.extend(_listing_limits(m, limits))
    return Verdict(m, tuple(out))


def carried_chain(m: Manifest, manifests: Mapping[str, bytes],
                  limits: VerifyLimits | None = None) -> list[Manifest]:
    """The earlier manifests found in a release (path -> bytes), following ``previous`` digests
    from ``m``: the files they list may be carried over (kept for readers of the previous cut)."""
    limits = limits or VerifyLimits()
    by_digest = {sha256_hex(data): (rel, data) for rel, data in manifests.items()}
    chain: list[Manifest] = []
    cur = m
    while cur.previous is not None and cur.previous in by_digest and len(chain) < len(manifests):
        rel, data = by_digest[cur.previous]
        prev = _parsed(data, rel, limits.max_manifest_size)[0]
        if prev is None or prev.manifest_rel != rel or any(path_problem(p) for p in prev.files):
            break
        chain.append(prev)
        cur = prev
    return chain


def own_files(m: Manifest) -> set[str]:
    """What a package holds beside the files its manifest lists."""
    return {MAIN_PATH, m.manifest_rel, m.signature_rel}


def check_contents(m: Manifest, listing: Listing, *,
                   carried: list[Manifest] | None = None) -> list[Finding]:
    """Every listed file present, of its size and SHA-256; nothing else but what ``carried``
    (earlier manifests of the chain, see :func:`carried_chain`) lists with the same hash."""
    out = [Finding(rel, "not_regular", f"{kind} (not allowed in a package)")
           for rel, kind in sorted(listing.others.items())]
    allowed: dict[str, str] = {}
    for old in carried or ():
        allowed[old.manifest_rel] = sha256_hex(old.raw)
        for rel, e in old.files.items():
            allowed.setdefault(rel, e.sha256)
        allowed.setdefault(old.signature_rel, "")
    own = own_files(m)
    for rel in sorted(set(listing.files) - set(m.files) - own):
        want = allowed.get(rel)
        if want is None:
            out.append(Finding(rel, "extra", "not in the manifest (extra file)"))
        elif want and listing.digests.get(rel) != want:
            out.append(Finding(rel, "hash", "carried over from an earlier cut, but its sha256 "
                                            "does not match that cut's manifest"))
    for rel, e in sorted(m.files.items()):
        size = listing.files.get(rel)
        if size is None:
            if rel not in listing.others:
                out.append(Finding(rel, "missing", "missing"))
            continue
        if size != e.size:
            out.append(Finding(rel, "size", f"size {size}, manifest says {e.size}"))
        elif listing.digests.get(rel) != e.sha256:
            out.append(Finding(rel, "hash", "sha256 does not match the manifest (content changed)"))
    return out


def check_package(parts: SignedParts, listing: Listing, trust: Ed25519PublicKey, *,
                  last: int | Manifest | None = None, now: datetime | None = None,
                  proceso: str | None = None, limits: VerifyLimits | None = None,
                  carried: list[Manifest] | None = None) -> Verdict:
    """:func:`check_signed` then :func:`check_contents`, so every failure is named at once
    (the contents are not looked at when the listing itself breaks a path rule or a limit)."""
    v = check_signed(parts, trust, last=last, now=now, proceso=proceso, limits=limits)
    if v.manifest is None or not listing_usable(v):
        return v
    more = check_contents(v.manifest, listing, carried=carried)
    return Verdict(v.manifest, v.findings + tuple(more))


def listing_usable(v: Verdict) -> bool:
    """Whether a verdict allows reading the files its manifest lists (paths and sizes sound)."""
    return v.manifest is not None and not any(f.kind in ("path", "limit") for f in v.findings)
