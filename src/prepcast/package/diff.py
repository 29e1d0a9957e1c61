"""What a receiver holding one package must fetch to hold the next: by content, not by path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prepcast.package.layout import MAIN_PATH
from prepcast.package.manifest import Manifest, load_manifest


@dataclass(frozen=True)
class Delta:
    """Files of NEW whose content OLD lacks (to fetch), and those it already holds (reused)."""

    old_cut: int
    new_cut: int
    fetch: dict[str, int]  # path in NEW → bytes to transfer
    reused: dict[str, str] = field(default_factory=dict)  # path in NEW → path in OLD, same content
    removed: list[str] = field(default_factory=list)  # paths of OLD that NEW no longer has
    total_bytes: int = 0  # bytes of the whole NEW package
    total_files: int = 0

    @property
    def bytes(self) -> int:
        return sum(self.fetch.values())

    @property
    def count(self) -> int:
        return len(self.fetch)

    @property
    def share(self) -> float:
        """Bytes to fetch as a share of the whole NEW package."""
        return self.bytes / self.total_bytes if self.total_bytes else 0.0


def _own_files(pkg: Path, m: Manifest) -> dict[str, int]:
    """Sizes of the package's files that the manifest does not list (pointer, manifest, sig)."""
    out = {}
    for rel in (MAIN_PATH, m.manifest_rel, m.signature_rel):
        p = pkg / rel
        out[rel] = p.lstat().st_size if p.is_file() else 0
    return out


def diff_manifests(old: Manifest, new: Manifest, new_own: dict[str, int] | None = None) -> Delta:
    by_hash = {e.sha256: p for p, e in sorted(old.files.items())}
    fetch: dict[str, int] = {}
    reused: dict[str, str] = {}
    for path, e in sorted(new.files.items()):
        src = old.files.get(path)
        if src is not None and src.sha256 == e.sha256:
            reused[path] = path
        elif e.sha256 in by_hash:
            reused[path] = by_hash[e.sha256]
        else:
            fetch[path] = e.size
    own = new_own if new_own is not None else {new.manifest_rel: len(new.raw)}
    fetch.update(own)
    removed = sorted(set(old.files) - set(new.files))
    return Delta(
        old.cut, new.cut, fetch, reused, removed,
        total_bytes=new.total_size + sum(own.values()),
        total_files=len(new.files) + len(own),
    )


def diff(old_pkg: Path, new_pkg: Path) -> Delta:
    """The delta OLD → NEW of two package directories (manifests parsed, not verified)."""
    old = load_manifest(Path(old_pkg))
    new = load_manifest(Path(new_pkg))
    own = _own_files(Path(new_pkg), new) if Path(new_pkg).is_dir() else None
    return diff_manifests(old, new, own)
