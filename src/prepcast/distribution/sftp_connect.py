"""Opening an SFTP session with one difusor (asyncssh): its host key pinned, the institute's
key or password, every failure a typed :class:`~prepcast.distribution.transport.PeerError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncssh

from prepcast.distribution._sftp_errors import describe
from prepcast.distribution.registry import Difusor
from prepcast.distribution.transport import (
    AuthenticationFailed,
    HostKeyRefused,
    KeyUnreadable,
    Unreachable,
)

CONNECT_TIMEOUT = 15.0
# AES-GCM runs in hardware; asyncssh's chacha20 costs a Python call per packet
ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr",
                   "chacha20-poly1305@openssh.com")

#: What a server that authenticates us and then closes before SFTP starts usually means.
CLOSED_AFTER_AUTH = (
    "el servidor cerró la conexión justo después de autenticarnos: en una cuenta solo-SFTP suele "
    "ser la carpeta chroot (cada carpeta del camino debe ser de root y no escribible por grupo "
    "ni otros) o el shell/Subsystem de la cuenta; en el difusor, `prepcast difusor check "
    "--root CARPETA` lo revisa y sshd lo dice en su bitácora")


def where(difusor: Difusor) -> str:
    """How errors name a difusor's SFTP account."""
    return f"{difusor.name} ({difusor.user}@{difusor.host}:{difusor.port})"


def unreadable_key(difusor: Difusor) -> str | None:
    """Why ``difusor``'s ``key_file`` cannot be used (a public key, garbage, unreadable), in
    the institute's words; None when it is a private key prepcast can read."""
    if difusor.auth != "key" or difusor.key_file is None:
        return None
    try:
        asyncssh.read_private_key(str(difusor.key_file))
    except (asyncssh.KeyImportError, ValueError, OSError) as exc:
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return (f"no se pudo leer la llave privada del instituto (key_file) {difusor.key_file}"
                f" (original: «{text}»)")
    return None


def host_keys(difusor: Difusor, known_hosts: Path | None) -> Any:
    """The host keys asyncssh accepts for ``difusor``: its pinned ``host_key``, else the
    ``known_hosts`` file; HostKeyRefused when neither says."""
    if difusor.host_key:
        try:
            return ([asyncssh.import_public_key(difusor.host_key)], [], [])
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise HostKeyRefused(f"{where(difusor)}: unreadable host_key: {exc}") from None
    if known_hosts is not None:
        return str(known_hosts)
    raise HostKeyRefused(
        f"{where(difusor)}: unknown host key; pin it with host_key in the registry "
        "(ssh-keyscan) or list it in known_hosts"
    )


def connect_options(difusor: Difusor, known_hosts: Path | None,
                    connect_timeout: float) -> dict[str, Any]:
    """asyncssh's options for ``difusor``: nothing from the user's ssh config or agent."""
    d = difusor
    options: dict[str, Any] = {
        "username": d.user,
        "known_hosts": host_keys(d, known_hosts),
        "connect_timeout": connect_timeout,
        "keepalive_interval": 15,
        "agent_path": None,
        "config": None,
        "encryption_algs": ENCRYPTION_ALGS,
    }
    if d.auth == "key":
        why = unreadable_key(d)
        if why is not None:
            raise KeyUnreadable(f"{where(d)}: {why}")
        options["client_keys"] = [str(d.key_file)]
        options["password"] = None
        options["preferred_auth"] = "publickey"
    else:
        options["client_keys"] = None
        options["password"] = d.password
        options["preferred_auth"] = "password,keyboard-interactive"
        options["kbdint_auth"] = True
    return options


async def open_session(difusor: Difusor, *, known_hosts: Path | None,
                       connect_timeout: float = CONNECT_TIMEOUT,
                       ) -> tuple[asyncssh.SSHClientConnection, asyncssh.SFTPClient]:
    """A new connection to ``difusor`` and its SFTP client."""
    d = difusor
    options = connect_options(d, known_hosts, connect_timeout)
    try:
        conn = await asyncssh.connect(d.host, d.port, **options)
    except asyncssh.HostKeyNotVerifiable as exc:
        raise HostKeyRefused(f"{where(d)}: host key refused: {exc}") from None
    except asyncssh.PermissionDenied:
        raise AuthenticationFailed(
            f"{where(d)}: authentication failed ({'key' if d.auth == 'key' else 'password'})"
        ) from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise Unreachable(f"{where(d)}: cannot connect: {describe(exc)}") from None
    try:
        sftp = await conn.start_sftp_client()
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        conn.close()
        raise Unreachable(f"{where(d)}: cannot connect: {describe(exc)}; {CLOSED_AFTER_AUTH}"
                          ) from None
    return conn, sftp
