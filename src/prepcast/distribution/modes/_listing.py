"""The sftp mode's check of reused files by their listing: what the state records of a built
release (per content, the size and mtime the server listed) and which files just linked from the
live release no longer match it (see :mod:`prepcast.distribution.modes.releases`)."""

from __future__ import annotations

import logging

from prepcast.distribution.contents import PackageContents
from prepcast.distribution.transport import Listed

log = logging.getLogger("prepcast.distribution.modes.releases")


def moved_since(where: str, listed: dict[str, Listed], linked: dict[str, str],
                record: dict[str, tuple[int, int]]) -> set[str]:
    """The files just linked from the live release whose listing (size, mtime) is not the one
    recorded when that release was built: changed at the difusor since. A content with no
    record is taken on its size alone (checked after this, as before)."""
    moved: set[str] = set()
    warned: set[str] = set()
    for path, sha in sorted(linked.items()):
        got, was = listed.get(path), record.get(sha)
        if got is None or was is None or (got.size, got.mtime) == was:
            continue
        moved.add(path)
        if sha not in warned:
            warned.add(sha)
            log.warning("%s: %s changed at the difusor since the pusher placed it (listed %s "
                        "bytes, mtime %s; recorded %s, %s); not linked into the new release (a "
                        "file of the new cut is sent again)", where, path, got.size, got.mtime,
                        *was)
    return moved


def as_listed(pkg: PackageContents, listed: dict[str, Listed]) -> dict[str, tuple[int, int]]:
    """What to record of a built release: per content, the listing of its first path (the
    immutable files', as the next cut's live manifest lists them)."""
    out: dict[str, tuple[int, int]] = {}
    for path, (sha, _) in sorted(pkg.immutable().items()):
        got = listed.get(path)
        if got is not None and got.mtime is not None:
            out.setdefault(sha, (got.size, got.mtime))
    return out
