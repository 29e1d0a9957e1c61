"""Cloud SFTP gateways (object storage behind SFTP): no symlinks, no atomic rename.

The site is served straight from the difusor's folder. Every file of a cut except the entry
points lives under a name that carries its content hash or the cut (immutable), so a cut is
delivered in an order that never shows a reader a mixed cut:

1. **staging**: every immutable file the folder lacks (content-addressed names whose size
   matches are kept once read back and found to hold the bytes the manifest lists: one changed
   at the difusor is sent again), then the cut's manifest and signature;
2. **activation** (at the embargo): ``index.html``, then ``json/main.json`` last. Until that
   last write a reader gets the previous cut whole; from it, the new one whole, since everything
   it names is already there. Each is replaced atomically where the server can rename over a
   file, else written in one piece (a gateway publishes an object when its upload closes).

A cut older than the one the folder serves (a drill after the jornada) is never sent. A cut
counts as delivered only when the folder's copy of its manifest and ``json/main.json``
are byte-identical to the pusher's. Files of earlier cuts stay (a reader who read the previous
``main.json`` an instant before still finds what it names); pruning keeps every file the last
``keep_releases`` manifests list.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import posixpath

from prepcast.distribution.contents import PackageContents
from prepcast.distribution.modes._common import (
    Context,
    content_addressed,
    manifest_of,
    manifest_rel,
    same_cut_refused,
)
from prepcast.distribution.outcome import Outcome
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import IncompleteTransfer, Peer, Rollback, Unsupported
from prepcast.package import CutId
from prepcast.package.layout import INDEX_PATH, MAIN_PATH, MUTABLE_PATHS
from prepcast.package.manifest import parse_manifest

log = logging.getLogger(__name__)

MANIFESTS = "manifests"
MAIN_LIMIT = 1024 * 1024


class FlatMode:
    """``mode = "flat"``: immutable files first, the entry points last."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._no_rename: set[str] = set()   # difusores whose server cannot rename over a file

    async def check(self, peer: Peer, d: Difusor) -> Outcome | None:
        return None

    def _last(self, pkg: PackageContents) -> set[str]:
        """What goes after every data file: the manifest, its signature, the entry points."""
        return {p for p in pkg.files if p.startswith(f"{MANIFESTS}/")} | set(MUTABLE_PATHS)

    async def stage(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        root = d.remote_root
        serving = await self._serving(peer, d)
        if serving is not None and serving > pkg.cut_id:
            raise Rollback(f"{peer.where}: serves {serving}; {pkg.cut_id} is older and is not sent "
                           "(a difusor never goes back, least of all from the jornada to a drill)")
        ours = manifest_of(pkg)
        theirs = await peer.read_bytes(posixpath.join(root, manifest_rel(pkg)))
        if serving == pkg.cut_id and theirs is not None and theirs != ours \
                and not self.ctx.replace_same_cut:
            raise Rollback(same_cut_refused(peer.where, pkg.cut_id, theirs))
        held = await peer.list_files(root)
        # content-addressed files whose size matches are there; anything named after the cut is
        # trusted only once this very manifest arrived (it goes after them)
        keep = {p for p, (sha, size) in pkg.files.items()
                if held.get(p) == size and (content_addressed(p, sha) or theirs == ours)}
        keep -= await self._changed(peer, root, pkg, keep)
        last = self._last(pkg)
        first = [p for p in pkg.files if p not in last and p not in keep]
        signed = sorted(p for p in last - set(MUTABLE_PATHS) if p in pkg.files and p not in keep)
        total = sum(pkg.files[p][1] for p in first + signed)
        progress = self.ctx.progress(d.name, total)
        await peer.makedirs(sorted({posixpath.dirname(posixpath.join(root, p))
                                    for p in first + signed}))
        sem = asyncio.Semaphore(self.ctx.file_concurrency)
        sent = 0

        async def put(path: str) -> None:
            nonlocal sent
            size = pkg.files[path][1]
            async with sem:
                sent += await peer.write_into(pkg.root / path, posixpath.join(root, path), size,
                                              progress=progress)

        await asyncio.gather(*(put(p) for p in first))
        landed = await peer.list_files(root)
        wrong = [p for p in pkg.files if p not in last and landed.get(p) != pkg.files[p][1]]
        if wrong:
            raise IncompleteTransfer(
                f"{peer.where}: {len(wrong)} files did not arrive whole, e.g. {wrong[0]}")
        for path in signed:   # the manifest after what it lists
            await put(path)
        self.ctx.state.set_holding(d.name, "staged", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "stage", True, nbytes=sent, files=len(first) + len(signed),
                       note="" if first or signed else "every file already there")

    async def _changed(self, peer: Peer, root: str, pkg: PackageContents,
                       kept: set[str]) -> set[str]:
        """Those of the files the folder already holds whose bytes are not what the manifest
        lists (read back whole and hashed: a name or a size proves nothing of a file changed
        at the difusor); they are sent again."""
        sem = asyncio.Semaphore(self.ctx.file_concurrency)
        changed: set[str] = set()

        async def one(path: str) -> None:
            sha, size = pkg.files[path]
            async with sem:
                raw = await peer.read_bytes(posixpath.join(root, path), limit=size)
            if raw is None or hashlib.sha256(raw).hexdigest() != sha:
                log.warning("%s: %s does not hold what the manifest lists (changed at the "
                            "difusor?); sent again", peer.where, path)
                changed.add(path)

        await asyncio.gather(*(one(p) for p in sorted(kept)))
        return changed

    async def _serving(self, peer: Peer, d: Difusor) -> CutId | None:
        """The cut the folder's ``json/main.json`` names (by its manifest's path), if any."""
        raw = await peer.read_bytes(posixpath.join(d.remote_root, MAIN_PATH), MAIN_LIMIT)
        try:
            rel = json.loads(raw or b"null")["signed"]["manifest"]
            return CutId.from_tag(posixpath.basename(str(rel)).removesuffix(".json"))
        except (ValueError, KeyError, TypeError):
            return None

    async def activate(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        root = d.remote_root
        if await peer.read_bytes(posixpath.join(root, manifest_rel(pkg))) != manifest_of(pkg):
            raise IncompleteTransfer(f"{peer.where}: the manifest of cut {pkg.cut} is not there "
                                     "as sent; not activating")
        sent = 0
        for path in (INDEX_PATH, MAIN_PATH):
            if path in pkg.files:
                sent += await self._replace(peer, d, pkg, path)
        main = await peer.read_bytes(posixpath.join(root, MAIN_PATH))
        if main != (pkg.root / MAIN_PATH).read_bytes():
            raise IncompleteTransfer(f"{peer.where}: {MAIN_PATH} is not the one sent")
        self.ctx.state.set_holding(d.name, "active", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "activate", True, nbytes=sent, files=2)

    async def _replace(self, peer: Peer, d: Difusor, pkg: PackageContents, path: str) -> int:
        """Replace one entry point: atomically where the server renames over a file, else in
        one write (gateways publish an object when its upload completes)."""
        local, remote, size = pkg.root / path, posixpath.join(d.remote_root, path), pkg.files[path][1]
        await peer.makedirs([posixpath.dirname(remote)])
        if d.name not in self._no_rename:
            try:
                return await peer.upload(local, remote, size, resume=False)
            except Unsupported:
                self._no_rename.add(d.name)
                log.info("%s: no atomic rename; entry points written in one piece", peer.where)
                await peer.remove(posixpath.join(posixpath.dirname(remote),
                                                 f".{posixpath.basename(remote)}.part"))
        return await peer.write_into(local, remote, size)

    async def prune(self, peer: Peer, d: Difusor, live: PackageContents) -> None:
        """Remove files no manifest of the last ``keep_releases`` cuts (this one included, in
        the order of ejercicios then cuts) lists."""
        root = d.remote_root
        held = sorted((c, n) for n in await peer.listdir(posixpath.join(root, MANIFESTS))
                      if n.endswith(".json")
                      and (c := CutId.from_tag(n.removesuffix(".json"))) is not None)
        keep_manifests = [n for c, n in held if c <= live.cut_id][-self.ctx.keep_releases:]
        wanted: set[str] = set(MUTABLE_PATHS)
        for name in keep_manifests:
            raw = await peer.read_bytes(posixpath.join(root, MANIFESTS, name))
            manifest, _ = parse_manifest(raw or b"", name)
            if manifest is None:
                return   # an unreadable manifest: prune nothing rather than guess
            wanted.update(manifest.files)
            wanted.add(f"{MANIFESTS}/{name}")
            wanted.add(f"{MANIFESTS}/{name.removesuffix('.json')}.sig")
        wanted.update(live.files)
        files = await peer.list_files(root)
        stale = [p for p in files if p not in wanted and _prunable(p)]
        for path in stale:
            await peer.remove(posixpath.join(root, path))


def _prunable(path: str) -> bool:
    """Only package files (never something of the difusor's own, such as a hidden file)."""
    return not any(seg.startswith(".") for seg in path.split("/"))
