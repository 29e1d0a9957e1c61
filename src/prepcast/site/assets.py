"""The site's static assets: ``index.html`` (the entry, served no-cache) and the stylesheet and
script it loads under content-addressed names (cached forever)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

# Static files of the site (in ``prepcast/site/static/``) and the placeholder that names each
# one in ``index.html``.
ASSETS = {"app.js": "{{app.js}}", "site.css": "{{site.css}}"}
DEFAULT_POLL_SECONDS = 60


def _read(name: str) -> bytes:
    return resources.files("prepcast.site").joinpath("static", name).read_bytes()


def hashed_name(name: str, data: bytes) -> str:
    stem, _, ext = name.rpartition(".")
    return f"assets/{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"


@cache
def _asset_files() -> tuple[tuple[str, bytes], ...]:
    files: list[tuple[str, bytes]] = []
    html = _read("index.html").decode()
    for name, placeholder in ASSETS.items():
        data = _read(name)
        path = hashed_name(name, data)
        files.append((path, data))
        html = html.replace(placeholder, path)
    if "{{" in html:
        raise RuntimeError("index.html names an asset that is not in ASSETS")
    files.append(("index.html", html.encode()))
    return tuple(files)


def asset_files() -> dict[str, bytes]:
    """``index.html`` and ``assets/<name>.<hash12>.<ext>``: path -> bytes."""
    return dict(_asset_files())
