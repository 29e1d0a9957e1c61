"""Writing a file so that nobody ever reads half of it: a temporary name beside it, fsync, rename.

One home for the idiom the keys, the registry's secrets, the runner's and the monitor's state use.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, sync_dir: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path`` (created with ``mode``), fsync it and
    rename it over ``path``; ``sync_dir`` also fsyncs the folder, so the rename survives a crash."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
