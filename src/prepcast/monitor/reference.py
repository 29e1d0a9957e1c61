"""The institute's own publish root, read as the reference the monitor compares against.

The night runner publishes every cut as ``releases/<tag>/`` and switches ``current`` to it (see
:mod:`prepcast.publish.runner`), then pushes it to the difusores and notes when that push ended
(``pushed.json``). Each release's manifest is checked once against the trusted root key (keyring
signature, manifest signature) and kept; what a difusor serves is then compared with the signed
manifest of the cut it claims.

A difusor is behind only against a cut that has gone out: where the root records its pushes,
the reference's current cut is the newest one whose push ended, and a cut went out when its
push ended (a slow build or a long push never makes an honest difusor look late); elsewhere
(a root no night runner keeps) it is what ``current`` names, out when its release appeared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.difusor.activate import read_pushed
from prepcast.errors import InputError, IntegrityError
from prepcast.package.bytes_check import read_signed_main
from prepcast.package.ejercicio import CutId
from prepcast.package.keys import Keyring, parse_keyring
from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import Manifest, load_manifest
from prepcast.package.sign import verify_signature


@dataclass(frozen=True)
class Release:
    """One cut the institute published: its signed manifest, keyring and when it went out."""

    tag: str
    manifest: Manifest
    ring: Keyring
    published_at: datetime  # when it went out: its push ended (else the release appeared)
    cut_time: datetime | None
    path: Path

    @property
    def cut_id(self) -> CutId:
        return self.manifest.cut_id


class Untrusted(IntegrityError):
    """A manifest not signed under the trusted root key; ``step``: ``keyring`` (not signed by
    the root key, or unreadable), ``key`` (its key not an active one of the keyring) or
    ``signature`` (missing, or not the manifest's)."""

    def __init__(self, step: str, failures: list[str] | str) -> None:
        super().__init__(failures)
        self.step = step


def trusted_manifest(manifest: Manifest, keyring_bytes: bytes, sig: bytes | None,
                     root: Ed25519PublicKey, source: str) -> Keyring:
    """The keyring of ``manifest`` when the keyring is signed by ``root`` and the manifest by
    a key of it; :class:`Untrusted` naming what failed otherwise."""
    ring, bad = parse_keyring(keyring_bytes, root, f"{source}/{manifest.keyring}")
    if ring is None:
        raise Untrusted("keyring", bad)
    entry = ring.keys.get(manifest.keyid)
    if entry is None or entry.status == "revoked":
        raise Untrusted("key", f"{source}/{manifest.manifest_rel}: key {manifest.keyid} is not "
                               "an active key of the keyring")
    if sig is None or not verify_signature(entry.public, sig, manifest.raw):
        raise Untrusted("signature", f"{source}/{manifest.signature_rel}: signature does not "
                                     "match the manifest")
    return ring


class Reference:
    """The publish root: which cut is current, and every release still there."""

    def __init__(self, root: Path, trusted: Ed25519PublicKey) -> None:
        self.root = root
        self.trusted = trusted
        self._releases: dict[str, Release] = {}
        self._pushed: dict[str, datetime] | None = None  # None: the root records no pushes
        self._refused: str | None = None  # the last keyring refused under the trusted key
        if not (root / "releases").is_dir():
            raise InputError.at(root, "not a publish root (no releases/ folder); give the "
                                "folder the night runner publishes in (--publish-root)")

    def refresh(self) -> None:
        """Read releases that appeared since the last call and when each went out; forget those
        pruned."""
        names = {e.name for e in os.scandir(self.root / "releases")
                 if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")}
        for gone in set(self._releases) - names:
            del self._releases[gone]
        for name in sorted(names - set(self._releases)):
            rel = self._load(self.root / "releases" / name)
            if rel is not None:
                self._releases[name] = rel
        self._pushed = read_pushed(self.root)
        for name, at in (self._pushed or {}).items():
            rel = self._releases.get(name)
            if rel is not None and rel.published_at != at:
                self._releases[name] = replace(rel, published_at=at)

    def _load(self, path: Path) -> Release | None:
        try:
            m = load_manifest(path)
            ring = trusted_manifest(m, (path / m.keyring).read_bytes(),
                                    _read_sig(path / m.signature_rel), self.trusted, str(path))
            signed, _ = read_signed_main((path / MAIN_PATH).read_bytes())
        except IntegrityError as exc:
            if any("not signed by the trusted root key" in f for f in exc.failures):
                self._refused = exc.failures[0]
            return None  # foreign: not a reference
        except OSError:
            return None  # half-written: not yet a reference
        cut_time = None
        if signed is not None and isinstance(signed.get("cut_time"), str):
            try:
                cut_time = datetime.fromisoformat(signed["cut_time"])
            except ValueError:
                cut_time = None
        published = datetime.fromtimestamp(os.stat(path).st_ctime, UTC)
        return Release(path.name, m, ring, published, cut_time, path)

    def releases(self) -> list[Release]:
        return sorted(self._releases.values(), key=lambda r: r.cut_id)

    def current(self) -> Release | None:
        """The cut difusores must show: the newest one that has gone out (where the root
        records pushes; None until the first push ends), else the release ``current`` points at
        (None before the first cut)."""
        if self._pushed is None:
            self._pushed = read_pushed(self.root)
        if self._pushed is not None:
            if any(tag not in self._releases for tag in self._pushed):
                self.refresh()
            out = [r for r in self._releases.values() if r.tag in self._pushed]
            return max(out, key=lambda r: r.cut_id, default=None)
        return self._linked()

    def _linked(self) -> Release | None:
        """The release ``current`` points at (None before the first cut)."""
        try:
            target = os.readlink(self.root / "current")
        except OSError:
            return None
        name = Path(target).name
        rel = self._releases.get(name)
        if rel is None:
            self.refresh()
            rel = self._releases.get(name)
        return rel

    def find(self, ejercicio: str, cut: int) -> Release | None:
        for r in self._releases.values():
            if r.manifest.ejercicio == ejercicio and r.manifest.cut == cut:
                return r
        return None

    def lag(self, ejercicio: str, cut: int, now: datetime) -> tuple[int, float]:
        """Cuts and seconds a difusor showing (``ejercicio``, ``cut``) is behind: the cuts of
        the current ejercicio published since, and the time since the first of them went out.
        A difusor showing another ejercicio is not behind but out of place (:meth:`mismatch`):
        (0, 0.0) here."""
        cur = self.current()
        if cur is None or ejercicio != cur.manifest.ejercicio:
            return 0, 0.0
        missed = [r for r in self.releases() if r.manifest.ejercicio == ejercicio
                  and cut < r.manifest.cut <= cur.manifest.cut]
        if not missed:
            return 0, 0.0
        first = min(missed, key=lambda r: r.cut_id)
        return max(cur.manifest.cut - cut, 0), max((now - first.published_at).total_seconds(),
                                                    0.0)

    def mismatch(self, ejercicio: str, now: datetime) -> tuple[Release, float] | None:
        """Where a difusor shows another ejercicio than the institute's current cut (a drill's
        data while the jornada is out, say): that current cut, and the seconds since the
        institute's ejercicio first went out (its earliest cut still held); None when the
        difusor shows the same ejercicio, or before anything went out."""
        cur = self.current()
        if cur is None or ejercicio == cur.manifest.ejercicio:
            return None
        held = [r for r in self.releases() if r.manifest.ejercicio == cur.manifest.ejercicio
                and r.cut_id <= cur.cut_id]
        first = min(r.published_at for r in held) if held else cur.published_at
        return cur, max((now - first).total_seconds(), 0.0)

    def untrusted(self) -> str | None:
        """Why no release of the root checks out against the trusted key, when none does
        although some are there (the root key given is not the one that signed this root's
        keyrings); None when one checks out, or there is none yet."""
        self.refresh()
        if self._releases:
            return None
        return self._refused

    def interval_s(self, default: float) -> float:
        """Seconds between cuts, from the last two cut times published (else ``default``)."""
        times = [r.cut_time for r in self.releases() if r.cut_time is not None]
        if len(times) >= 2:
            step = (times[-1] - times[-2]).total_seconds()
            if step > 0:
                return step
        return default


def _read_sig(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
