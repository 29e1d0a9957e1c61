"""SFTP-only difusores: the pusher builds ``releases/<cut>/`` and switches ``current`` atomically.

A release is built in ``releases/.<cut>.partial`` (hard links to what the live release already
holds, uploads for the rest), checked, renamed into place, and activated by renaming a new
``current`` symlink over the old one.

* **Nothing is trusted by its name.** A release already there counts as delivered only when its
  manifest is byte-identical to the one this cut carries; anything else under that name is
  replaced (when it is the live one, without a moment when ``current`` names no whole release).
* **Never back**: a cut older than the one the difusor serves (by ejercicio, then number: a
  drill after the jornada) is not sent.
* **What the difusor holds decides, not the pusher's memory.** Files are linked and carried over
  from what the live release actually holds (its manifest on the server; a linked file whose
  size is not the listed one is unlinked and sent again), so a pusher started with a fresh or
  another state still builds complete releases.
* **A reused file whose listing moved is not reused.** Once a release is built and checked, the
  state records, per difusor and content, the size and modification time the server lists for
  it (:meth:`~prepcast.distribution.state.DeliveryState.set_listed`; hard links share the
  inode, so one entry per content). A file the next cut links from the live release whose
  listing is no longer the recorded one (changed at the difusor: one byte flipped, same size,
  a later mtime) is unlinked before the release is renamed into place and sent again, so it
  never travels into the next release; a carried-over one is left out; a file an interrupted
  attempt linked is checked the same on the retry (with ``verify_reused``, read back).
  ``index.html``, whose listing is not recorded, is never linked: it is sent with every cut
  (one small file). It costs no read-back and no extra listing (the mtimes come with the
  listing that checks the new release). Limits:
  SFTP lists whole seconds, so a change in the same second as the pusher's write, or one that
  puts the mtime back (``touch -d``), passes; and with no record (a fresh state, a pusher
  started with another state, a server that lists no mtime) only sizes are checked, as before.
* **A reused file can be read back first** (``verify_reused``: ``--verify-reused``). Before a
  file of the live release is hard-linked into the new one, it is read back whole and its
  SHA-256 compared with the manifest's: a file changed at the difusor (one byte flipped, same
  size) is sent again instead, so it never travels into the next release. The cost: each cut
  reads back from every difusor the bytes it reuses (what it did not have to send), once per
  distinct content — it doubled the pusher's CPU of a state night — so it is off by default:
  sizes and listed mtimes are checked (above), and the monitor compares the contents a
  difusor serves. With it, the read-back replaces the mtime check.
* **What is carried over** (the live release's files the new cut does not list, a previous
  cut's, for clients still reading it) comes only from a live manifest the institute made (its
  digest is the new cut's ``previous``, or one this state pushed); with ``verify_reused`` each
  is read back against that manifest first (without it, its listing is checked as above), one
  that fails is left out, and the live manifest's signature goes along with it only then.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import posixpath

from prepcast.difusor.layout import CURRENT, RELEASES, cut_of_release, partial_dir, release_dir
from prepcast.distribution.contents import PackageContents
from prepcast.distribution.modes._common import (
    Context,
    content_addressed,
    manifest_of,
    manifest_rel,
    same_cut_refused,
)
from prepcast.distribution.modes._listing import as_listed, moved_since
from prepcast.distribution.outcome import Outcome
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import (
    ConnectionLost,
    IncompleteTransfer,
    NoSpace,
    Peer,
    PeerError,
    Rollback,
    Unreachable,
)
from prepcast.package.layout import MUTABLE_PATHS, manifest_path
from prepcast.package.manifest import parse_manifest

log = logging.getLogger(__name__)

Files = dict[str, tuple[str, int]]


def release_of(pkg: PackageContents) -> str:
    """The release folder of a cut, relative to the difusor's root."""
    return release_dir(pkg.cut_id)


