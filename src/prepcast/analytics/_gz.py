"""What can be read of a truncated or damaged ``.gz`` access log (DuckDB refuses the whole file)."""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from pathlib import Path


def salvage_gz(path: Path, work_dir: Path | None) -> tuple[Path, int, int]:
    """The readable part of a truncated or damaged ``.gz`` as a plain file: every line
    ``zcat`` would give before the damage (members one after another, as ``zcat`` reads them).
    Returns the file, whether a partial last line was dropped (1) or not (0), and how many
    compressed bytes after the damage could not be read."""
    fd, name = tempfile.mkstemp(prefix="salvaged-", suffix=".log", dir=work_dir)
    with os.fdopen(fd, "wb") as out, path.open("rb") as src:
        tail = bytearray()  # decompressed bytes after the last newline written

        def emit(data: bytes) -> None:
            tail.extend(data)
            cut = tail.rfind(b"\n") + 1
            if cut:
                out.write(tail[:cut])
                del tail[:cut]

        inflate = zlib.decompressobj(wbits=31)
        used = 0  # compressed bytes decompressed without error
        pending = b""
        while True:
            chunk = pending or src.read(1 << 16)
            pending = b""
            if not chunk:
                break
            saved = inflate.copy()
            try:
                emit(inflate.decompress(chunk))
            except zlib.error:
                # The damage is in this chunk: take it again a byte at a time, so that
                # everything decompressed before the bad byte is kept.
                inflate = saved
                for i in range(len(chunk)):
                    try:
                        emit(inflate.decompress(chunk[i : i + 1]))
                    except zlib.error:
                        used += i
                        break
                break
            used += len(chunk)
            if inflate.eof:  # one member ended: the next one (if any) starts in unused_data
                rest = inflate.unused_data
                used -= len(rest)
                if not rest.strip(b"\x00"):
                    break
                inflate = zlib.decompressobj(wbits=31)
                pending = rest
        dropped = 1 if tail else 0
    size = path.stat().st_size
    return Path(name), dropped, max(size - used, 0)


def is_damaged_gz(path: Path) -> bool:
    with path.open("rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            return False
    try:
        with gzip.open(path, "rb") as src:
            while src.read(1 << 22):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        return True
    return False
