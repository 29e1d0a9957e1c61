"""One probe of one difusor's public site: what it serves against the institute's signed cut.

Per round: ``json/main.json`` (signature, ejercicio, cut, lag, the exact ``Cache-Control``),
``index.html`` and every JS and CSS file byte for byte (fetched compressed, gzip or brotli, and
compared decoded), a rotating sample of the data files, the TLS certificate, the answer time.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from prepcast.errors import IntegrityError
from prepcast.monitor.fetch import FETCH_ERRORS, Clients, Fetched, describe
from prepcast.monitor.htmlscan import foreign_elements
from prepcast.monitor.reference import Reference, Release, trusted_manifest
from prepcast.monitor.settings import ProbeSettings
from prepcast.package.bytes_check import check_entry, check_main, read_signed_main
from prepcast.package.keys import Keyring
from prepcast.package.layout import INDEX_PATH, MAIN_PATH, cache_control_for
from prepcast.package.manifest import Manifest, parse_manifest

KEEP_VERIFIED = 4  # cuts whose verified bytes a prober remembers (difusores a cut or two apart)


@dataclass
class ProbeResult:
    """What one round saw of one difusor (``integrity`` empty when everything matched, and
    only evaluated on a site that is up; ``https`` the finding of an address served over plain
    HTTP, apart from tampering)."""

    name: str
    url: str
    checked_at: datetime
    up: bool = False
    error: str | None = None
    ejercicio: str | None = None
    cut: int | None = None
    cut_display: str | None = None
    lag_cuts: int | None = None
    lag_s: float | None = None
    # the institute's current cut when the difusor shows another ejercicio (not a lag), and
    # the seconds since the institute's ejercicio went out
    institute_ejercicio: str | None = None
    institute_cut: int | None = None
    ejercicio_s: float | None = None
    integrity: list[str] = field(default_factory=list)
    cache_control: str | None = None
    latency_ms: float | None = None
    slow: bool = False
    tls_expires: datetime | None = None
    tls_days: float | None = None
    tls_error: str | None = None
    https: str | None = None
    files_checked: int = 0
    sweep_done: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "url": self.url, "checked_at": self.checked_at.isoformat(),
            "up": self.up, "error": self.error, "ejercicio": self.ejercicio, "cut": self.cut,
            "cut_display": self.cut_display, "lag_cuts": self.lag_cuts,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 1),
            "institute_ejercicio": self.institute_ejercicio,
            "institute_cut": self.institute_cut,
            "ejercicio_s": None if self.ejercicio_s is None else round(self.ejercicio_s, 1),
            # a site that did not serve the PREP was not evaluated: never reported intact
            "integrity": self.integrity or ("ok" if self.up else None),
            "cache_control": self.cache_control,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "slow": self.slow,
            "tls_expires": self.tls_expires.isoformat() if self.tls_expires else None,
            "tls_days": None if self.tls_days is None else round(self.tls_days, 1),
            "tls_error": self.tls_error, "https": self.https,
            "files_checked": self.files_checked,
            "sweep_done": self.sweep_done,
        }


class Rotation:
    """Which data files each round samples, so that one cut interval sweeps them all."""

    def __init__(self) -> None:
        self.offset: dict[str, int] = {}
        self.seen: dict[str, set[str]] = {}

    def pick(self, name: str, cut_key: str, files: list[str], per_round: int
             ) -> tuple[list[str], bool]:
        if not files:
            return [], True
        key = f"{name}/{cut_key}"
        start = self.offset.get(key, 0) % len(files)
        n = min(per_round, len(files))
        chosen = [files[(start + i) % len(files)] for i in range(n)]
        self.offset[key] = start + n
        seen = self.seen.setdefault(key, set())
        seen.update(chosen)
        return chosen, len(seen) >= len(files)


def per_round(n_files: int, settings: ProbeSettings, interval_s: float) -> int:
    """Data files per round: the sample, or more when one interval would not sweep them all."""
    rounds = max(interval_s / settings.round_s, 1.0)
    return max(settings.sample, math.ceil(n_files / rounds))


class Prober:
    """Probes difusores against the reference, with an HTTP client (and its connections) of
    each difusor's own: one shared pool over many origins closes one difusor's connections to
    open another's, and spends its time choosing among them."""

    def __init__(self, make_client: Callable[[], aiohttp.ClientSession], reference: Reference,
                 settings: ProbeSettings) -> None:
        self.http = Clients(make_client)
        self.reference = reference
        self.settings = settings
        self.rotation = Rotation()
        # difusores whose rounds check every data file (a cut interval's sweep at once)
        self.sweep: set[str] = set()
        self._foreign: dict[str, tuple[Manifest, Keyring]] = {}
        # bytes already found equal to the manifest (by size and SHA-256), per manifest digest:
        # another difusor serving the very same bytes is compared to them instead of hashed
        self._verified: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        self._main_ok: dict[str, tuple[object, bytes]] = {}

    def verified(self, m: Manifest) -> dict[str, bytes]:
        """The bytes of ``m``'s files that matched it this night (a few cuts kept)."""
        known = self._verified.get(m.digest)
        if known is None:
            known = self._verified[m.digest] = {}
            while len(self._verified) > KEEP_VERIFIED:
                self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(m.digest)
        return known

    async def aclose(self) -> None:
        await self.http.aclose()

    async def probe(self, name: str, url: str, now: datetime | None = None) -> ProbeResult:
        """One difusor's check. A difusor that switched to another cut while its files were
        being checked (the files of the cut it showed a moment ago may be gone) is checked
        again, once, on the cut it shows now; a finding is only what holds on a steady cut."""
        res = await self._probe(name, url, now)
        if res.up and res.integrity and await self._moved_on(url, res):
            res = await self._probe(name, url, now)
        return res

    async def _moved_on(self, url: str, res: ProbeResult) -> bool:
        try:
            resp, _ = await self.http.get(f"{url.rstrip('/')}/{MAIN_PATH}", retry=True)
        except FETCH_ERRORS:
            return False
        signed, _ = read_signed_main(resp.content) if resp.status_code == 200 else (None, None)
        return signed is not None and (signed.get("ejercicio"), signed.get("cut")) != (
            res.ejercicio, res.cut)

    async def _probe(self, name: str, url: str, now: datetime | None = None) -> ProbeResult:
        now = now or datetime.now(UTC)
        res = ProbeResult(name, url, now)
        base = url.rstrip("/")
        try:
            resp, ms = await self.http.get(f"{base}/{MAIN_PATH}", retry=True)
        except FETCH_ERRORS as exc:
            res.error = describe(exc)
            if "CERTIFICATE_VERIFY_FAILED" in res.error or "certificate" in res.error.lower():
                res.tls_error = res.error
            return res
        res.latency_ms = ms
        res.slow = ms > self.settings.slow_ms
        res.tls_expires = resp.tls_expires
        if res.tls_expires is not None:
            res.tls_days = (res.tls_expires - now).total_seconds() / 86400
        if resp.status_code != 200:
            res.error = f"{MAIN_PATH}: HTTP {resp.status_code}"
            return res
        res.cache_control = resp.cache_control
        signed, _ = read_signed_main(resp.content)
        if signed is None or not isinstance(signed.get("cut"), int):
            res.error = f"{MAIN_PATH}: not a signed pointer of the PREP"
            res.integrity.append(res.error)
            return res
        res.up = True
        res.ejercicio, res.cut = str(signed.get("ejercicio")), signed["cut"]
        res.cut_display = str(signed.get("cut_display") or "") or None
        other = self.reference.mismatch(res.ejercicio, now)
        if other is None:
            res.lag_cuts, res.lag_s = self.reference.lag(res.ejercicio, res.cut, now)
        else:  # another ejercicio's data (a drill's while the jornada is out): no lag of it
            cur, res.ejercicio_s = other
            res.institute_ejercicio, res.institute_cut = cur.manifest.ejercicio, cur.manifest.cut
        self._check_header(res, MAIN_PATH, resp)
        release = self.reference.find(res.ejercicio, res.cut)
        try:
            manifest, ring = ((release.manifest, release.ring) if release is not None
                              else await self._manifest_from(base, signed))
        except IntegrityError as exc:
            res.integrity.extend(exc.failures)
            return res
        # the signed pointer: bytes that already checked out against this manifest under the
        # same key of the keyring are not verified again
        key_entry = ring.keys.get(manifest.keyid)
        if self._main_ok.get(manifest.digest) != (key_entry, resp.content):
            bad_main = check_main(resp.content, ring, manifest)
            res.integrity.extend(bad_main)
            if not bad_main:
                if len(self._main_ok) >= KEEP_VERIFIED:
                    self._main_ok.clear()
                self._main_ok[manifest.digest] = (key_entry, resp.content)
        await self._check_files(res, base, manifest, release)
        return res

    def _check_header(self, res: ProbeResult, rel: str, resp: Fetched) -> None:
        want = cache_control_for(rel)
        got = resp.cache_control
        if got != want:
            res.integrity.append(f"{rel}: Cache-Control {got!r}, must be exactly {want!r}")

    async def _manifest_from(self, base: str, signed: dict[str, Any]) -> tuple[Manifest, Keyring]:
        """The manifest of a cut the reference no longer (or never) held, from the difusor,
        trusted only through the root key."""
        rel = signed.get("manifest")
        if not isinstance(rel, str) or not rel.startswith("manifests/") or ".." in rel:
            raise IntegrityError(f"{MAIN_PATH}: names no manifest")
        key = f"{base}/{rel}/{signed.get('manifest_sha256')}"
        if key in self._foreign:
            return self._foreign[key]
        try:
            mresp, _ = await self.http.get(f"{base}/{rel}", retry=True)
            m, bad = parse_manifest(mresp.content, rel)
            if m is None:
                raise IntegrityError(bad)
            kresp, _ = await self.http.get(f"{base}/{m.keyring}", retry=True)
            sresp, _ = await self.http.get(f"{base}/{m.signature_rel}", retry=True)
        except FETCH_ERRORS as exc:
            raise IntegrityError(f"{rel}: cannot fetch: {describe(exc)}") from None
        ring = trusted_manifest(m, kresp.content, sresp.content, self.reference.trusted, base)
        self._foreign[key] = (m, ring)
        return m, ring

    async def _check_files(self, res: ProbeResult, base: str, m: Manifest,
                           release: Release | None) -> None:
        code = sorted(p for p in m.files if p == INDEX_PATH or p.endswith((".js", ".css")))
        data = sorted(p for p in m.files if p not in code
                      and not p.startswith(("manifests/", "keys/")))
        interval = self.reference.interval_s(self.settings.cut_interval_s)
        per = len(data) if res.name in self.sweep else per_round(len(data), self.settings,
                                                                   interval)
        sample, res.sweep_done = self.rotation.pick(res.name, m.cut_id.tag, data, per)
        wanted = code + sample
        # what a reader's browser gets (gzip, brotli) for the code and a few data files; the
        # rest of the sample as stored, so the difusor's server does not compress it for us
        zipped = set(code) | set(sample[:self.settings.compressed_sample])
        gate = asyncio.Semaphore(self.settings.per_difusor)

        async def one(rel: str) -> list[str]:
            async with gate:
                return await self._check_one(base, rel, m, release, rel in zipped)

        found = await asyncio.gather(*(one(rel) for rel in wanted))
        for f in found:
            res.integrity.extend(f)
        res.files_checked = len(wanted)

    async def _check_one(self, base: str, rel: str, m: Manifest,
                         release: Release | None, compressed: bool) -> list[str]:
        try:
            resp, _ = await self.http.get(f"{base}/{rel}", compressed=compressed, retry=True)
        except FETCH_ERRORS as exc:
            return [f"{rel}: cannot fetch: {describe(exc)}"]
        if resp.status_code != 200:
            return [f"{rel}: HTTP {resp.status_code}"]
        data = resp.content
        known = self.verified(m)
        if known.get(rel) == data:
            found: list[str] = []
        else:
            found = check_entry(rel, data, m)
            if not found:
                known[rel] = data
        if found and rel == INDEX_PATH and release is not None:
            try:
                ref = (release.path / INDEX_PATH).read_bytes()
            except OSError:
                ref = b""
            found += [f"{rel}: extra {e}" for e in foreign_elements(resp.content, ref)]
        want = cache_control_for(rel)
        got = resp.cache_control
        if got != want:
            found.append(f"{rel}: Cache-Control {got!r}, must be exactly {want!r}")
        return found
