"""What every delivery mode shares: the pusher's context and how a cut names its files."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prepcast.distribution.contents import PackageContents
from prepcast.distribution.state import DeliveryState

Advance = Callable[[int], None]


@dataclass
class Context:
    """What the pusher lends its strategies."""

    state: DeliveryState
    work_dir: Path
    progress: Callable[[str, int], Advance]   # (difusor, total bytes) -> advance(n)
    file_concurrency: int = 32
    keep_releases: int = 5
    confirm_timeout: float = 30.0   # how long to wait for a daemon to activate a due cut
    poll_interval: float = 0.2


def manifest_rel(pkg: PackageContents) -> str:
    """The package path of the cut's manifest."""
    return pkg.manifest_rel


def manifest_of(pkg: PackageContents) -> bytes:
    """The exact manifest bytes the pusher sends (what a delivered release must hold)."""
    return (pkg.root / manifest_rel(pkg)).read_bytes()


def content_addressed(path: str, sha: str) -> bool:
    """Whether ``path``'s name carries its content's hash (so the name alone says the bytes)."""
    return sha[:12] in posixpath.basename(path)
