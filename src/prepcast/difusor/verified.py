"""What the daemon has already hashed, so a file it hard-links into the next release is not read
again.

Between two cuts most files do not change, and the daemon links them from the release it holds
into the new one (:meth:`~prepcast.difusor.activate.ReleaseStore.complete_from`): the same inode.
Once a release is verified whole, each of its files is remembered by its device, inode, size and
modification time (nanoseconds) with the SHA-256 it was found to have. A file of the next release
with exactly that identity is that very inode, untouched since (writing it moves its modification
time; replacing it makes another inode), and its digest is taken from here; everything else (what
the archive brought, anything changed) is hashed as before. The check itself is the package's
pure core (:func:`prepcast.package.check.check_contents`), whatever the digests' source.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from prepcast.errors import IntegrityError
from prepcast.package import Manifest
from prepcast.package.check import Listing, check_contents
from prepcast.package.verify import hash_file, list_folder

Identity = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns

KEEP = 4  # releases whose files are remembered (the daemon links from those it holds)


def identity(path: Path) -> Identity | None:
    """The identity of a regular file (never through a link), or None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class VerifiedFiles:
    """Digests of files found to match a verified manifest, by identity, for a few releases."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._releases: dict[str, dict[Identity, str]] = {}  # oldest first
        self.reused = 0  # files of the last check taken from here (for tests and logs)
        self.hashed = 0

    def known(self, ident: Identity) -> str | None:
        for files in self._releases.values():
            sha = files.get(ident)
            if sha is not None:
                return sha
        return None

    def remember(self, name: str, root: Path, m: Manifest) -> None:
        """Every file of ``m`` in the verified release ``root``, under the release ``name``."""
        files: dict[Identity, str] = {}
        for rel, e in m.files.items():
            ident = identity(root / rel)
            if ident is not None and ident[2] == e.size:
                files[ident] = e.sha256
        self._releases.pop(name, None)
        self._releases[name] = files
        while len(self._releases) > self.keep:
            del self._releases[next(iter(self._releases))]

    def forget(self, names: list[str]) -> None:
        for name in names:
            self._releases.pop(name, None)

    def verify_contents(self, pkg_dir: Path, m: Manifest) -> None:
        """:func:`prepcast.package.verify.verify_contents`, hashing only the files not known
        here: every file ``m`` lists present with its size and SHA-256, nothing else."""
        root = Path(pkg_dir)
        files, others = list_folder(root)
        digests: dict[str, str] = {}
        self.reused = self.hashed = 0
        for rel, e in m.files.items():
            if files.get(rel) != e.size:
                continue  # missing or of another size: the check says so without a digest
            ident = identity(root / rel)
            sha = self.known(ident) if ident is not None else None
            if sha is None:
                sha = hash_file(root / rel, e.size)
                self.hashed += 1
            else:
                self.reused += 1
            if sha is not None:
                digests[rel] = sha
        bad = check_contents(m, Listing(files, others, digests))
        if bad:
            raise IntegrityError(list(dict.fromkeys(str(f) for f in bad)))
