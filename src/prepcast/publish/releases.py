"""The runner's packages and the institute's own root: what is published, kept and pruned.

Built packages live in ``--state``'s ``packages/`` (one folder per cut tag, pushed from there);
a published cut is a whole release in ``--publish-root`` (:class:`ReleaseStore`) made live by
one rename of ``current``. Files are hard-linked where the file system allows, copied otherwise.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prepcast.difusor.activate import ReleaseStore
from prepcast.package import CutId, load_manifest
from prepcast.package.layout import MAIN_PATH, manifest_path, signature_path

KEEP_RELEASES = 3  # in the institute's root


def publish_release(store: ReleaseStore, pkg: Path, cid: CutId) -> None:
    """Into the institute's root: a whole release, then one rename of ``current``."""
    partial = store.root / f"releases/.{cid.tag}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    shutil.copytree(pkg, partial, copy_function=link_or_copy)
    store.carry_over(partial, store.live_dir())
    store.seal(partial, cid)
    store.activate(cid)


def package_of(packages: Path, store: ReleaseStore, cid: CutId) -> Path:
    """The package of a published cut, exactly (a release also holds the files it carried
    over from the one before, for readers in flight; those are never pushed)."""
    pkg = packages / cid.tag
    if pkg.is_dir():
        return pkg
    release = store.path(cid)
    m = load_manifest(release)
    tmp = packages / f".{cid.tag}.copy.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel in [*m.files, MAIN_PATH, manifest_path(m.ejercicio, m.cut),
                signature_path(m.ejercicio, m.cut)]:
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(str(release / rel), str(tmp / rel))
    os.rename(tmp, pkg)
    return pkg


def prune_packages(packages: Path, live: CutId) -> None:
    """Drop built packages older than the one just published (which is pushed from there)."""
    for p in packages.iterdir():
        cut = CutId.from_tag(p.name)
        if cut is not None and cut < live:
            shutil.rmtree(p, ignore_errors=True)


def remove_temporaries(folder: Path) -> None:
    """What a crash left half-written (``.<name>.tmp``)."""
    for p in folder.iterdir():
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def link_or_copy(src: str, dest: str) -> str:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)
    return dest
