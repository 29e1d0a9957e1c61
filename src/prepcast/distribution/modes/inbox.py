"""Difusores that run the daemon: one archive per cut in its inbox, and what the daemon did with it.

The daemon tells what it serves in ``status.json`` in its inbox (``live_cut``, ``live_digest``,
``last_received``; see :mod:`prepcast.difusor.daemon`). The pusher reads it and nothing else:

* **staging**: a difusor already serving this very manifest (same digest) gets nothing; any other
  gets one archive of what it lacks, computed against the manifest digest it says it serves
  (content, never names);
* **activation**: once the cut is due, the pusher waits (``confirm_timeout``) for the daemon to
  serve this cut's digest. An archive taken in while the difusor goes on serving something else is
  a refusal (bad signature, rollback, a clock out of bounds…): a failure for that difusor, never ok;
* **next round**: a cut sent earlier and never confirmed (a crash, an embargo not yet reached) is
  read back first, and reported as refused when the daemon did not take it live.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prepcast.difusor.layout import inbox_name
from prepcast.distribution.contents import PackageContents
from prepcast.distribution.delta import lacking, write_delta_archive
from prepcast.distribution.modes._common import Context
from prepcast.distribution.outcome import Outcome
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import DifusorRefused, IncompleteTransfer, Peer
from prepcast.package import CutId

log = logging.getLogger(__name__)

STATUS = "status.json"
STATUS_LIMIT = 1024 * 1024
SETTLE = 2.0   # seconds an archive must stay taken in, and not live, before it counts as refused
TAKE_IN_RATE = 10e6  # bytes a second a daemon takes in at least (unpack, hash): more time to
                     # confirm a large archive than ``confirm_timeout`` alone


class InboxMode:
    """``mode = "daemon"``: archives into the daemon's inbox; activation confirmed by reading back."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._archives: dict[tuple[str, str], tuple[Path, int]] = {}
        self._sent: dict[str, int] = {}  # difusor -> bytes of the archive staged last
        self._lock = asyncio.Lock()

    async def status(self, peer: Peer, d: Difusor) -> dict[str, Any]:
        raw = await peer.read_bytes(posixpath.join(d.remote_root, STATUS), STATUS_LIMIT)
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {}
        return doc if isinstance(doc, dict) else {}

    # --- an earlier round -------------------------------------------------------------------------

    async def check(self, peer: Peer, d: Difusor) -> Outcome | None:
        sent = self.ctx.state.sent(d.name)
        if sent is None:
            return None
        cut, digest, not_before = sent
        status = await self.status(peer, d)
        if status.get("live_digest") == digest:
            self._confirmed(d, cut, digest)
            return None
        if datetime.now(UTC) < not_before:
            return None   # still under embargo: the daemon holds it, as it should
        if await peer.exists(posixpath.join(d.remote_root, inbox_name(cut))):
            return None   # not taken in yet; this round's cut supersedes it
        self.ctx.state.clear_sent(d.name)
        return Outcome(d.name, "confirm", False, error=_refused(peer, cut, status))

    # --- staging ----------------------------------------------------------------------------------

    async def stage(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        status = await self.status(peer, d)
        digest = str(status.get("live_digest") or "")
        if digest == pkg.digest:
            self._confirmed(d, pkg.cut_id, pkg.digest)
            return Outcome(d.name, "stage", True, note="already serving this cut")
        if digest:
            live = CutId.from_tag(str(status.get("live_tag") or ""))
            if live is not None:
                self.ctx.state.set_holding(d.name, "active", live, digest)
        base = self.ctx.state.files_of(digest) if digest else {}
        archive, count = await self._archive(pkg, base, digest if base else "")
        size = archive.stat().st_size
        remote = posixpath.join(d.remote_root, inbox_name(pkg.cut_id))
        sent = await peer.upload(archive, remote, size, progress=self.ctx.progress(d.name, size))
        landed = await peer.size_of(remote)
        if landed is not None and landed != size:
            raise IncompleteTransfer(f"{peer.where}: {remote}: {landed} bytes arrived of {size}")
        self.ctx.state.set_holding(d.name, "staged", pkg.cut_id, pkg.digest)
        self.ctx.state.set_sent(d.name, pkg.cut_id, pkg.digest, pkg.not_before)
        self._sent[d.name] = size
        return Outcome(d.name, "stage", True, nbytes=sent, files=count)

    async def _archive(self, pkg: PackageContents, base: dict[str, tuple[str, int]],
                       base_digest: str) -> tuple[Path, int]:
        key = (pkg.digest, base_digest)
        async with self._lock:
            if key not in self._archives:
                await asyncio.to_thread(self._drop_older, pkg.cut_id)
                paths = lacking(pkg, base)
                out = (self.ctx.work_dir /
                       f"{pkg.cut_id.tag}-{pkg.digest[:12]}-{base_digest[:12] or 'full'}.tar")
                await asyncio.to_thread(write_delta_archive, pkg, paths, out)
                self._archives[key] = (out, len(paths))
            return self._archives[key]

    def _drop_older(self, cut: CutId) -> None:
        """Remove the archives of cuts older than ``cut`` (never sent again: a night pushes its
        newest cut), so a night of large archives does not fill the institute's disk."""
        for key, (path, _) in list(self._archives.items()):
            older = _archive_cut(path.name)
            if older is not None and older < cut:
                del self._archives[key]
        if not self.ctx.work_dir.is_dir():
            return
        for path in self.ctx.work_dir.iterdir():
            older = _archive_cut(path.name)
            if older is not None and older < cut and path.is_file():
                path.unlink(missing_ok=True)

    # --- activation: the daemon's, confirmed by reading back ---------------------------------------

    async def activate(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        if datetime.now(UTC) < pkg.not_before:
            return Outcome(d.name, "activate", True,
                           note=f"staged; the daemon activates it at {pkg.not_before.isoformat()}")
        archive = posixpath.join(d.remote_root, inbox_name(pkg.cut_id))
        wait = self.ctx.confirm_timeout + self._sent.get(d.name, 0) / TAKE_IN_RATE
        deadline = time.monotonic() + wait
        taken_since: float | None = None
        while True:
            asked = time.monotonic()  # a status read begun now (a busy server answers late)
            status = await self.status(peer, d)
            if status.get("live_digest") == pkg.digest:
                self._confirmed(d, pkg.cut_id, pkg.digest)
                return Outcome(d.name, "activate", True, note="the daemon serves it")
            now = time.monotonic()
            if await peer.exists(archive):
                taken_since = None
                if now > deadline:
                    raise DifusorRefused(
                        f"{peer.where}: the daemon has not taken {inbox_name(pkg.cut_id)} in "
                        f"{wait:.0f} s (is it running?)")
            else:
                # refused once a status read begun SETTLE after the archive was seen gone still
                # shows another cut: the daemon activates a cut it verified right after removing
                # its archive, and a read begun before then shows the one before
                taken_since = taken_since or time.monotonic()
                if asked - taken_since >= SETTLE or now > deadline:
                    self.ctx.state.clear_sent(d.name)
                    raise DifusorRefused(_refused(peer, pkg.cut_id, status))
            await asyncio.sleep(self.ctx.poll_interval)

    def _confirmed(self, d: Difusor, cut: CutId, digest: str) -> None:
        self.ctx.state.set_holding(d.name, "active", cut, digest)
        self.ctx.state.clear_sent(d.name)

    async def prune(self, peer: Peer, d: Difusor, live: PackageContents) -> None:
        return None   # the daemon keeps its own releases


def _archive_cut(name: str) -> CutId | None:
    """The cut of an archive this mode wrote (``<tag>-<digest>-<base>.tar``, or its temporary
    ``.<that>.tmp``), or None for anything else."""
    name = name.removeprefix(".").removesuffix(".tmp")
    if not name.endswith(".tar"):
        return None
    parts = name.removesuffix(".tar").rsplit("-", 2)
    return CutId.from_tag(parts[0]) if len(parts) == 3 else None


def _refused(peer: Peer, cut: CutId, status: dict[str, Any]) -> str:
    live = CutId.from_tag(str(status.get("live_tag") or ""))
    digest = str(status.get("live_digest") or "")
    serving = f"{live} ({digest[:12]})" if live is not None else "nothing"
    reason = _reason(status, cut)
    return (f"{peer.where}: the daemon took {cut} in but did not activate it; it serves "
            f"{serving}" + (f": {reason}" if reason else " (its event log says why)"))


def _reason(status: dict[str, Any], cut: CutId) -> str:
    """A refusal's reason when the daemon's status carries one (``last_rejected``: the reasons
    of the daemon's last refusal, of this cut or of every cut, as a clock off)."""
    for key in ("last_rejected", "last_refusal", "rejected"):
        value = status.get(key)
        if isinstance(value, dict) and value.get("tag") in (None, cut.tag):
            failures = value.get("failures") or value.get("reason") or value.get("error")
            if isinstance(failures, list):
                return "; ".join(str(f) for f in failures[:3])[:500]
            if failures:
                return str(failures)[:500]
    return ""
