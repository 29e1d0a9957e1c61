"""The site's static assets: ``index.html`` (the entry, served no-cache) and the stylesheet and
script it loads under content-addressed names (cached forever).

The script carries the institute's root public key (``{{llave_raiz}}`` in ``app.js``): the
reader's browser checks the keyring, ``json/main.json`` and every data file against it."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

# Static files of the site (in ``prepcast/site/static/``) and the placeholder that names each
# one in ``index.html``.
ASSETS = {"app.js": "{{app.js}}", "site.css": "{{site.css}}"}
ROOT_KEY_PLACEHOLDER = "{{llave_raiz}}"
DEFAULT_POLL_SECONDS = 60


def _read(name: str) -> bytes:
    return resources.files("prepcast.site").joinpath("static", name).read_bytes()


def hashed_name(name: str, data: bytes) -> str:
    stem, _, ext = name.rpartition(".")
    return f"assets/{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"


@cache
def _asset_files(root_key: bytes) -> tuple[tuple[str, bytes], ...]:
    if root_key and len(root_key) != 32:
        raise ValueError("the root public key must be its raw 32 bytes")
    files: list[tuple[str, bytes]] = []
    html = _read("index.html").decode()
    for name, placeholder in ASSETS.items():
        data = _read(name)
        if name == "app.js":
            key = base64.b64encode(root_key).decode("ascii")
            data = data.replace(ROOT_KEY_PLACEHOLDER.encode(), key.encode())
        path = hashed_name(name, data)
        files.append((path, data))
        html = html.replace(placeholder, path)
    if "{{" in html:
        raise RuntimeError("index.html names an asset that is not in ASSETS")
    files.append(("index.html", html.encode()))
    return tuple(files)


def asset_files(root_key: bytes | None = None) -> dict[str, bytes]:
    """``index.html`` and ``assets/<name>.<hash12>.<ext>``: path -> bytes. ``root_key``: the
    institute's raw 32-byte Ed25519 root public key, which the script checks signatures with
    (without it the page says that it cannot check them)."""
    return dict(_asset_files(root_key or b""))
