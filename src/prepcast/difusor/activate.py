"""A difusor's releases on local disk: build a release from a delta, switch ``current``, prune.

The layout is :mod:`prepcast.difusor.layout`'s. Switching is one ``rename`` of a new symlink
over ``current``, so whatever happens (even SIGKILL) exactly one whole release is live. A
release is renamed from its ``.partial`` folder only once it is complete and verified; leftover
``.partial`` folders and symlink temporaries are removed by :meth:`ReleaseStore.recover`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from prepcast.difusor.layout import (
    CURRENT,
    DAEMON_LOCK,
    PUSHED,
    RELEASES,
    cut_of_release,
    partial_dir,
    release_dir,
)
from prepcast.errors import InputError, IntegrityError
from prepcast.files import LockHeld, hold_lock, write_atomic
from prepcast.package import CutId, Manifest, VerifyLimits, load_manifest
from prepcast.package.layout import MUTABLE_PATHS, path_problem
from prepcast.package.manifest import path_collisions

_GONE = ".gone"  # a release being removed: renamed to .<name>.<pid>.gone first


class ReleaseStore:
    """The ``releases/`` and ``current`` of one difusor root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / RELEASES).mkdir(parents=True, exist_ok=True)

    # --- reading ------------------------------------------------------------------------------

    def live_cut(self) -> CutId | None:
        try:
            return cut_of_release(os.readlink(self.root / CURRENT))
        except OSError:
            return None

    def live_dir(self) -> Path | None:
        cut = self.live_cut()
        return self.path(cut) if cut is not None else None

    def path(self, cut: CutId) -> Path:
        return self.root / release_dir(cut)

    def cuts(self) -> list[CutId]:
        return sorted(c for n in os.listdir(self.root / RELEASES)
                      if (c := cut_of_release(n)) is not None and not n.startswith("."))

    # --- building -----------------------------------------------------------------------------

    def unpack(self, archive: BinaryIO, cut: CutId, *, name: str,
               limits: VerifyLimits | None = None) -> Path:
        """Extract a delta archive (an open file) into the cut's ``.partial`` folder.

        Every header is read and checked first: safe, distinct paths, regular files only, no
        sparse members, at most ``limits.max_files`` members, sizes within the limits and the
        free space; only then is anything written (never through a link)."""
        limits = limits or VerifyLimits()
        partial = self.root / partial_dir(cut)
        try:
            with tarfile.open(fileobj=archive, mode="r:") as tar:
                members = _checked_members(tar, name, limits, _free_bytes(self.root))
                if partial.exists():
                    shutil.rmtree(partial)
                partial.mkdir(parents=True)
                made = {partial}
                for m in members:
                    src = tar.extractfile(m)
                    if src is None:
                        raise IntegrityError(f"{name}: {m.name}: unreadable member")
                    dest = partial / m.name
                    if dest.parent not in made:
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        made.add(dest.parent)
                    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                    with os.fdopen(fd, "wb") as out:
                        left = m.size
                        while left > 0 and (chunk := src.read(min(left, 1 << 20))):
                            out.write(chunk)
                            left -= len(chunk)
                        if left:
                            raise IntegrityError(f"{name}: {m.name}: truncated member")
                        out.flush()
                        os.fsync(out.fileno())
        except (tarfile.TarError, EOFError) as exc:
            raise IntegrityError(f"{name}: not a readable archive: {exc}") from None
        return partial

    def complete_from(self, partial: Path, sources: list[Path], manifest: Manifest) -> list[str]:
        """Hard-link into ``partial`` every file of ``manifest`` it lacks, found by SHA-256 in the
        releases ``sources``. ``manifest`` must be verified (signature and paths) beforehand:
        nothing is linked at a path it does not list. Returns the paths found nowhere."""
        wanted = {p: e for p, e in manifest.files.items() if not os.path.lexists(partial / p)}
        if not wanted:
            return []
        held: dict[str, tuple[Path, int]] = {}
        for src in sources:
            try:
                m = load_manifest(src)
            except Exception:  # an unreadable older release simply offers nothing
                continue
            for p, e in m.files.items():
                if path_problem(p) is None:
                    held.setdefault(e.sha256, (src / p, e.size))
        missing = []
        for p, e in sorted(wanted.items()):
            if path_problem(p) is not None:  # never, for a verified manifest
                raise IntegrityError(f"{p[:80]!r}: unsafe path")
            origin = held.get(e.sha256)
            if origin is None or not _regular(origin[0], e.size):
                missing.append(p)
                continue
            dest = partial / p
            dest.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(origin[0], dest)
        return missing

    def carry_over(self, partial: Path, previous: Path | None) -> None:
        """Link the previous release's immutable files the new one lacks (for in-flight readers),
        with the previous manifest and signature (so the release still verifies whole)."""
        if previous is None:
            return
        try:
            old = load_manifest(previous)
        except Exception:
            return
        for p in [*old.files, old.manifest_rel, old.signature_rel]:
            dest = partial / p
            if p in MUTABLE_PATHS or path_problem(p) is not None or os.path.lexists(dest):
                continue
            if not _regular(previous / p, None):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(previous / p, dest)

    def seal(self, partial: Path, cut: CutId) -> Path:
        """Make a complete ``.partial`` folder the release of ``cut`` (fsync'd, then renamed)."""
        target = self.path(cut)
        if target.exists():
            self._discard(target)
        _fsync_dir(partial)
        os.rename(partial, target)
        _fsync_dir(target.parent)
        return target

    # --- switching ----------------------------------------------------------------------------

    def activate(self, cut: CutId) -> None:
        """Point ``current`` at the release of ``cut``: one atomic rename."""
        if not self.path(cut).is_dir():
            raise FileNotFoundError(self.path(cut))
        tmp = self.root / f".{CURRENT}.{os.getpid()}.new"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(release_dir(cut), tmp)
        os.replace(tmp, self.root / CURRENT)
        _fsync_dir(self.root)

    def prune(self, keep: int) -> list[CutId]:
        """Remove all but the newest ``keep`` releases up to the live one; never the live one."""
        live = self.live_cut()
        if live is None:
            return []
        older = [c for c in self.cuts() if c < live]
        drop = older[: max(0, len(older) - (keep - 1))]
        for c in drop:
            self._discard(self.path(c))
        return drop

    def _discard(self, release: Path) -> None:
        """Remove a release folder: first renamed out of the releases' names (one atomic step),
        so a process killed while it removes the files leaves no half-removed release under its
        name (where a rollback or a reader of the root would take it for a whole one)."""
        gone = release.with_name(f".{release.name}.{os.getpid()}{_GONE}")
        try:
            os.rename(release, gone)
        except FileNotFoundError:
            return
        shutil.rmtree(gone, ignore_errors=True)

    # --- the institute's root: when each cut finished going out -------------------------------

    def keep_pushed(self) -> None:
        """Start the record of pushes (empty) unless there is one: from then on a cut counts as
        gone out only once its push ended, the first one included."""
        if read_pushed(self.root) is None:
            write_atomic(self.root / PUSHED, json.dumps({"pushed": {}}).encode())

    def mark_pushed(self, cut: CutId, at: datetime) -> bool:
        """Record that the push of ``cut`` to the difusores ended at ``at`` (``pushed.json``,
        written whole), unless an earlier end is already recorded (a push tried again later
        does not move it). Only releases still held are kept. True when recorded now."""
        pushed = read_pushed(self.root) or {}
        if cut.tag in pushed:
            return False
        held = {c.tag for c in self.cuts()}
        doc = {tag: t.isoformat() for tag, t in sorted(pushed.items()) if tag in held}
        doc[cut.tag] = at.isoformat()
        write_atomic(self.root / PUSHED, json.dumps({"pushed": doc}, indent=1).encode())
        return True

    def recover(self) -> list[str]:
        """Remove what an interrupted run left: ``.partial`` folders, releases it was removing
        (renamed aside first) and symlink temporaries."""
        removed = []
        for name in os.listdir(self.root / RELEASES):
            if name.startswith(".") and name.endswith((".partial", _GONE)):
                shutil.rmtree(self.root / RELEASES / name, ignore_errors=True)
                removed.append(f"{RELEASES}/{name}")
        for name in os.listdir(self.root):
            if name.startswith(f".{CURRENT}.") and name.endswith(".new"):
                (self.root / name).unlink(missing_ok=True)
                removed.append(name)
        return removed


