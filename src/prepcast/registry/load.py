"""Read and check a registry file as a whole: every problem at once, with file, line and setting.

The format is in ``docs/registry.md``; :func:`load_registry` is what the pusher, the night
runner, the public list and the checks call (the runner calls it before every push, so a block
takes effect at the next push).
"""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import re
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prepcast.errors import InputError, Problem
from prepcast.files import read_text
from prepcast.registry._lines import Lines, locate
from prepcast.registry.history import read_history
from prepcast.registry.model import (
    AUTHS,
    MODES,
    CheckSettings,
    Difusor,
    Persona,
    Registry,
    Servidor,
)
from prepcast.registry.secrets import read_passwords

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()\-. ]{7,25}$")
TOP = ("secrets", "known_hosts", "concurrency", "keep_releases", "history", "url_host_pattern",
       "logo_max_bytes", "checks", "difusor")
PUSHER = ("name", "host", "port", "user", "auth", "key_file", "remote_root", "mode", "host_key",
          "active")
FORM_TEXT = ("nombre", "url", "url_prueba", "http_url", "entidad", "razon_social", "ip_registro")
FORM_FILES = ("logo", "diagrama", "carta")
FORM_TABLES = ("representante", "contacto", "servidor", "personal")
DIFUSOR_KEYS = PUSHER + FORM_TEXT + FORM_FILES + FORM_TABLES
PERSONA_KEYS = tuple(f.name for f in fields(Persona))
SERVIDOR_KEYS = tuple(f.name for f in fields(Servidor))
CHECK_KEYS = tuple(f.name for f in fields(CheckSettings))
DEFAULT_HISTORY = "historial.jsonl"


class _Checker:
    """Collects the problems of one file, each with its line and setting."""

    def __init__(self, path: Path, lines: Lines) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def top(self, key: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), message, self.lines.top_line(key), key))

    def table(self, table: str, key: str, message: str) -> None:
        line = self.lines.table_keys.get(table, {}).get(key, self.lines.tables.get(table))
        self.problems.append(Problem(str(self.path), message, line, f"{table}.{key}"))

    def at(self, index: int, key: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), message, self.lines.of(index, key), key))


def load_registry(path: str | Path) -> Registry:
    """Read and check a registry; raise :class:`InputError` naming every problem."""
    path = Path(path)
    if path.is_dir():
        raise InputError.at(path, "a folder, not a registry file (give the registry's TOML "
                                  "file, e.g. difusores.toml; docs/registry.md)")
    return parse_registry(read_text(path, what="registry", not_text="not UTF-8 text"), path)


