"""A cloud SFTP gateway for tests: an asyncssh SFTP server in front of "object storage".

Like the SFTP front ends of object stores, it refuses symlinks, hard links, rename and
posix-rename (each answers "operation unsupported"), and an upload becomes visible whole, at
its final name, only when the client closes it. It runs in a child process of its own; nginx
serves its folder as the difusor's site.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import asyncssh

from tests.distribution.dist_servers import free_port, wait_port


@dataclass
class _Upload:
    f: IO[bytes]
    tmp: str
    final: bytes


class GatewaySFTPServer(asyncssh.SFTPServer):
    """No symlinks, links or renames; uploads published whole when closed."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: str, staging: str) -> None:
        super().__init__(chan, chroot=root.encode())
        self._staging = staging

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("symlinks are not supported by this gateway")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("hard links are not supported by this gateway")

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("rename is not supported by this gateway")

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("posix-rename is not supported by this gateway")

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if not pflags & asyncssh.FXF_WRITE:
            return super().open(path, pflags, attrs)
        final = self.map_path(path)
        if not os.path.isdir(os.path.dirname(final)):
            raise asyncssh.SFTPNoSuchFile("no such folder")
        fd, tmp = tempfile.mkstemp(dir=self._staging)
        f = os.fdopen(fd, "r+b")
        if not pflags & asyncssh.FXF_TRUNC and os.path.isfile(final):
            with open(final, "rb") as old:
                shutil.copyfileobj(old, f)
        return _Upload(f, tmp, final)

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        if isinstance(file_obj, _Upload):
            file_obj.f.seek(offset)
            return file_obj.f.read(size)
        return super().read(file_obj, offset, size)  # type: ignore[return-value]

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        if isinstance(file_obj, _Upload):
            file_obj.f.seek(offset)
            return file_obj.f.write(data)
        return super().write(file_obj, offset, data)  # type: ignore[return-value]

    def fstat(self, file_obj: object) -> Any:
        if isinstance(file_obj, _Upload):
            return asyncssh.SFTPAttrs.from_local(os.fstat(file_obj.f.fileno()))
        return super().fstat(file_obj)

    def close(self, file_obj: object) -> None:
        if isinstance(file_obj, _Upload):
            file_obj.f.close()
            os.chmod(file_obj.tmp, 0o644)
            os.replace(file_obj.tmp, file_obj.final)   # the object appears whole
            return
        super().close(file_obj)


def _serve(root: str, staging: str, host_key: str, client_public: str,
           conn: multiprocessing.connection.Connection) -> None:
    async def main() -> None:
        acceptor = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[asyncssh.import_private_key(host_key)],
            authorized_client_keys=asyncssh.import_authorized_keys(client_public),
            sftp_factory=lambda chan: GatewaySFTPServer(chan, root, staging),
            allow_scp=False, agent_forwarding=False, x11_forwarding=False)
        conn.send(acceptor.get_port())
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        acceptor.close()

    asyncio.run(main())


class Gateway:
    """The gateway in a child process, and nginx serving its folder on a loopback port."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "bucket"
        self.staging = base / "staging"
        for d in (self.root, self.staging):
            d.mkdir(parents=True)
            d.chmod(0o755)
        host = asyncssh.generate_private_key("ssh-ed25519")
        client = asyncssh.generate_private_key("ssh-ed25519")
        self.key_file = base / "client_key"
        client.write_private_key(str(self.key_file))
        self.key_file.chmod(0o600)
        self.host_key = host.export_public_key().decode().strip()
        self._host_private = host.export_private_key().decode()
        self._client_public = client.export_public_key().decode()
        self.port = 0
        self.http_port = free_port()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._pipe: multiprocessing.connection.Connection | None = None
        self._nginx: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._pipe, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(str(self.root), str(self.staging),
                                                      self._host_private, self._client_public, child))
        self._proc.start()
        self.port = int(self._pipe.recv())
        conf = self.base / "nginx.conf"
        conf.write_text(
            "daemon off; worker_processes 1; user www-data;\n"
            f"pid {self.base}/nginx.pid; error_log {self.base}/error.log;\n"
            "events { worker_connections 256; }\n"
            "http {\n access_log off;\n"
            f" client_body_temp_path {self.base}/tmp;\n"
            f" server {{ listen 127.0.0.1:{self.http_port}; root {self.root};\n"
            "  location = /json/main.json {\n"
            '   add_header Cache-Control "no-cache, no-store, must-revalidate" always; }\n'
            " }\n}\n")
        self._nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(conf), "-p", str(self.base)],
                                       stderr=subprocess.DEVNULL)
        wait_port(self.http_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        if self._nginx is not None and self._nginx.poll() is None:
            self._nginx.send_signal(signal.SIGQUIT)
            try:
                self._nginx.wait(15)
            except subprocess.TimeoutExpired:
                self._nginx.kill()
                self._nginx.wait()
        if self._pipe is not None and self._proc is not None:
            self._pipe.send("stop")
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join()
