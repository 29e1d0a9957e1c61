"""Push a cut to every difusor: staging as soon as the cut exists, activation at its embargo.

Each difusor is served by its own task (at most ``registry.concurrency`` at once) over its own
SSH connection, kept open across cuts; one difusor failing never slows or stops the others.

* **sftp** difusores: the pusher builds ``releases/<cut>/`` in the difusor's folder (hard links
  to content already there, uploads for the rest, under temporary names), checks what arrived,
  and at activation renames a new ``current`` symlink into place; it keeps the last K releases.
* **daemon** difusores: one archive of what the daemon lacks goes to its inbox
  (``<cut>.tar``); the daemon verifies it and activates it itself at the embargo.

Every attempt is recorded in the :class:`DeliveryState`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prepcast.difusor.layout import (
    CURRENT,
    RELEASES,
    cut_of_release,
    inbox_name,
    partial_dir,
    release_dir,
)
from prepcast.distribution.contents import PackageContents
from prepcast.distribution.delta import lacking, write_delta_archive
from prepcast.distribution.registry import Registry
from prepcast.distribution.sftp import CONNECT_TIMEOUT, SftpPeer
from prepcast.distribution.state import DeliveryState
from prepcast.errors import PrepcastError, TransportError
from prepcast.package import CutId
from prepcast.package.layout import MUTABLE_PATHS

log = logging.getLogger(__name__)

OnProgress = Callable[[str, int, int], None]


@dataclass
class Outcome:
    """How one phase went at one difusor."""

    difusor: str
    phase: str
    ok: bool
    nbytes: int = 0
    files: int = 0
    seconds: float = 0.0
    error: str | None = None
    note: str = ""


@dataclass
class PushReport:
    cut: int
    staged: dict[str, Outcome] = field(default_factory=dict)
    activated: dict[str, Outcome] = field(default_factory=dict)
    seconds_to_serving: float = 0.0   # push start -> every activation done (before pruning)

    @property
    def failed(self) -> list[str]:
        bad = {n for n, o in self.staged.items() if not o.ok}
        bad |= {n for n, o in self.activated.items() if not o.ok}
        return sorted(bad)


class Pusher:
    """Sends cuts to the registry's active difusores; keep one for the whole night."""

    def __init__(self, registry: Registry, state: DeliveryState, *,
                 on_progress: OnProgress | None = None, file_concurrency: int = 32,
                 attempts: int = 3, retry_delay: float = 1.0, work_dir: Path | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.registry = registry
        self.state = state
        self.on_progress = on_progress
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.file_concurrency = file_concurrency
        self.peers = {
            d.name: SftpPeer(d, known_hosts=registry.known_hosts, file_concurrency=file_concurrency,
                             connect_timeout=connect_timeout)
            for d in registry.active()
        }
        self._tmp = tempfile.TemporaryDirectory(prefix="prepcast-push-") if work_dir is None else None
        self.work_dir = work_dir or Path(self._tmp.name if self._tmp else ".")
        self._archives: dict[tuple[str, str], tuple[Path, int]] = {}
        self._archive_lock = asyncio.Lock()

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.peers.values()))
        if self._tmp is not None:
            self._tmp.cleanup()

    async def push(self, pkg: PackageContents, *, wait_for_embargo: bool = True) -> PushReport:
        """Stage the cut everywhere; each difusor staged by ``not_before`` is activated then, all
        together; one that is late (slow link, retries) is activated when its staging ends, so
        it never holds the others back."""
        started = time.monotonic()
        report = PushReport(pkg.cut)
        self.state.remember_files(pkg.digest, pkg.files)
        sem = asyncio.Semaphore(self.registry.concurrency)
        embargo = asyncio.create_task(self._embargo(pkg)) if wait_for_embargo else None

        async def one(peer: SftpPeer) -> None:
            async with sem:
                staged = await self._run(peer, "stage", pkg)
            report.staged[peer.difusor.name] = staged
            if not staged.ok:
                return
            if embargo is not None:
                await asyncio.shield(embargo)
            report.activated[peer.difusor.name] = await self._run(peer, "activate", pkg)

        try:
            await asyncio.gather(*(one(p) for p in self.peers.values()))
        finally:
            if embargo is not None and not embargo.done():
                embargo.cancel()
        report.seconds_to_serving = time.monotonic() - started
        await self.prune_all([n for n, o in report.activated.items() if o.ok], pkg.cut_id)
        return report

    async def _embargo(self, pkg: PackageContents) -> None:
        delay = (pkg.not_before - datetime.now(UTC)).total_seconds()
        if delay > 0:
            log.info("cut %d: activation at %s (in %.0f s)", pkg.cut, pkg.not_before, delay)
            await asyncio.sleep(delay)

    async def prune_all(self, names: list[str], live: CutId) -> None:
        """Remove old releases at SFTP-only difusores (after every one serves the new cut)."""
        sem = asyncio.Semaphore(self.registry.concurrency)

        async def one(peer: SftpPeer) -> None:
            if peer.difusor.mode != "sftp":
                return
            async with sem:
                try:
                    await self._prune(peer, live)
                except PrepcastError as exc:
                    log.warning("%s: pruning old releases: %s", peer.where, exc)

        await asyncio.gather(*(one(self.peers[n]) for n in names))

    async def stage_all(self, pkg: PackageContents) -> dict[str, Outcome]:
        self.state.remember_files(pkg.digest, pkg.files)
        return await self._each(list(self.peers), "stage", pkg)

    async def activate_all(self, pkg: PackageContents, names: list[str]) -> dict[str, Outcome]:
        return await self._each(names, "activate", pkg)

    async def _each(self, names: list[str], phase: str, pkg: PackageContents) -> dict[str, Outcome]:
        sem = asyncio.Semaphore(self.registry.concurrency)

        async def one(name: str) -> Outcome:
            async with sem:
                return await self._run(self.peers[name], phase, pkg)

        results = await asyncio.gather(*(one(n) for n in names))
        return {o.difusor: o for o in results}

    async def _run(self, peer: SftpPeer, phase: str, pkg: PackageContents) -> Outcome:
        d = peer.difusor
        tries = self.attempts if phase == "stage" else 1
        outcome = Outcome(d.name, phase, False)
        for attempt in range(1, tries + 1):
            row = self.state.start(d.name, pkg.cut, phase)
            started = time.monotonic()
            try:
                if phase == "stage":
                    outcome = await self._stage(peer, pkg)
                else:
                    outcome = await self._activate(peer, pkg)
            except PrepcastError as exc:
                outcome = Outcome(d.name, phase, False, error=str(exc))
            except Exception as exc:  # one difusor's surprise must not stop the others
                log.exception("difusor %s: %s failed", d.name, phase)
                outcome = Outcome(d.name, phase, False, error=f"{d.name}: {type(exc).__name__}: {exc}")
            outcome.seconds = time.monotonic() - started
            self.state.end(row, result="ok" if outcome.ok else "failed", nbytes=outcome.nbytes,
                           files=outcome.files, error=outcome.error)
            if outcome.ok or not _retryable(outcome.error):
                break
            if attempt < tries:
                log.warning("%s (attempt %d of %d; resuming)", outcome.error, attempt, tries)
                await peer.close()
                await asyncio.sleep(self.retry_delay)
        if not outcome.ok:
            log.error("%s", outcome.error)
        return outcome

    # --- staging ------------------------------------------------------------------------------

    async def _stage(self, peer: SftpPeer, pkg: PackageContents) -> Outcome:
        d = peer.difusor
        held = self.state.holding(d.name, "staged")
        if held is not None and held[1] == pkg.digest:
            return Outcome(d.name, "stage", True, note="already staged")
        base = self.state.files_of(held[1]) if held is not None and held[0] < pkg.cut_id else {}
        base_cut = held[0] if held is not None and base else None
        if d.mode == "daemon":
            # the daemon says what it shows; a delta against that is always complete there,
            # even when it rejected a cut we sent
            live = await self._daemon_status(peer)
            digest = str(live.get("live_digest") or "")
            if digest:
                live_cut = CutId.from_tag(str(live.get("live_tag") or ""))
                if live_cut is not None:
                    self.state.set_holding(d.name, "active", live_cut, digest)
            base = self.state.files_of(digest) if digest else {}
            out = await self._stage_daemon(peer, pkg, base, digest if base else "")
        else:
            out = await self._stage_sftp(peer, pkg, base, base_cut)
        self.state.set_holding(d.name, "staged", pkg.cut_id, pkg.digest)
        return out

    async def _daemon_status(self, peer: SftpPeer) -> dict[str, Any]:
        raw = await peer.read_bytes(posixpath.join(peer.difusor.remote_root, "status.json"))
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        return doc if isinstance(doc, dict) else {}

    async def _stage_daemon(self, peer: SftpPeer, pkg: PackageContents,
                            base: dict[str, tuple[str, int]], base_digest: str) -> Outcome:
        d = peer.difusor
        archive, count = await self._archive(pkg, base, base_digest)
        size = archive.stat().st_size
        remote = posixpath.join(d.remote_root, inbox_name(pkg.cut_id))
        sent = await peer.upload(archive, remote, size, progress=self._progress(d.name, size))
        landed = await peer.size_of(remote)
        if landed != size and not await self._consumed(peer, pkg.cut_id):
            raise TransportError(f"{peer.where}: {remote}: {landed} bytes arrived of {size}")
        return Outcome(d.name, "stage", True, nbytes=sent, files=count)

    async def _consumed(self, peer: SftpPeer, cut: CutId) -> bool:
        """Whether the daemon already took the archive in (it removes it once handled)."""
        status = await self._daemon_status(peer)
        live = CutId.from_tag(str(status.get("live_tag") or ""))
        return (live is not None and live >= cut) or status.get("last_received") == cut.tag

    async def _archive(self, pkg: PackageContents, base: dict[str, tuple[str, int]],
                       base_digest: str) -> tuple[Path, int]:
        key = (pkg.digest, base_digest)
        async with self._archive_lock:
            if key not in self._archives:
                paths = lacking(pkg, base)
                out = self.work_dir / f"{pkg.cut_id.tag}-{pkg.digest[:12]}-{base_digest[:12] or 'full'}.tar"
                await asyncio.to_thread(write_delta_archive, pkg, paths, out)
                self._archives[key] = (out, len(paths))
            return self._archives[key]

    async def _stage_sftp(self, peer: SftpPeer, pkg: PackageContents,
                          base: dict[str, tuple[str, int]], base_cut: CutId | None) -> Outcome:
        d = peer.difusor
        root = d.remote_root
        target = posixpath.join(root, release_dir(pkg.cut_id))
        if await peer.exists(target):
            return Outcome(d.name, "stage", True, note="release already there")
        partial = posixpath.join(root, partial_dir(pkg.cut_id))
        arrived = await peer.list_files(partial)  # what an interrupted attempt left
        await peer.makedirs([posixpath.dirname(posixpath.join(partial, p)) for p in pkg.files])
        base_dir = posixpath.join(root, release_dir(base_cut)) if base_cut is not None else None
        by_sha = {sha: p for p, (sha, _) in base.items()}
        total = sum(size for p, (_, size) in pkg.files.items() if arrived.get(p) != size)
        progress = self._progress(d.name, total)
        sem = asyncio.Semaphore(self.file_concurrency)
        sent = 0
        uploaded = 0

        async def place(path: str, sha: str, size: int) -> None:
            nonlocal sent, uploaded
            got = arrived.get(path)
            if got == size:
                return
            dest = posixpath.join(partial, path)
            async with sem:
                src = by_sha.get(sha)
                if base_dir is not None and src is not None and await peer.link(
                        posixpath.join(base_dir, src), dest):
                    progress(size)
                    return
                n = await peer.write_into(pkg.root / path, dest, size, offset=got or 0,
                                          progress=progress)
            sent += n
            uploaded += 1

        async def carry(path: str) -> None:
            async with sem:
                await peer.link(posixpath.join(str(base_dir), path), posixpath.join(partial, path))

        await asyncio.gather(*(place(p, sha, size) for p, (sha, size) in pkg.files.items()))
        if base_dir is not None:
            old = [p for p in base if p not in pkg.files and p not in MUTABLE_PATHS]
            await peer.makedirs([posixpath.dirname(posixpath.join(partial, p)) for p in old])
            await asyncio.gather(*(carry(p) for p in old if arrived.get(p) is None))
        landed = await peer.list_files(partial)
        wrong = [p for p, (_, size) in pkg.files.items() if landed.get(p) != size]
        if wrong:
            raise TransportError(f"{peer.where}: {len(wrong)} files did not arrive whole, e.g. {wrong[0]}")
        await peer.rename(partial, target)
        return Outcome(d.name, "stage", True, nbytes=sent, files=uploaded)

    # --- activation ---------------------------------------------------------------------------

    async def _activate(self, peer: SftpPeer, pkg: PackageContents) -> Outcome:
        d = peer.difusor
        if d.mode == "daemon":
            return Outcome(d.name, "activate", True, note="the daemon activates at not_before")
        root = d.remote_root
        await peer.swap_symlink(posixpath.join(root, CURRENT), release_dir(pkg.cut_id))
        self.state.set_holding(d.name, "active", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "activate", True)

    async def _prune(self, peer: SftpPeer, live: CutId) -> None:
        root = peer.difusor.remote_root
        names = await peer.listdir(posixpath.join(root, RELEASES))
        cuts = sorted(c for n in names if (c := cut_of_release(n)) is not None and c <= live)
        old = cuts[: max(0, len(cuts) - self.registry.keep_releases)]
        stale = [n for n in names if n.startswith(".") and n.endswith(".partial")
                 and (c := cut_of_release(n.strip(".").removesuffix(".partial"))) is not None
                 and c <= live]
        for name in [c.tag for c in old] + stale:
            await peer.rmtree(posixpath.join(root, RELEASES, name))

    def _progress(self, name: str, total: int) -> Callable[[int], None]:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if self.on_progress is not None:
                self.on_progress(name, done, total)

        return advance


def _retryable(error: str | None) -> bool:
    """A dropped or refused connection is worth another attempt; a refused key is not."""
    if error is None:
        return False
    return not any(s in error for s in ("host key", "authentication failed", "unknown host key",
                                        "No space", "no space", "disk full"))

