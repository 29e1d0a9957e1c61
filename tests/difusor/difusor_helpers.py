"""Helpers for the difusor tests: daemons with their own SFTP inbox, fake NTP, packages."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import asyncssh

from prepcast.difusor.clock import sntp_reply
from tests.distribution.dist_packages import make_keys, make_package, registry_toml
from tests.distribution.dist_servers import free_port, wait_port

__all__ = ["FakeNtp", "daemon_config", "free_port", "make_keys", "make_package", "registry_toml",
           "wait_port"]


def daemon_config(tmp: Path, keydir: Path, *, name: str = "difusor", sftp: bool = True,
                  extra: str = "") -> tuple[Path, str, Path]:
    """Write a daemon config under ``tmp``; return (config path, its SSH host key line, client key)."""
    tmp.mkdir(parents=True, exist_ok=True)
    host = asyncssh.generate_private_key("ssh-ed25519")
    host.write_private_key(str(tmp / "host_key"))
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(str(tmp / "client_key"))
    (tmp / "authorized_keys").write_bytes(client.export_public_key())
    text = (f'name = "{name}"\nroot = "www"\ninbox = "inbox"\n'
            f'trusted_root = "{keydir / "root.pub"}"\nkeep_releases = 3\n'
            'event_log = "events.jsonl"\nsyslog = false\npoll_interval = 0.05\n' + extra)
    if sftp:
        text += ('\n[sftp]\nlisten = "127.0.0.1"\nport = 0\nhost_key = "host_key"\n'
                 'authorized_keys = "authorized_keys"\n')
    (tmp / "daemon.toml").write_text(text)
    return tmp / "daemon.toml", host.export_public_key().decode().strip(), tmp / "client_key"


class FakeNtp:
    """An SNTP server on loopback UDP whose clock is ``offset`` seconds from ours."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except (TimeoutError, OSError):
                continue
            self.sock.sendto(sntp_reply(data, self.offset), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


async def wait_for(pred: object, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