def _manifest_in_release(name: str) -> str | None:
    """The manifest path inside the release folder ``name`` (``releases/0007``), if it names one."""
    cut = cut_of_release(name)
    return manifest_path(cut.ejercicio.name, cut.cut) if cut is not None else None


class ReleasesMode:
    """``mode = "sftp"``: releases and an atomic ``current`` symlink."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def check(self, peer: Peer, d: Difusor) -> Outcome | None:
        return None

    # --- staging ------------------------------------------------------------------------------

    async def stage(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        root = d.remote_root
        rel = release_of(pkg)
        target = posixpath.join(root, rel)
        live = _clean(await peer.read_link(posixpath.join(root, CURRENT)))
        held = cut_of_release(live) if live is not None else None
        if held is not None and held > pkg.cut_id:
            raise Rollback(f"{peer.where}: serves {held}; {pkg.cut_id} is older and is not sent "
                           "(a difusor never goes back, least of all from the jornada to a drill)")
        note = ""
        if await peer.exists(target):
            theirs = await peer.read_bytes(posixpath.join(target, manifest_rel(pkg)))
            if theirs == manifest_of(pkg) and await self._whole(peer, target, pkg):
                return Outcome(d.name, "stage", True, note="release already there (same manifest)")
            if live == rel:
                if theirs is not None and theirs != manifest_of(pkg) \
                        and not self.ctx.replace_same_cut:
                    raise Rollback(same_cut_refused(peer.where, pkg.cut_id, theirs))
                return await self._replace_live(peer, d, pkg, target)
            await peer.rmtree(target)
            note = "replaced another package held under this cut's name"
            log.warning("%s: %s held another package; replaced", peer.where, rel)
        base, base_dir, ours = await self._live_files(peer, root, live, pkg)
        partial = posixpath.join(root, partial_dir(pkg.cut_id))
        try:
            sent, uploaded = await self._build(peer, d, pkg, partial, base, base_dir,
                                               carry_over=ours)
        except PeerError as exc:
            raise await _when_full(peer, root, partial, exc) from None
        await peer.rename(partial, target)
        self.ctx.state.set_holding(d.name, "staged", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "stage", True, nbytes=sent, files=uploaded, note=note)

    async def _whole(self, peer: Peer, target: str, pkg: PackageContents) -> bool:
        landed = await peer.list_files(target)
        return all(landed.get(p) == size for p, (_, size) in pkg.files.items())

    async def _live_files(self, peer: Peer, root: str, live: str | None,
                          pkg: PackageContents) -> tuple[Files, str | None, bool]:
        """What the live release holds, from its own manifest on the server: the files it lists,
        and the manifest and its signature themselves (a file missing there is not linked; one
        of another size is caught when the new release is checked); and whether that manifest
        is one the institute made (:func:`_ours`: only then is anything carried over)."""
        if live is None:
            return {}, None, False
        inside = _manifest_in_release(live)
        if inside is None:
            return {}, None, False
        live_dir = posixpath.join(root, live)
        raw = await peer.read_bytes(posixpath.join(live_dir, inside))
        if raw is None:
            return {}, None, False
        manifest, problems = parse_manifest(raw, f"{peer.where}: {live}/{inside}")
        if manifest is None:
            log.warning("%s", "; ".join(problems))
            return {}, None, False
        files = {p: (e.sha256, e.size) for p, e in manifest.files.items()}
        files[inside] = (manifest.digest, len(raw))
        files[inside.removesuffix(".json") + ".sig"] = ("", 0)   # carried over, never linked
        ours = self._ours(manifest.digest, pkg)
        if not ours:
            log.warning("%s: the manifest of the live %s is not one the institute pushed (digest "
                        "%s); nothing of it is carried over", peer.where, live, manifest.digest)
        return files, live_dir, ours

    def _ours(self, digest: str, pkg: PackageContents) -> bool:
        """Whether a manifest of digest ``digest`` is the institute's: the new cut's previous
        one, or one this state pushed."""
        if bool(self.ctx.state.files_of(digest)):
            return True
        mine, _ = parse_manifest(manifest_of(pkg), str(pkg.root))
        return mine is not None and mine.previous == digest

    async def _build(self, peer: Peer, d: Difusor, pkg: PackageContents, dest: str, base: Files,
                     base_dir: str | None, *, carry_over: bool = False) -> tuple[int, int]:
        """Fill ``dest`` with the cut (links from ``base_dir``, uploads for the rest) plus, when
        ``carry_over``, the immutable files of ``base`` it does not list that read back as
        ``base`` lists them; check every size. Returns (bytes, files) sent."""
        arrived = await peer.list_files(dest)  # what an interrupted attempt left
        if arrived:
            theirs = await peer.read_bytes(posixpath.join(dest, manifest_rel(pkg)))
            same = theirs == manifest_of(pkg)
            # a name proves nothing: keep only files whose name carries their hash, unless the
            # attempt got as far as this very manifest
            arrived = {p: n for p, n in arrived.items() if p in pkg.files
                       and (same or content_addressed(p, pkg.files[p][0]))}
        by_sha: dict[str, str] = {}   # content -> the live file it is linked from (the first
        for p, (sha, _) in sorted(base.items()):   # path: the one whose listing was recorded;
            if sha and p not in MUTABLE_PATHS:      # never index.html, whose listing is not)
                by_sha.setdefault(sha, p)
        record = self.ctx.state.listed(d.name)
        linked: dict[str, str] = {}   # path -> sha256, linked from the live release just now
        need = sum(size for p, (sha, size) in pkg.files.items()
                   if arrived.get(p) != size and sha not in by_sha)
        free = await peer.free_bytes(posixpath.dirname(dest))
        if free is not None and free < need:
            raise NoSpace(f"{peer.where}: {_full(free, need)}")
        await peer.makedirs([posixpath.dirname(posixpath.join(dest, p)) for p in pkg.files])
        total = sum(size for p, (_, size) in pkg.files.items() if arrived.get(p) != size)
        progress = self.ctx.progress(d.name, total)
        sem = asyncio.Semaphore(self.ctx.file_concurrency)
        sent = uploaded = 0
        verified: dict[str, bool] = {}  # sha256 -> the live file holding it reads back as it

        async def place(path: str, sha: str, size: int) -> None:
            nonlocal sent, uploaded
            got = arrived.get(path)
            target = posixpath.join(dest, path)
            if got == size:
                if base_dir is None or sha not in by_sha:
                    return
                # perhaps linked from the live release by an interrupted attempt (the same
                # file as the live one, which may have changed since): checked the same as a
                # file linked now; read back (this path's own bytes, not a content's verdict)
                if not self.ctx.verify_reused:
                    linked[path] = sha
                    return
                async with sem:   # read back as many at once as files are sent
                    if await self._intact(peer, target, sha, size, {}):
                        return
                    await peer.remove(target)   # unlinked, then ours sent below
                got = None
            async with sem:
                src = by_sha.get(sha)
                if base_dir is not None and src is not None and await self._intact(
                        peer, posixpath.join(base_dir, src), sha, size, verified) \
                        and await peer.link(posixpath.join(base_dir, src), target):
                    linked[path] = sha
                    progress(size)
                    return
                n = await peer.write_into(pkg.root / path, target, size,
                                          offset=got if got is not None and got < size else 0,
                                          progress=progress)
            sent += n
            uploaded += 1

        async def carry(path: str) -> bool:
            """Link ``path`` over when it reads back as the live manifest lists it (the
            signature: when the manifest it signs did)."""
            src = posixpath.join(str(base_dir), path)
            sha, size = base[path]
            async with sem:
                if sha and not await self._intact(peer, src, sha, size, verified):
                    return False
                if not await peer.link(src, posixpath.join(dest, path)):
                    log.warning("%s: could not carry %s over", peer.where, path)
                if sha:   # linked now, or by an interrupted attempt: checked by its listing
                    linked[path] = sha
                return True

        await asyncio.gather(*(place(p, sha, size) for p, (sha, size) in pkg.files.items()))
        if base_dir is not None and carry_over:
            old = [p for p in base if p not in pkg.files and p not in MUTABLE_PATHS
                   and p not in arrived]
            await peer.makedirs([posixpath.dirname(posixpath.join(dest, p)) for p in old])
            signatures = [p for p in old if not base[p][0]]
            files = [p for p in old if p not in signatures]
            carried = dict(zip(files, await asyncio.gather(*(carry(p) for p in files)),
                               strict=True))
            for sig in signatures:
                if carried.get(sig.removesuffix(".sig") + ".json"):
                    await carry(sig)
        listed = await peer.list_stats(dest)
        moved = set() if self.ctx.verify_reused else moved_since(peer.where, listed, linked, record)
        for path in sorted(moved - pkg.files.keys()):   # carried over: left out (its signature
            await peer.remove(posixpath.join(dest, path))  # too, when it is a manifest)
            if path.endswith(".json") and path.removesuffix(".json") + ".sig" in base:
                await peer.remove(posixpath.join(dest, path.removesuffix(".json") + ".sig"))
        landed = {p: f.size for p, f in listed.items()}
        wrong = [p for p, (_, size) in pkg.files.items() if p in moved or landed.get(p) != size]
        if wrong:
            # a link to a live file that is not what its manifest says: unlink, then send ours
            # (never write through the link: that would change the live release)
            for path in wrong:
                target = posixpath.join(dest, path)
                await peer.remove(target)
                sent += await peer.write_into(pkg.root / path, target, pkg.files[path][1])
                uploaded += 1
            listed = await peer.list_stats(dest)
            landed = {p: f.size for p, f in listed.items()}
            wrong = [p for p, (_, size) in pkg.files.items() if landed.get(p) != size]
        if wrong:
            raise IncompleteTransfer(
                f"{peer.where}: {len(wrong)} files did not arrive whole, e.g. {wrong[0]}")
        self.ctx.state.set_listed(d.name, as_listed(pkg, listed), set(by_sha), record)
        return sent, uploaded

    async def _intact(self, peer: Peer, path: str, sha: str, size: int,
                      verified: dict[str, bool]) -> bool:
        """Whether the live file ``path`` still holds the bytes its manifest lists (``sha``),
        read back whole and hashed, once per content and push: a file changed at the difusor
        (same size, other bytes) is never linked into the next release, which gets ours."""
        if not self.ctx.verify_reused:
            return True   # sizes are still checked once the release is built
        if sha not in verified:
            raw = await peer.read_bytes(path, limit=size)
            verified[sha] = raw is not None and len(raw) == size \
                and hashlib.sha256(raw).hexdigest() == sha
            if not verified[sha]:
                log.warning("%s: %s does not hold what its manifest lists (changed at the "
                            "difusor?); not linked into the new release (a file of the new cut is sent "
                            "again)", peer.where, path)
        return verified[sha]

    async def _replace_live(self, peer: Peer, d: Difusor, pkg: PackageContents,
                            target: str) -> Outcome:
        """The live release holds another package under this cut's name: build the cut aside,
        serve it from there, rebuild it under its name (hard links) and switch again, so
        ``current`` always names a whole release."""
        root = d.remote_root
        aside_rel = partial_dir(pkg.cut_id)
        aside = posixpath.join(root, aside_rel)
        await peer.rmtree(aside)
        sent, uploaded = await self._build(peer, d, pkg, aside, {}, None)
        await peer.swap_symlink(posixpath.join(root, CURRENT), aside_rel)
        await peer.rmtree(target)
        again_rel = f"{RELEASES}/.{posixpath.basename(release_of(pkg))}.again"
        again = posixpath.join(root, again_rel)
        await peer.rmtree(again)
        await self._build(peer, d, pkg, again, dict(pkg.files), aside)
        await peer.rename(again, target)
        await peer.swap_symlink(posixpath.join(root, CURRENT), release_of(pkg))
        await peer.rmtree(aside)
        log.warning("%s: the live %s held another package; replaced", peer.where, release_of(pkg))
        self.ctx.state.set_holding(d.name, "staged", pkg.cut_id, pkg.digest)
        self.ctx.state.set_holding(d.name, "active", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "stage", True, nbytes=sent, files=uploaded,
                       note="replaced the live release, which held another package")

    # --- activation and pruning ---------------------------------------------------------------

    async def activate(self, peer: Peer, d: Difusor, pkg: PackageContents) -> Outcome:
        await peer.swap_symlink(posixpath.join(d.remote_root, CURRENT), release_of(pkg))
        self.ctx.state.set_holding(d.name, "active", pkg.cut_id, pkg.digest)
        return Outcome(d.name, "activate", True)

    async def prune(self, peer: Peer, d: Difusor, live: PackageContents) -> None:
        root = d.remote_root
        names = await peer.listdir(posixpath.join(root, RELEASES))
        cuts = sorted(c for n in names if (c := cut_of_release(n)) is not None and c <= live.cut_id)
        old = cuts[: max(0, len(cuts) - self.ctx.keep_releases)]
        stale = [n for n in names if n.startswith(".")
                 and (n.endswith(".partial") or n.endswith(".again"))
                 and (c := cut_of_release(n.strip(".").rsplit(".", 1)[0])) is not None
                 and c <= live.cut_id]
        for name in [posixpath.basename(release_dir(c)) for c in old] + stale:
            await peer.rmtree(posixpath.join(root, RELEASES, name))


def _clean(link: str | None) -> str | None:
    """``current``'s target as a release path relative to the root (``releases/0007``), or None
    when it is absent or points anywhere else."""
    if not link:
        return None
    # the link holds "releases/<tag>"; some servers answer with the target's full path
    # (asyncssh's chrooted server: "/releases/<tag>"), so only the last two parts count
    parts = posixpath.normpath(link).split("/")
    if len(parts) < 2 or parts[-2] != RELEASES or not parts[-1] or parts[-1].startswith("."):
        return None
    return f"{RELEASES}/{parts[-1]}"


#: Below this many free bytes after a failed write, the difusor's disk is taken as full.
FULL_MARGIN = 1024 * 1024


def _full(free: int, need: int | None = None) -> str:
    more = f" y el corte necesita {need:,} más" if need is not None else ""
    return (f"el disco del difusor está lleno (quedan {free:,} bytes libres{more}, según "
            "statvfs); el corte no se activa y el anterior sigue publicado: libere espacio o "
            "amplíe el disco")


async def _when_full(peer: Peer, root: str, partial: str, exc: PeerError) -> PeerError:
    """The error to report for a staging that failed with ``exc``: when the disk is full (the
    server says so, or statvfs shows it after a write failed: OpenSSH answers a full disk with
    a bare "Failure"), :class:`NoSpace` saying so, never retried, and the failed attempt's
    partial folder removed so it does not hold the disk; otherwise ``exc`` (its partial folder
    kept for the next attempt to continue)."""
    if isinstance(exc, ConnectionLost | Unreachable):
        return exc
    try:
        free = await peer.free_bytes(root)
    except PeerError:
        return exc
    if not isinstance(exc, NoSpace) and (free is None or free >= FULL_MARGIN):
        return exc
    try:
        await peer.rmtree(partial)
    except PeerError as gone:
        log.warning("%s: removing %s: %s", peer.where, partial, gone)
    if isinstance(exc, NoSpace):
        return exc
    return NoSpace(f"{exc}; {_full(free or 0)}")
