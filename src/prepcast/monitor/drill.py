"""Misbehaving on purpose, for drills: the hook the simulacro calls after its last cut to make
one of its local difusores misbehave in turn, and to put it right again.

``misbehave(kind, root, site)`` changes what a difusor serves from its folder ``root``
(``releases/`` and ``current``) and returns the function that undoes it:

- ``stale``: ``current`` back to the previous release (a stale cut);
- ``script``: a foreign ``<script>`` injected in ``index.html``;
- ``number``: one digit changed in a data file;
- ``header``: a wrong ``Cache-Control`` on ``json/main.json`` (needs ``site``);
- ``down``: the site stopped (needs ``site``).

Files are replaced by rename, never edited in place, so releases hard-linked to the institute's
or to other difusores' stay untouched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

KINDS = ("stale", "script", "number", "header", "down")
INJECTED = b"<script src='https://anuncios.example/pixel.js'></script>"
WRONG_CACHE_CONTROL = "public, max-age=600"


class SiteControl(Protocol):
    """What the drill needs of a difusor's web server for ``header`` and ``down``."""

    def stop(self) -> None: ...
    def start(self) -> None: ...
    def set_cache_control(self, value: str | None) -> None: ...


def _swap(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.drill")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _point(root: Path, target: str) -> None:
    tmp = root / ".current.drill"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, root / "current")


def misbehave(kind: str, root: Path, site: SiteControl | None = None) -> Callable[[], None]:
    """Make the difusor at ``root`` misbehave as ``kind``; the function that undoes it."""
    if kind not in KINDS:
        raise ValueError(f"unknown misbehaviour {kind!r} (one of {', '.join(KINDS)})")
    live = root / "current"
    target = os.readlink(live)
    if kind == "stale":
        releases = sorted(p.name for p in (root / "releases").iterdir()
                          if not p.name.startswith(".") and p.name < Path(target).name)
        if not releases:
            raise ValueError(f"{root}: no earlier release to go back to")
        _point(root, f"releases/{releases[-1]}")
        return lambda: _point(root, target)
    if kind in ("script", "number"):
        path = live.resolve() / "index.html"
        if kind == "number":
            path = sorted((live.resolve() / "data").rglob("*.json"))[0]
        original = path.read_bytes()
        if kind == "script":
            changed = original.replace(b"</head>", INJECTED + b"</head>", 1)
            if changed == original:
                changed = original.replace(b"</title>", b"</title>" + INJECTED, 1)
        else:
            m = re.search(rb"[0-9]", original)
            if m is None:
                raise ValueError(f"{path}: no number to change")
            digit = b"1" if m.group() != b"1" else b"2"
            changed = original[:m.start()] + digit + original[m.end():]
        _swap(path, changed)
        return lambda: _swap(path, original)
    if site is None:
        raise ValueError(f"{kind!r} needs control of the difusor's web server")
    if kind == "header":
        site.set_cache_control(WRONG_CACHE_CONTROL)
        return lambda: site.set_cache_control(None)
    site.stop()
    return site.start
