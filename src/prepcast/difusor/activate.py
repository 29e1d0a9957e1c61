"""A difusor's releases on local disk: build a release from a delta, switch ``current``, prune.

The layout is :mod:`prepcast.difusor.layout`'s. Switching is one ``rename`` of a new symlink
over ``current``, so whatever happens (even SIGKILL) exactly one whole release is live. A
release is renamed from its ``.partial`` folder only once it is complete and verified; leftover
``.partial`` folders and symlink temporaries are removed by :meth:`ReleaseStore.recover`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path

from prepcast.difusor.layout import (
    CURRENT,
    RELEASES,
    cut_of_release,
    partial_dir,
    release_dir,
)
from prepcast.errors import IntegrityError
from prepcast.package import CutId, load_manifest
from prepcast.package.layout import MUTABLE_PATHS, path_problem

_MAX_MEMBERS = 20_000


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

    def unpack(self, archive: Path, cut: CutId) -> Path:
        """Extract a delta archive into the cut's ``.partial`` folder (safe paths, regular files)."""
        partial = self.root / partial_dir(cut)
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        try:
            with tarfile.open(archive, "r:") as tar:
                members = tar.getmembers()
                if len(members) > _MAX_MEMBERS:
                    raise IntegrityError(f"{archive.name}: {len(members)} members, too many")
                for m in members:
                    why = path_problem(m.name)
                    if why is not None or not m.isfile():
                        raise IntegrityError(f"{archive.name}: {m.name[:80]!r}: "
                                             f"{why or 'not a regular file'}")
                    src = tar.extractfile(m)
                    if src is None:
                        raise IntegrityError(f"{archive.name}: {m.name}: unreadable member")
                    dest = partial / m.name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                        out.flush()
                        os.fsync(out.fileno())
        except (tarfile.TarError, EOFError) as exc:
            raise IntegrityError(f"{archive.name}: not a readable archive: {exc}") from None
        return partial

    def complete_from(self, partial: Path, sources: list[Path]) -> list[str]:
        """Hard-link into ``partial`` every manifest file it lacks, found by SHA-256 in ``sources``.

        Returns the paths that were found nowhere (the verification then names them)."""
        manifest = load_manifest(partial)
        wanted = {p: e.sha256 for p, e in manifest.files.items() if not (partial / p).exists()}
        if not wanted:
            return []
        held: dict[str, Path] = {}
        for src in sources:
            try:
                m = load_manifest(src)
            except Exception:  # an unreadable older release simply offers nothing
                continue
            for p, e in m.files.items():
                held.setdefault(e.sha256, src / p)
        missing = []
        for p, sha in sorted(wanted.items()):
            origin = held.get(sha)
            dest = partial / p
            if origin is None or not origin.is_file():
                missing.append(p)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(origin, dest)
        return missing

    def carry_over(self, partial: Path, previous: Path | None) -> None:
        """Link the previous release's immutable files the new one lacks (for in-flight readers)."""
        if previous is None:
            return
        try:
            old = load_manifest(previous)
        except Exception:
            return
        for p in old.files:
            dest = partial / p
            if p in MUTABLE_PATHS or dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(previous / p, dest)

    def seal(self, partial: Path, cut: CutId) -> Path:
        """Make a complete ``.partial`` folder the release of ``cut`` (fsync'd, then renamed)."""
        target = self.path(cut)
        if target.exists():
            shutil.rmtree(target)
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
            shutil.rmtree(self.path(c), ignore_errors=True)
        return drop

    def recover(self) -> list[str]:
        """Remove what an interrupted run left: ``.partial`` folders and symlink temporaries."""
        removed = []
        for name in os.listdir(self.root / RELEASES):
            if name.startswith(".") and name.endswith(".partial"):
                shutil.rmtree(self.root / RELEASES / name, ignore_errors=True)
                removed.append(f"{RELEASES}/{name}")
        for name in os.listdir(self.root):
            if name.startswith(f".{CURRENT}.") and name.endswith(".new"):
                (self.root / name).unlink(missing_ok=True)
                removed.append(name)
        return removed


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
