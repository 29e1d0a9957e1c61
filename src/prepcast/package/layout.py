"""Where things live in a package, which paths are safe, and how each path may be cached."""

from __future__ import annotations

import re

from prepcast.package.ejercicio import cut_tag

MAIN_PATH = "json/main.json"
INDEX_PATH = "index.html"
MUTABLE_PATHS = frozenset({MAIN_PATH, INDEX_PATH})

CACHE_CONTROL_MUTABLE = "no-cache, no-store, must-revalidate"
CACHE_CONTROL_IMMUTABLE = "public, max-age=31536000, immutable"

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@+=-]*$")


def manifest_path(ejercicio: str, cut: int) -> str:
    """``manifests/jornada-0013.json``: cut-named paths carry the ejercicio, so a CDN that cached
    a drill's cut 13 never serves it as the jornada's."""
    return f"manifests/{cut_tag(ejercicio, cut)}.json"


def signature_path(ejercicio: str, cut: int) -> str:
    return f"manifests/{cut_tag(ejercicio, cut)}.sig"


def db_dir(ejercicio: str, cut: int) -> str:
    return f"db/{cut_tag(ejercicio, cut)}"


def cache_control_for(path: str) -> str:
    """The ``Cache-Control`` a web server sends for a package path (leading ``/`` allowed)."""
    p = path.lstrip("/")
    if p in MUTABLE_PATHS or p == "":
        return CACHE_CONTROL_MUTABLE
    return CACHE_CONTROL_IMMUTABLE


def path_problem(path: str) -> str | None:
    """Why ``path`` may not name a file of a package, or None when it is safe.

    Safe: relative, ``/``-separated, every segment of letters, digits and ``_.@+=-`` not starting
    with a dot (so no ``..``, ``.``, hidden files, empty segments, backslashes or NUL)."""
    if not path:
        return "empty path"
    if path.startswith("/"):
        return "absolute path"
    if "\\" in path or "\x00" in path:
        return "backslash or NUL in path"
    for seg in path.split("/"):
        if seg in ("", ".", ".."):
            return "path escapes the package ('..', '.' or empty segment)"
        if not _SAFE_SEGMENT.match(seg):
            return f"unsafe path segment {seg[:40]!r}"
    if len(path) > 512:
        return "path longer than 512 characters"
    return None
