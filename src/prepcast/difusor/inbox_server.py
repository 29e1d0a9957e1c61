"""The daemon's own SFTP inbox (asyncssh): key-only, SFTP only, chrooted to the inbox.

Optional (``sftp_listen`` in the configuration): a difusor may instead let the institute in
through its system's OpenSSH (``docs/difusor-setup.md``).
"""

from __future__ import annotations

import asyncssh

from prepcast.difusor.config import DaemonConfig


class InboxSSHServer(asyncssh.SSHServer):
    """Key-only: no passwords, no keyboard-interactive; SFTP only (no shell, no forwarding)."""

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False


async def listen_inbox(config: DaemonConfig) -> asyncssh.SSHAcceptor | None:
    """Listen for the institute's pusher as configured; None when no ``sftp_listen``."""
    if config.sftp_listen is None:
        return None
    inbox = str(config.inbox.resolve())
    return await asyncssh.listen(
        config.sftp_listen, config.sftp_port,
        server_host_keys=[str(config.sftp_host_key)],
        authorized_client_keys=str(config.sftp_authorized_keys),
        server_factory=InboxSSHServer,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=inbox.encode()),
        allow_scp=False, agent_forwarding=False, x11_forwarding=False,
        keepalive_interval=30,
    )
