"""Canonical JSON and content digests: the exact bytes that are hashed and signed.

Canonical JSON here is UTF-8, keys sorted, no insignificant whitespace, non-ASCII kept as is,
and no floats (a float's text is not stable across writers, so it is refused).
"""

from __future__ import annotations

import hashlib
import json
import os
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
    return content_name_digest(path, data)[0]


def content_name_digest(path: str, data: bytes) -> tuple[str, str]:
    """:func:`content_name` and the whole SHA-256 (hex) it was made from: a package's manifest
    takes the digest as it is instead of hashing the file again."""
    digest = sha256_hex(data)
    head, tail = posixpath.split(path)
    stem, dot, ext = tail.partition(".")
    name = f"{stem}.{digest[:12]}" + (f".{ext}" if dot else "")
    return (posixpath.join(head, name) if head else name), digest


MAX_JSON_DEPTH = 32
"""No signed document of a package nests deeper; anything deeper is refused before it is used."""


class JsonRefused(ValueError):
    """Untrusted JSON that is malformed, ambiguous (a key twice), too deep or too large."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise JsonRefused(f"key {k[:40]!r} appears twice in one object")
        out[k] = v
    return out


def _refuse_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not JSON")


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            if d > limit:
                return False
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return True


def strict_json(data: bytes, *, limit: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse untrusted JSON: UTF-8, at most ``limit`` bytes and ``max_depth`` levels, every key of
    an object once (two verifiers keeping the first or the last would otherwise disagree), no
    ``NaN``/``Infinity``, strings that encode back to UTF-8. Raises :class:`JsonRefused`."""
    if len(data) > limit:
        raise JsonRefused(f"{len(data)} bytes, more than the limit of {limit}")
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused(f"nested more than {max_depth} levels") from None
    except (ValueError, TypeError) as exc:  # includes UnicodeDecodeError and JSONDecodeError
        raise JsonRefused(f"not JSON ({str(exc)[:80]})") from None
    if not _depth_ok(value, max_depth):
        raise JsonRefused(f"nested more than {max_depth} levels")
    if "\\u" in text and "\\ud" in text.lower():  # a lone surrogate cannot be signed or hashed
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise JsonRefused("a string holds a lone surrogate (not UTF-8)") from None
    return value


def read_bounded(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes from an open file; :class:`JsonRefused` when there is more."""
    chunks = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise JsonRefused(f"more than the limit of {limit} bytes")
    return data
