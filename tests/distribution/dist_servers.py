"""Real servers for the distribution tests: Debian's OpenSSH sshd on a loopback port, with
chrooted internal-sftp users set up exactly as docs/difusor-setup.md tells a difusor."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port}")


@dataclass
class SftpUser:
    name: str
    password: str
    key_file: Path
    chroot: Path          # root-owned, 0755: the ChrootDirectory
    www: Path             # owned by the user: where packages land (remote "/www")


class Sshd:
    """An sshd of its own: config, host key, authorized keys and chroots in a root-owned temp dir."""

    def __init__(self) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        # every ChrootDirectory component must be root-owned and not group/other-writable,
        # which rules out /tmp; /srv is root's 0755
        self.base = Path(tempfile.mkdtemp(prefix="prepcast-sshd-", dir="/srv"))
        self.base.chmod(0o755)
        self.port = free_port()
        self.host_key_file = self.base / "ssh_host_ed25519_key"
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(str(self.host_key_file))
        self.host_key_file.chmod(0o600)
        self.host_key = key.export_public_key().decode().strip()
        (self.base / "authorized_keys").mkdir(mode=0o755)
        (self.base / "chroots").mkdir(mode=0o755)
        self.users: list[SftpUser] = []
        self.proc: subprocess.Popen[bytes] | None = None

    def add_user(self) -> SftpUser:
        name = f"prepd{secrets.token_hex(4)}"
        subprocess.run(["useradd", "--no-create-home", "--home-dir", "/", "--shell",
                        "/usr/sbin/nologin", name], check=True)
        password = secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), check=True)
        client = asyncssh.generate_private_key("ssh-ed25519")
        key_file = self.base / f"{name}.key"
        client.write_private_key(str(key_file))
        key_file.chmod(0o600)
        auth = self.base / "authorized_keys" / name
        auth.write_bytes(client.export_public_key())
        auth.chmod(0o644)
        chroot = self.base / "chroots" / name
        chroot.mkdir(mode=0o755)
        www = chroot / "www"
        www.mkdir()
        shutil.chown(www, name, name)
        www.chmod(0o755)
        user = SftpUser(name, password, key_file, chroot, www)
        self.users.append(user)
        return user

    def start(self) -> None:
        conf = self.base / "sshd_config"
        conf.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key_file}\n"
            f"PidFile {self.base}/sshd.pid\nUsePAM no\n"
            f"AuthorizedKeysFile {self.base}/authorized_keys/%u\n"
            "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
            "MaxStartups 300:30:600\nMaxSessions 50\nLogLevel ERROR\n"
            "Subsystem sftp internal-sftp\n"
            "Match User prepd*\n"
            f"    ChrootDirectory {self.base}/chroots/%u\n"
            "    ForceCommand internal-sftp\n"
            "    AllowTcpForwarding no\n    X11Forwarding no\n"
        )
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)],
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for user in self.users:
            subprocess.run(["userdel", "--force", user.name], check=False,
                           stderr=subprocess.DEVNULL)
            if os.path.ismount(user.www):
                subprocess.run(["umount", "-l", str(user.www)], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


class DroppingProxy:
    """A loopback TCP proxy that cuts its first connection after ``drop_after`` upstream bytes."""

    def __init__(self, target_port: int, drop_after: int) -> None:
        self.target_port = target_port
        self.drop_after = drop_after
        self.connections = 0
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        self.connections += 1
        limit = self.drop_after if self.connections == 1 else None
        sr, sw = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter, count: bool) -> None:
            seen = 0
            try:
                while data := await r.read(65536):
                    seen += len(data)
                    if count and limit is not None and seen > limit:
                        break
                    w.write(data)
                    await w.drain()
            except OSError:
                pass
            finally:
                for writer in (cw, sw):
                    writer.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pipe(cr, sw, True), pipe(sr, cw, False), return_exceptions=True)


def entry(sshd: Sshd, user: SftpUser, name: str, *, auth: str = "key", **over: object) -> dict[str, object]:
    """A registry entry for `user` on `sshd` (a key by default), with `over` on top."""
    e: dict[str, object] = {"name": name, "host": "127.0.0.1", "port": sshd.port, "user": user.name,
                            "auth": auth, "remote_root": "/www", "mode": "sftp",
                            "host_key": sshd.host_key}
    if auth == "key":
        e["key_file"] = str(user.key_file)
    e.update(over)
    return e


def live(user: SftpUser) -> str:
    """The release a chrooted user's site serves now."""
    return os.readlink(user.www / "current")