def lock_root(root: Path) -> int:
    """Hold ``root``'s daemon lock (an exclusive ``flock`` the kernel drops when the process ends,
    however it ends); the descriptor to keep open while running. A second daemon on the same
    root (the systemd unit and one started by hand) is refused before it touches anything."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        return hold_lock(root / DAEMON_LOCK)
    except LockHeld as held:
        raise InputError.at(root, f"a difusor daemon (pid {held.pid}) is already running on this "
                                  "root; stop it first (systemctl stop prepcast-difusor)") from None


def read_pushed(root: Path) -> dict[str, datetime] | None:
    """When each cut of the publish ``root`` finished going out to the difusores, by release
    tag (:meth:`ReleaseStore.mark_pushed`); None where no night runner keeps that record (no
    ``pushed.json``, or not one it wrote)."""
    try:
        doc = json.loads((Path(root) / PUSHED).read_bytes()[:1 << 20])
    except (OSError, ValueError):
        return None
    raw = doc.get("pushed") if isinstance(doc, dict) else None
    if not isinstance(raw, dict):
        return None
    out: dict[str, datetime] = {}
    for tag, when in raw.items():
        try:
            t = datetime.fromisoformat(when) if isinstance(when, str) else None
        except ValueError:
            t = None
        if t is not None and t.tzinfo is not None and CutId.from_tag(tag) is not None:
            out[tag] = t
    return out


def release_problems(release: Path) -> list[str]:
    """What is wrong with a release on disk: every manifest file present with its hash."""
    try:
        m = load_manifest(release)
    except Exception as exc:
        return [f"{release}: {exc}"]
    out = []
    for p, e in m.files.items():
        try:
            data = (release / p).read_bytes()
        except OSError:
            out.append(f"{p}: missing")
            continue
        if hashlib.sha256(data).hexdigest() != e.sha256:
            out.append(f"{p}: hash differs")
    return out


def _checked_members(tar: tarfile.TarFile, name: str, limits: VerifyLimits,
                     free: int) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    total = 0
    while (m := tar.next()) is not None:
        if len(members) >= limits.max_files:
            raise IntegrityError(f"{name}: more than {limits.max_files} members, too many")
        why = path_problem(m.name)
        if why is None and not m.isreg():
            why = "not a regular file"
        if why is None and m.issparse():
            why = "a sparse member"
        if why is None and m.size > limits.max_file_size:
            why = f"{m.size} bytes, more than the limit of {limits.max_file_size}"
        if why is not None:
            raise IntegrityError(f"{name}: {m.name[:80]!r}: {why}")
        total += m.size
        members.append(m)
    if total > limits.max_package_size:
        raise IntegrityError(f"{name}: {total} bytes once unpacked, more than the limit of "
                             f"{limits.max_package_size}")
    if total > free:
        raise IntegrityError(f"{name}: {total} bytes once unpacked, more than the "
                             f"{free} bytes free here")
    names = {m.name for m in members}
    clash = path_collisions(names)
    if clash or len(names) != len(members):
        raise IntegrityError(f"{name}: " + (clash[0] if clash else "a member appears twice"))
    folders = {n.rsplit("/", i)[0] for n in names for i in range(1, n.count("/") + 1)}
    if names & folders:
        raise IntegrityError(f"{name}: {sorted(names & folders)[0][:80]!r} is both a file and "
                             "a folder")
    return members


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _regular(path: Path, size: int | None) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and (size is None or st.st_size == size)


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