def parse_registry(text: str, path: Path, *, pending: Mapping[str, str] | None = None
                   ) -> Registry:
    """Check registry ``text`` as if it were the file ``path`` (relative paths from its folder);
    ``pending``: passwords about to be written to the secrets file (which may not exist yet)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.at(path, f"not valid TOML: {exc}") from None
    near = [k for k in doc if difflib.get_close_matches(k, TOP, n=1)]   # misspelt settings
    if doc and "difusor" not in doc and not set(doc) & set(TOP) and 2 * len(near) < len(doc):
        found = ", ".join(sorted(doc)[:6]) + (", …" if len(doc) > 6 else "")
        raise InputError.at(path, f"this is not a registry of difusores (no [[difusor]] entries "
                                  f"and none of a registry's settings; it has {found}): give "
                                  "the registry file, e.g. difusores.toml (docs/registry.md)")
    c = _Checker(path, locate(text))
    base = path.parent
    for key in sorted(set(doc) - set(TOP)):
        c.top(key, "unknown setting" + _hint(key, TOP))
    secrets = base / str(doc["secrets"]) if doc.get("secrets") is not None else None
    before = len(c.problems)
    passwords: dict[str, str] | None = (
        read_passwords(secrets, c.problems, str(path))
        if secrets and (secrets.exists() or not pending) else {})
    if len(c.problems) > before:
        passwords = None    # the secrets file is refused: no false "no password" per difusor
    elif passwords is not None:
        passwords.update(pending or {})
    known_hosts = None
    if doc.get("known_hosts") is not None:
        known_hosts = base / str(doc["known_hosts"])
        if not known_hosts.is_file():
            c.top("known_hosts", f"known_hosts file not found: {known_hosts}")
    concurrency = _positive_int(doc.get("concurrency", 16), c, "concurrency")
    keep = _positive_int(doc.get("keep_releases", 5), c, "keep_releases")
    logo_max = _positive_int(doc.get("logo_max_bytes", 256 * 1024), c, "logo_max_bytes")
    history = base / str(doc.get("history", DEFAULT_HISTORY))
    pattern = doc.get("url_host_pattern")
    if pattern is not None and (not isinstance(pattern, str) or not pattern):
        c.top("url_host_pattern", "url_host_pattern must be a host pattern like 'prep2024.*'")
        pattern = None
    checks = _checks(doc.get("checks", {}), base, c)
    entries = doc.get("difusor", [])
    if not isinstance(entries, list):
        c.top("difusor", "use [[difusor]] tables")
        entries = []
    try:
        hist = read_history(history)
    except InputError as exc:
        c.problems.extend(exc.problems)
        hist = read_history(None)
    difusores: list[Difusor] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:  # even when the entry has other problems
            if name in seen:
                c.at(i, "name", f"duplicate difusor name {name!r}")
            seen.add(name)
        d = _difusor(entry, i, base, passwords, pattern, c)
        if d is not None:
            difusores.append(_with_status(d, hist.status_of(d.name)))
    if c.problems:
        # this file's problems in line order (stable: same line keeps its order), others after
        raise InputError(sorted(c.problems, key=lambda p: (p.source != str(path), p.line or 0)))
    return Registry(path, tuple(difusores), concurrency, keep, known_hosts, secrets, history,
                    pattern, logo_max, checks)


def _with_status(d: Difusor, status: str) -> Difusor:
    return replace(d, status=status)


def _difusor(entry: Any, i: int, base: Path, passwords: dict[str, str] | None, pattern: str | None,
             c: _Checker) -> Difusor | None:
    start = len(c.problems)
    if not isinstance(entry, dict):
        c.at(i, "difusor", "each [[difusor]] must be a table")
        return None

    def bad(key: str, message: str) -> None:
        c.at(i, key, message)

    for key in sorted(set(entry) - set(DIFUSOR_KEYS)):
        bad(key, "unknown setting" + _hint(key, DIFUSOR_KEYS))
    raw_name = entry.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    if not NAME.match(name):
        bad("name", "a difusor needs a name of lowercase letters, digits and hyphens")
    host = entry.get("host")
    if not isinstance(host, str) or not host:
        bad("host", "missing host (the SFTP server's name or IP address)")
    port = entry.get("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
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
            bad("key_file", 'auth = "key" needs key_file')
        else:
            key_file = base / str(entry["key_file"])
            if not key_file.is_file():
                bad("key_file", f"key file not found: {key_file}")
    elif auth == "password":
        password = passwords.get(name) if passwords is not None else None
        if password is None and passwords is not None:
            bad("auth", f"no password for {name!r} in the secrets file")
    else:
        bad("auth", f"auth must be one of {', '.join(AUTHS)}, not {auth!r}")
    host_key = entry.get("host_key")
    if host_key is not None and (not isinstance(host_key, str) or " " not in host_key.strip()):
        bad("host_key", "host_key must be an OpenSSH public key line: 'ssh-ed25519 AAAA…'")
    active = entry.get("active", True)
    if not isinstance(active, bool):
        bad("active", "active must be true or false")
    text = {k: entry.get(k, "") for k in FORM_TEXT}
    for k, v in text.items():
        if not isinstance(v, str):
            bad(k, f"{k} must be text")
            text[k] = ""
    for k in ("url", "url_prueba", "http_url"):
        if text[k]:
            _check_url(text[k], k, pattern if k == "url" else None, bad)
    if text["ip_registro"]:
        try:
            ipaddress.ip_address(text["ip_registro"])
        except ValueError:
            bad("ip_registro", f"not an IP address: {text['ip_registro']!r}")
    files: dict[str, Path | None] = {}
    for k in FORM_FILES:
        files[k] = None
        if entry.get(k):
            f = base / str(entry[k])
            files[k] = f
            if not f.is_file():
                bad(k, f"file not found: {f}")
    if files["logo"] is not None and files["logo"].suffix.lower() != ".svg":
        bad("logo", "the logo must be an SVG file (ask the difusor for its logo in SVG; "
                    ".ai, PNG or PDF are not published)")
    representante = _persona(entry.get("representante", {}), "representante", bad)
    contacto = _persona(entry.get("contacto", {}), "contacto", bad)
    servidor = _servidor(entry.get("servidor", {}), bad)
    personal_raw = entry.get("personal", [])
    personal: list[Persona] = []
    if not isinstance(personal_raw, list):
        bad("personal", "use [[difusor.personal]] tables (nombre, rol, telefono, email)")
    else:
        for j, p in enumerate(personal_raw):
            persona = _persona(p, f"personal[{j}]", bad, key="personal")
            if not persona.nombre:
                bad("personal", f"personal[{j}] needs a nombre")
            personal.append(persona)
    if len(c.problems) > start:
        return None
    return Difusor(
        name=name, host=str(host), port=int(port), user=str(user), auth=str(auth),
        remote_root=str(entry.get("remote_root", ".")), mode=str(mode), key_file=key_file,
        password=password, host_key=host_key, active=bool(active), line=c.lines.of(i),
        representante=representante, contacto=contacto, servidor=servidor,
        personal=tuple(personal), logo=files["logo"], diagrama=files["diagrama"],
        carta=files["carta"], **text,
    )


def _check_url(url: str, key: str, pattern: str | None, bad: Any) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        bad(key, f"{key} must be a full address with http:// or https://, not {url!r}")
        return
    if pattern and not fnmatch.fnmatch(parts.hostname.lower(), pattern.lower()):
        bad(key, f"the institute requires the server to be named {pattern!r} "
                 f"(e.g. {pattern.replace('*', 'medio.mx')}); {parts.hostname!r} is not")


def _persona(raw: Any, where: str, bad: Any, key: str | None = None) -> Persona:
    key = key or where
    if not isinstance(raw, dict):
        bad(key, f"{where} must be a table ({', '.join(PERSONA_KEYS)})")
        return Persona()
    for k in sorted(set(raw) - set(PERSONA_KEYS)):
        bad(f"{key}.{k}" if key == where else key, f"{where}: unknown setting {k!r}"
            + _hint(k, PERSONA_KEYS))
    values = {k: raw.get(k, "") for k in PERSONA_KEYS}
    for k, v in values.items():
        if not isinstance(v, str):
            bad(f"{key}.{k}" if key == where else key, f"{where}.{k} must be text")
            values[k] = ""
    if values["email"] and not _EMAIL.match(values["email"]):
        bad(f"{key}.email" if key == where else key, f"{where}.email is not an email address: "
            f"{values['email']!r}")
    for k in ("telefono", "telefono_trabajo"):
        if values[k] and not _PHONE.match(values[k]):
            bad(f"{key}.{k}" if key == where else key, f"{where}.{k} is not a phone number: "
                f"{values[k]!r}")
    return Persona(**values)


def _servidor(raw: Any, bad: Any) -> Servidor:
    if not isinstance(raw, dict):
        bad("servidor", f"servidor must be a table ({', '.join(SERVIDOR_KEYS)})")
        return Servidor()
    for k in sorted(set(raw) - set(SERVIDOR_KEYS)):
        bad(f"servidor.{k}", "unknown setting" + _hint(k, SERVIDOR_KEYS))
    return Servidor(**{k: str(raw.get(k, "")) for k in SERVIDOR_KEYS})


def _checks(raw: Any, base: Path, c: _Checker) -> CheckSettings:
    if not isinstance(raw, dict):
        c.top("checks", "checks must be a table")
        return CheckSettings()
    for k in sorted(set(raw) - set(CHECK_KEYS)):
        c.table("checks", k, "unknown setting" + _hint(k, CHECK_KEYS))
    defaults = CheckSettings()
    values: dict[str, Any] = {}
    for k in CHECK_KEYS:
        if k not in raw:
            continue
        v = raw[k]
        want = getattr(defaults, k)
        if k == "ca_file":
            f = base / str(v)
            if not f.is_file():
                c.table("checks", k, f"CA file not found: {f}")
            elif (why := _ca_problem(f)) is not None:
                c.table("checks", k, f"{f}: {why}")
            values[k] = f
        elif isinstance(want, str):
            values[k] = str(v)
        elif (not isinstance(v, int | float) or isinstance(v, bool) or v <= 0
              or (isinstance(want, int) and not isinstance(v, int))):
            c.table("checks", k, f"{k} must be a positive {'integer' if isinstance(want, int) else 'number'}")
        else:
            values[k] = v
    return CheckSettings(**values)


def _ca_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as the CA file of the checks and the monitor (None: it can)."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except ssl.SSLError:
        return "not a CA certificate in PEM (-----BEGIN CERTIFICATE-----)"
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    return None


def _positive_int(value: object, c: _Checker, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    c.top(key, f"{key} must be a positive integer")
    return 1


def _hint(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
