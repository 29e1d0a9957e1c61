"""Dashboard users: scrypt password hashes in a small file, one ``user:hash`` a line."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from prepcast.errors import InputError
from prepcast.files import read_text

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(bytes.fromhex(digest)))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def read_users(path: Path) -> dict[str, str]:
    text = read_text(path, what="the users file")
    users: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not name or not stored.startswith("scrypt$"):
            raise InputError.at(path, "expected user:scrypt$… (made by `prepcast monitor "
                                "password`)", i)
        users[name] = stored
    if not users:
        raise InputError.at(path, "no users (add one with `prepcast monitor password`)")
    return users


def set_password(path: Path, user: str, password: str) -> None:
    """Add or replace ``user`` in the users file (written whole, then renamed)."""
    if not user or ":" in user or not user.isprintable():
        raise InputError(f"user name {user!r}: no colon, not empty")
    if len(password) < 10:
        raise InputError("the password needs at least 10 characters")
    lines = []
    if path.exists():
        lines = [x for x in path.read_text(encoding="utf-8").splitlines()
                 if x.partition(":")[0] != user]
    lines.append(f"{user}:{hash_password(password)}")
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
