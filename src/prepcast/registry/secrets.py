"""The secrets file: the passwords difusores registered, mode 0600, never printed or logged.

::

    # secrets.toml — chmod 600
    [passwords]
    radio-uni = "the password the difusor registered"

A secrets file readable by group or others is refused as a whole. Writing (``add``, ``import``,
``edit --password``) goes through a temporary file created 0600, then ``os.replace``.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import tomlkit

from prepcast.errors import InputError, Problem
from prepcast.files import read_text, write_atomic


def read_passwords(secrets: Path, problems: list[Problem], source: str = "") -> dict[str, str]:
    """The ``[passwords]`` table; problems (missing, mode, syntax) go to ``problems``."""
    try:
        st = secrets.stat()
    except OSError:
        problems.append(Problem(source or str(secrets), f"secrets file not found: {secrets}",
                                None, "secrets"))
        return {}
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        problems.append(Problem(str(secrets), f"mode is {mode:04o}; secrets must be 0600 (chmod 600)"))
        return {}
    try:
        doc = tomllib.loads(read_text(secrets, what="secrets"))
    except InputError as exc:
        problems.extend(exc.problems)
        return {}
    except tomllib.TOMLDecodeError as exc:
        # the message of tomllib names a line and column, never the values
        problems.append(Problem(str(secrets), f"not valid TOML: {exc}"))
        return {}
    table = doc.get("passwords", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        problems.append(Problem(str(secrets), "expected a [passwords] table of strings", None,
                                "passwords"))
        return {}
    unknown = sorted(set(doc) - {"passwords"})
    for key in unknown:
        problems.append(Problem(str(secrets), "unknown setting", None, key))
    return {str(k): str(v) for k, v in table.items()}


def write_password(secrets: Path, name: str, password: str | None) -> None:
    """Set (or with ``None`` remove) ``name``'s password; the file stays 0600 throughout."""
    doc = tomlkit.document()
    if secrets.exists():
        problems: list[Problem] = []
        read_passwords(secrets, problems)
        if problems:
            raise InputError(problems)
        doc = tomlkit.parse(secrets.read_text(encoding="utf-8"))
    table = doc.get("passwords")
    if table is None:
        table = tomlkit.table()
        doc["passwords"] = table
    if password is None:
        table.pop(name, None)
    else:
        table[name] = password
    write_private(secrets, tomlkit.dumps(doc))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a 0600 file, through a temporary name in the same folder."""
    write_atomic(path, text.encode("utf-8"), mode=0o600)
