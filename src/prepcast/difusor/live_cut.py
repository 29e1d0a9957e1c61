"""The live cut in memory, as the embedded server (:mod:`prepcast.difusor.serve`) answers it:
every file of a release with its gzip copy (when compressible) and its response headers built
once, the headers of the nginx/Apache configs (:mod:`prepcast.difusor.webconf`). A file the cut
served until now holds unchanged is taken as it is, so a new cut compresses only what changed.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from prepcast.difusor.layout import QUARANTINE, RELEASES
from prepcast.difusor.webconf_base import GZIP_TYPES, SECURITY_HEADERS
from prepcast.package import CutId
from prepcast.package.layout import cache_control_for


@dataclass(frozen=True)
class Entry:
    body: bytes
    gz: bytes | None
    headers: list[tuple[bytes, bytes]]
    gz_headers: list[tuple[bytes, bytes]] | None
    etag: bytes
    ident: tuple[int, int, int, int] | None = None  # (device, inode, size, mtime) when read


class LiveCut:
    """One release in memory: path -> Entry."""

    def __init__(self, cut: CutId | None, entries: dict[str, Entry]) -> None:
        self.cut = cut
        self.entries = entries
        self.previous: dict[str, Entry] = {}

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path) or self.previous.get(path)


def load_release(release: Path | None, cut: CutId | None,
                 reuse: dict[str, Entry] | None = None, *, flat: bool = False) -> LiveCut:
    """The release in memory (``flat``: the root itself, without its hidden files, releases
    and quarantine). An entry of ``reuse`` (the cut served until now) with the same
    content is taken as it is, so unchanged files are not compressed again at every cut; one
    read from the very same file as now (device, inode, size and modification time: a release
    hard-links the files it shares with the one before) is not even read again."""
    entries: dict[str, Entry] = {}
    reuse = reuse or {}
    if release is None:
        return LiveCut(None, entries)
    security = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
    for dirpath, dirs, names in os.walk(release):
        if flat:
            top = Path(dirpath) == release
            dirs[:] = [d for d in dirs if not d.startswith(".")
                       and not (top and d in (RELEASES, QUARANTINE))]
            names = [n for n in names if not n.startswith(".")]
        for name in names:
            full = Path(dirpath) / name
            rel = full.relative_to(release).as_posix()
            same = reuse.get(rel)
            st = os.stat(full)
            ident = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if same is not None and same.ident == ident:
                entries[rel] = same
                continue
            body = full.read_bytes()
            ctype = _content_type(rel)
            etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
            if same is not None and same.etag == etag and same.body == body:
                entries[rel] = dataclasses.replace(same, ident=ident)
                continue
            base = [(b"content-type", ctype.encode()), (b"cache-control", cache_control_for(rel).encode()), (b"etag", etag), (b"vary", b"Accept-Encoding"), *security]
            gz = None
            gz_headers = None
            if ctype.split(";")[0] in (*GZIP_TYPES, "text/html") and len(body) >= 256:
                gz = gzip.compress(body, compresslevel=6, mtime=0)
                gz_headers = [*base, (b"content-encoding", b"gzip"), (b"content-length", str(len(gz)).encode())]
            entries[rel] = Entry(body, gz, [*base, (b"content-length", str(len(body)).encode())],
                                 gz_headers, etag, ident)
    if "index.html" in entries:
        entries[""] = entries["index.html"]
    return LiveCut(cut, entries)


def _content_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    if path.endswith(".js"):
        return "application/javascript"
    guess = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{guess}; charset=utf-8" if guess.startswith("text/") else guess
