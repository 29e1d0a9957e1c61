"""The difusor daemon's configuration: one TOML file, validated once.

::

    name = "el-sol"                          # how events name this difusor
    root = "/srv/prep/www"                   # releases/ and current (the web server serves current)
    inbox = "/srv/prep/inbox"                # where the institute's archives arrive
    trusted_root = "/etc/prepcast/root.pub"  # the institute's root public key, given once
    proceso = "IEEM-2024"                    # optional: the only proceso accepted
    keep_releases = 5
    event_log = "/var/log/prepcast/events.jsonl"
    syslog = true
    poll_interval = 0.5                      # seconds between looks at the inbox

    [sftp]                                   # optional: the daemon's own SFTP server (key-only)
    listen = "0.0.0.0"
    port = 2222
    host_key = "/etc/prepcast/ssh_host_ed25519_key"
    authorized_keys = "/etc/prepcast/authorized_keys"

    [clock]                                  # optional: refuse to activate on a wrong clock
    ntp_server = "pool.ntp.org"
    ntp_port = 123
    max_offset = 1.0                         # seconds

    [purge]                                  # optional: after each activation
    command = ["/usr/local/bin/purge-cdn", "{cut}"]
    webhook = "https://cdn.example/purge"    # POST {"cut": N, "paths": [...]}
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepcast.errors import InputError, Problem
from prepcast.files import read_text

TABLE_KEYS = {
    "sftp": frozenset({"listen", "port", "host_key", "authorized_keys"}),
    "clock": frozenset({"ntp_server", "ntp_port", "max_offset"}),
    "purge": frozenset({"command", "webhook"}),
}


@dataclass(frozen=True)
class DaemonConfig:
    root: Path
    inbox: Path
    trusted_root: Path
    name: str = "difusor"
    proceso: str | None = None
    keep_releases: int = 5
    event_log: Path | None = None
    syslog: bool = True
    poll_interval: float = 0.5
    sftp_listen: str | None = None
    sftp_port: int = 2222
    sftp_host_key: Path | None = None
    sftp_authorized_keys: Path | None = None
    ntp_server: str | None = None
    ntp_port: int = 123
    max_clock_offset: float = 1.0
    purge_command: tuple[str, ...] = ()
    purge_webhook: str | None = None


def load_config(path: str | Path) -> DaemonConfig:
    path = Path(path)
    text = read_text(path, not_text="not a text file (TOML in UTF-8)")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.at(path, f"not valid TOML: {exc}") from None
    return parse_config(doc, path)


def parse_config(doc: dict[str, Any], path: Path) -> DaemonConfig:
    problems: list[Problem] = []
    base = path.parent

    def bad(field: str, message: str) -> None:
        problems.append(Problem(str(path), message, None, field))

    def a_path(table: dict[str, Any], key: str, field: str, *, required: bool = False,
               must_exist: bool = False) -> Path | None:
        value = table.get(key)
        if value is None:
            if required:
                bad(field, "required")
            return None
        if not isinstance(value, str) or not value:
            bad(field, "must be a path")
            return None
        p = base / value
        if must_exist:  # not Path.exists(): it raises where this user cannot look
            try:
                os.stat(p)
            except (FileNotFoundError, NotADirectoryError):
                bad(field, f"not found: {p}")
            except PermissionError:
                pass  # the daemon's start check names the file and the user
        return p

    root = a_path(doc, "root", "root", required=True)
    inbox = a_path(doc, "inbox", "inbox", required=True)
    trusted = a_path(doc, "trusted_root", "trusted_root", required=True, must_exist=True)
    event_log = a_path(doc, "event_log", "event_log")
    keep = doc.get("keep_releases", 5)
    if not isinstance(keep, int) or keep < 2:
        bad("keep_releases", "must be an integer of at least 2 (the live release and one before)")
    poll = doc.get("poll_interval", 0.5)
    if not isinstance(poll, int | float) or not 0.01 <= poll <= 60:
        bad("poll_interval", "must be between 0.01 and 60 seconds")
    sftp = doc.get("sftp", {})
    clock = doc.get("clock", {})
    purge = doc.get("purge", {})
    for name, table in (("sftp", sftp), ("clock", clock), ("purge", purge)):
        if not isinstance(table, dict):
            bad(name, "must be a table")
        else:  # a typo (`prot = 2223`) must not fall back silently to a default
            for key in sorted(set(table) - TABLE_KEYS[name]):
                bad(f"{name}.{key}", f"unknown setting (known: {', '.join(sorted(TABLE_KEYS[name]))})")
    if not all(isinstance(t, dict) for t in (sftp, clock, purge)):
        raise InputError(problems)
    host_key = keys = None
    if sftp:
        host_key = a_path(sftp, "host_key", "sftp.host_key", required=True, must_exist=True)
        keys = a_path(sftp, "authorized_keys", "sftp.authorized_keys", required=True, must_exist=True)
        port = sftp.get("port", 2222)
        if not isinstance(port, int) or not 0 <= port < 65536:
            bad("sftp.port", "must be 0-65535")
    ntp_port = clock.get("ntp_port", 123)
    if not isinstance(ntp_port, int) or not 0 < ntp_port < 65536:
        bad("clock.ntp_port", "must be 1-65535")
    for tname, table, key in (("clock", clock, "ntp_server"), ("sftp", sftp, "listen"),
                              ("purge", purge, "webhook")):
        if key in table and not (isinstance(table[key], str) and table[key]):
            bad(f"{tname}.{key}", "must be a non-empty string")
    command = purge.get("command", [])
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        bad("purge.command", "must be a list of strings")
        command = []
    max_offset = clock.get("max_offset", 1.0)
    if not isinstance(max_offset, int | float) or max_offset <= 0:
        bad("clock.max_offset", "must be a positive number of seconds")
    proceso = doc.get("proceso")
    if proceso is not None and (not isinstance(proceso, str) or not proceso):
        bad("proceso", "must be the proceso's name, as its packages give it")
    known = {"name", "proceso", "root", "inbox", "trusted_root", "keep_releases", "event_log", "syslog",
             "poll_interval", "sftp", "clock", "purge"}
    for key in sorted(set(doc) - known):
        bad(key, "unknown setting")
    if problems:
        raise InputError(problems)
    assert root is not None and inbox is not None and trusted is not None
    return DaemonConfig(
        root=root, inbox=inbox, trusted_root=trusted, name=str(doc.get("name", "difusor")),
        proceso=proceso,
        keep_releases=int(keep), event_log=event_log, syslog=bool(doc.get("syslog", True)),
        poll_interval=float(poll),
        sftp_listen=str(sftp.get("listen", "0.0.0.0")) if sftp else None,
        sftp_port=int(sftp.get("port", 2222)) if sftp else 2222,
        sftp_host_key=host_key, sftp_authorized_keys=keys,
        ntp_server=str(clock["ntp_server"]) if clock.get("ntp_server") else None,
        ntp_port=int(clock.get("ntp_port", 123)), max_clock_offset=float(max_offset),
        purge_command=tuple(command), purge_webhook=purge.get("webhook") or None,
    )
