"""Canonical JSON and content digests: the exact bytes that are hashed and signed.

Canonical JSON here is UTF-8, keys sorted, no insignificant whitespace, non-ASCII kept as is,
and no floats (a float's text is not stable across writers, so it is refused).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Any


def _check(obj: Any, where: str = "$") -> None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, int | str):
        return
    if isinstance(obj, float):
        raise TypeError(f"canonical JSON holds no floats ({where})")
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"canonical JSON keys are strings ({where})")
            _check(v, f"{where}.{k}")
        return
    if isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _check(v, f"{where}[{i}]")
        return
    raise TypeError(f"not JSON: {type(obj).__name__} ({where})")


def canonical_json(obj: Any) -> bytes:
    """The canonical bytes of a JSON value (dicts, lists, strings, integers, booleans, null)."""
    _check(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_name(path: str, data: bytes) -> str:
    """A content-addressed name: ``data/x.json`` → ``data/x.<first 12 hex of sha256>.json``."""
    head, tail = posixpath.split(path)
    stem, dot, ext = tail.partition(".")
    name = f"{stem}.{sha256_hex(data)[:12]}" + (f".{ext}" if dot else "")
    return posixpath.join(head, name) if head else name
