"""The registry of difusores: a TOML file the institute keeps, read once and validated.

::

    secrets = "secrets.toml"        # passwords, mode 0600 (relative to this file)
    known_hosts = "known_hosts"     # optional OpenSSH known_hosts for host keys not pinned below
    concurrency = 16                # difusores served at the same time
    keep_releases = 5               # releases kept at SFTP-only difusores

    [[difusor]]
    name = "el-sol"                 # unique, [a-z0-9-]
    host = "sftp.elsol.mx"
    port = 22
    user = "prep"
    auth = "key"                    # "key" (key_file) or "password" (from the secrets file)
    key_file = "keys/el-sol.pem"    # private key, relative to this file
    remote_root = "/prep"           # the folder the difusor gave us
    mode = "sftp"                   # "sftp" (we build releases/ and current), "daemon" (its inbox)
                                    # or "flat" (cloud gateways: no symlinks, no atomic rename)
    host_key = "ssh-ed25519 AAAA…"  # the server's public host key; unknown keys are refused
    active = true

Every problem is reported at once, with the line of the difusor it belongs to.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepcast.errors import InputError, Problem

MODES = ("sftp", "daemon", "flat")
AUTHS = ("key", "password")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Difusor:
    """One difusor as the pusher sees it."""

    name: str
    host: str
    port: int
    user: str
    auth: str
    remote_root: str
    mode: str
    key_file: Path | None = None
    password: str | None = None
    host_key: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Registry:
    """The validated registry: every difusor plus the pusher's limits."""

    path: Path
    difusores: tuple[Difusor, ...]
    concurrency: int = 16
    keep_releases: int = 5
    known_hosts: Path | None = None

    def active(self) -> list[Difusor]:
        return [d for d in self.difusores if d.active]


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry file; raise :class:`InputError` naming every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError.at(path, f"cannot read registry: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.at(path, f"not valid TOML: {exc}") from None
    problems: list[Problem] = []
    base = path.parent
    lines = _difusor_lines(text)
    passwords = _load_secrets(base, doc.get("secrets"), path, problems)
    known_hosts = None
    if doc.get("known_hosts") is not None:
        known_hosts = base / str(doc["known_hosts"])
        if not known_hosts.is_file():
            problems.append(Problem(str(path), f"known_hosts file not found: {known_hosts}", None, "known_hosts"))
    concurrency = _positive_int(doc.get("concurrency", 16), path, "concurrency", problems)
    keep = _positive_int(doc.get("keep_releases", 5), path, "keep_releases", problems)
    entries = doc.get("difusor", [])
    if not isinstance(entries, list):
        problems.append(Problem(str(path), "use [[difusor]] tables", None, "difusor"))
        entries = []
    difusores: list[Difusor] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else None
        d = _difusor(entry, base, passwords, path, line, problems)
        if d is None:
            continue
        if d.name in seen:
            problems.append(Problem(str(path), f"duplicate difusor name {d.name!r}", line, "name"))
        seen.add(d.name)
        difusores.append(d)
    if problems:
        raise InputError(problems)
    return Registry(path, tuple(difusores), concurrency, keep, known_hosts)


def _difusor(
    entry: dict[str, Any],
    base: Path,
    passwords: dict[str, str],
    path: Path,
    line: int | None,
    problems: list[Problem],
) -> Difusor | None:
    start = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(str(path), message, line, field))

    raw_name = entry.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    if not _NAME.match(name):
        bad("name", "a difusor needs a name of lowercase letters, digits and hyphens")
    host = entry.get("host")
    if not isinstance(host, str) or not host:
        bad("host", "missing host")
    port = entry.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        bad("port", f"port must be 1-65535, not {port!r}")
    user = entry.get("user")
    if not isinstance(user, str) or not user:
        bad("user", "missing user")
    mode = entry.get("mode", "sftp")
    if mode not in MODES:
        bad("mode", f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    auth = entry.get("auth", "key")
    key_file: Path | None = None
    password: str | None = None
    if auth == "key":
        if not entry.get("key_file"):
            bad("key_file", "auth = \"key\" needs key_file")
        else:
            key_file = base / str(entry["key_file"])
            if not key_file.is_file():
                bad("key_file", f"key file not found: {key_file}")
    elif auth == "password":
        password = passwords.get(name)
        if password is None:
            bad("auth", f"no password for {name!r} in the secrets file")
    else:
        bad("auth", f"auth must be one of {', '.join(AUTHS)}, not {auth!r}")
    remote_root = str(entry.get("remote_root", "."))
    host_key = entry.get("host_key")
    if host_key is not None and (not isinstance(host_key, str) or " " not in host_key.strip()):
        bad("host_key", "host_key must be an OpenSSH public key line: 'ssh-ed25519 AAAA…'")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        bad("active", "active must be true or false")
    unknown = set(entry) - {
        "name", "host", "port", "user", "auth", "key_file", "remote_root", "mode", "host_key", "active"
    }
    for field in sorted(unknown):
        bad(field, "unknown setting")
    if len(problems) > start:
        return None
    return Difusor(
        name=name, host=str(host), port=int(port), user=str(user), auth=str(auth),
        remote_root=remote_root, mode=str(mode), key_file=key_file, password=password,
        host_key=host_key, active=bool(active),
    )


def _load_secrets(base: Path, name: object, path: Path, problems: list[Problem]) -> dict[str, str]:
    if name is None:
        return {}
    secrets = base / str(name)
    try:
        st = secrets.stat()
    except OSError:
        problems.append(Problem(str(path), f"secrets file not found: {secrets}", None, "secrets"))
        return {}
    if stat.S_IMODE(st.st_mode) & 0o077:
        problems.append(Problem(
            str(secrets), f"mode is {stat.S_IMODE(st.st_mode):04o}; secrets must be 0600 (chmod 600)"
        ))
        return {}
    try:
        doc = tomllib.loads(secrets.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(Problem(str(secrets), f"cannot read secrets: {exc}"))
        return {}
    table = doc.get("passwords", {})
    if not isinstance(table, dict):
        problems.append(Problem(str(secrets), "expected a [passwords] table", None, "passwords"))
        return {}
    return {str(k): str(v) for k, v in table.items()}


def _positive_int(value: object, path: Path, field: str, problems: list[Problem]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    problems.append(Problem(str(path), f"{field} must be a positive integer", None, field))
    return 1


def _difusor_lines(text: str) -> list[int]:
    """Line numbers (1-based) of each ``[[difusor]]`` header, in order."""
    return [i for i, raw in enumerate(text.splitlines(), 1) if raw.strip() == "[[difusor]]"]
