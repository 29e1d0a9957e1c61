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
    # replace a live cut held as another package under the same tag (on purpose only)
    replace_same_cut: bool = False
    # read back and hash every live file before it is linked or carried into the next release
    # (sftp mode): a file changed at the difusor is then never reused; costs reading back from
    # every difusor what it did not have to send (off: sizes only; the monitor compares contents)
    verify_reused: bool = False


def same_cut_refused(where: str, cut: object, theirs: bytes) -> str:
    """Why a cut served as another package under the same tag is not replaced."""
    import hashlib

    return (f"{where}: serves {cut} as another package (manifest sha256 "
            f"{hashlib.sha256(theirs).hexdigest()[:12]}); one cut is one package: not replaced "
            "(run the ejercicio again under a new name, or replace it on purpose with "
            "--replace-same-cut)")


def manifest_rel(pkg: PackageContents) -> str:
    """The package path of the cut's manifest."""
    return pkg.manifest_rel


def manifest_of(pkg: PackageContents) -> bytes:
    """The exact manifest bytes the pusher sends (what a delivered release must hold)."""
    return (pkg.root / manifest_rel(pkg)).read_bytes()


def content_addressed(path: str, sha: str) -> bool:
    """Whether ``path``'s name carries its content's hash (so the name alone says the bytes)."""
    return sha[:12] in posixpath.basename(path)
