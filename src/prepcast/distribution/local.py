"""Local difusores on this machine, for the simulacro and the benchmarks.

``LocalNetwork`` starts, in one process, SFTP-only difusores (each an embedded asyncssh SFTP
server, key-only, chrooted to its folder, where the pusher builds ``releases/`` and ``current``)
and daemon difusores (each a :class:`~prepcast.difusor.daemon.Daemon` with its own SFTP inbox),
plus the embedded web server of the first difusor. Its methods are synchronous; everything runs
on an event loop in a background thread::

    net = LocalNetwork(workdir, trusted_root=keys / "root.pub", sftp_only=3, daemons=2)
    net.start()
    net.push(package_dir)          # stage + activate everywhere; waits for the daemons
    net.live_cuts()                # {"local-sftp-01": 7, "local-daemon-01": 7, ...}
    net.access_log                 # the embedded server's access log (combined + request time)
    net.stop()
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import asyncssh

from prepcast.difusor.activate import ReleaseStore
from prepcast.difusor.config import DaemonConfig
from prepcast.difusor.daemon import Daemon
from prepcast.difusor.serve import EmbeddedServer
from prepcast.distribution.contents import read_package
from prepcast.distribution.push import Pusher, PushReport
from prepcast.distribution.registry import Difusor, Registry
from prepcast.distribution.state import DeliveryState
from prepcast.errors import TransportError

T = TypeVar("T")


class _KeyOnly(asyncssh.SSHServer):
    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False


class _SftpServer(asyncssh.SFTPServer):
    """asyncssh's SFTP server naming each file's owner and group once per id, not once per
    entry of every directory listing (each a read of the password or group database)."""

    _names: ClassVar[dict[tuple[str, int | None], str]] = {}

    def format_user(self, uid: int | None) -> str:
        key = ("user", uid)
        if key not in self._names:
            self._names[key] = super().format_user(uid)
        return self._names[key]

    def format_group(self, gid: int | None) -> str:
        key = ("group", gid)
        if key not in self._names:
            self._names[key] = super().format_group(gid)
        return self._names[key]


async def start_sftp_difusor(root: Path, host_key: asyncssh.SSHKey, client_public: str,
                             port: int = 0) -> asyncssh.SSHAcceptor:
    """An embedded SFTP-only difusor: key-only, confined to ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    chroot = str(root.resolve()).encode()
    return await asyncssh.listen(
        "127.0.0.1", port, server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(client_public),
        server_factory=_KeyOnly, sftp_factory=lambda chan: _SftpServer(chan, chroot=chroot),
        allow_scp=False, agent_forwarding=False, x11_forwarding=False)


class ReplayClock:
    """The local daemons' clock: a night replayed on this machine may lie in the past (its
    packages long expired), so their clock is never later than the embargo of the newest cut
    pushed plus the time since; a cut whose embargo lies ahead still waits for it."""

    def __init__(self) -> None:
        self._at: tuple[datetime, float] | None = None

    def replay(self, not_before: datetime) -> None:
        self._at = (not_before, time.monotonic())

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        if self._at is None:
            return now
        t, started = self._at
        return min(now, t + timedelta(seconds=time.monotonic() - started))


class LocalNetwork:
    """N local difusores, a pusher keeping its connections open, one embedded web server."""

    def __init__(self, workdir: Path, *, trusted_root: Path, sftp_only: int = 2, daemons: int = 1,
                 keep_releases: int = 3, concurrency: int = 64, serve_http: bool = True) -> None:
        self.workdir = Path(workdir)
        self.trusted_root = Path(trusted_root)
        self.n_sftp = sftp_only
        self.n_daemons = daemons
        self.keep_releases = keep_releases
        self.concurrency = concurrency
        self.serve_http = serve_http
        self.roots: dict[str, Path] = {}
        self.daemons: dict[str, Daemon] = {}
        self.clock = ReplayClock()
        self.http: EmbeddedServer | None = None
        self._access_log: Path | None = None
        self.pusher: Pusher | None = None
        self._acceptors: list[asyncssh.SSHAcceptor] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="prepcast-local",
                                        daemon=True)

    # --- public, synchronous ------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._call(self._start())
        if self.serve_http and self.roots:
            first = next(iter(self.roots))
            self._access_log = self.workdir / first / "access.log"
            # the drill's readers come through loopback as through a CDN, naming themselves
            # in X-Forwarded-For
            self.http = EmbeddedServer(self.roots[first], port=0, access_log=self._access_log,
                                       trusted_proxies=("127.0.0.0/8",))
            self.http.start()

    def push(self, package: Path, *, wait_for_embargo: bool = False,
             timeout: float = 60.0) -> PushReport:
        """Push one cut to every difusor and wait until the daemons have activated it."""
        pkg = read_package(package)
        assert self.pusher is not None, "start() first"
        self.clock.replay(pkg.not_before)
        report = self._call(self.pusher.push(pkg, wait_for_embargo=wait_for_embargo))
        ok = [n for n, o in report.staged.items() if o.ok and n in self.daemons]
        deadline = time.monotonic() + timeout
        while any(self.daemons[n].store.live_cut() != pkg.cut_id for n in ok):
            if time.monotonic() > deadline:
                raise TransportError(f"local daemons did not activate cut {pkg.cut} in {timeout} s")
            time.sleep(0.02)
        if self.http is not None:
            self.http.site.reload()
        return report

    def live_cuts(self) -> dict[str, int | None]:
        """The number of the cut each difusor serves (None before its first)."""
        return {name: c.cut if (c := ReleaseStore(root).live_cut()) else None
                for name, root in self.roots.items()}

    @property
    def access_log(self) -> Path | None:
        """The embedded web server's access log (of the first difusor), kept after stop()."""
        return self._access_log

    @property
    def http_url(self) -> str | None:
        return f"http://127.0.0.1:{self.http.port}" if self.http else None

    def event_logs(self) -> dict[str, Path]:
        return {n: d.config.event_log for n, d in self.daemons.items() if d.config.event_log}

    def stop(self) -> None:
        if self.http is not None:
            self.http.stop()
            self.http = None
        if self._thread.is_alive():
            self._call(self._stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    # --- on the loop --------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _start(self) -> None:
        keys = self.workdir / "ssh"
        keys.mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        host_key.write_private_key(str(keys / "host_key"))
        client = asyncssh.generate_private_key("ssh-ed25519")
        client.write_private_key(str(keys / "client_key"))
        (keys / "client_key").chmod(0o600)
        client_public = client.export_public_key().decode()
        (keys / "authorized_keys").write_text(client_public)
        host_line = host_key.export_public_key().decode().strip()
        difusores: list[Difusor] = []
        for i in range(1, self.n_sftp + 1):
            name = f"local-sftp-{i:02d}"
            root = self.workdir / name  # releases/ and current, as its SFTP server shows them
            acceptor = await start_sftp_difusor(root, host_key, client_public)
            self._acceptors.append(acceptor)
            self.roots[name] = root
            difusores.append(Difusor(name=name, host="127.0.0.1", port=acceptor.get_port(),
                                     user="prep", auth="key", remote_root="/", mode="sftp",
                                     key_file=keys / "client_key", host_key=host_line))
        for i in range(1, self.n_daemons + 1):
            name = f"local-daemon-{i:02d}"
            base = self.workdir / name
            config = DaemonConfig(
                root=base / "www", inbox=base / "inbox", trusted_root=self.trusted_root,
                name=name, keep_releases=self.keep_releases, event_log=base / "events.jsonl",
                syslog=False, poll_interval=0.05, sftp_listen="127.0.0.1", sftp_port=0,
                sftp_host_key=keys / "host_key", sftp_authorized_keys=keys / "authorized_keys")
            daemon = Daemon(config, clock=self.clock)
            self._tasks.append(asyncio.create_task(daemon.run()))
            while daemon.sftp_port is None:
                await asyncio.sleep(0.01)
            self.daemons[name] = daemon
            self.roots[name] = config.root
            difusores.append(Difusor(name=name, host="127.0.0.1", port=daemon.sftp_port,
                                     user="prep", auth="key", remote_root="/", mode="daemon",
                                     key_file=keys / "client_key", host_key=host_line))
        registry = Registry(self.workdir / "registry.toml", tuple(difusores),
                            concurrency=self.concurrency, keep_releases=self.keep_releases)
        self.pusher = Pusher(registry, DeliveryState(self.workdir / "deliveries.sqlite"),
                             retry_delay=0.2, work_dir=self.workdir / "outbox")

    async def _stop(self) -> None:
        if self.pusher is not None:
            await self.pusher.close()
            self.pusher.state.close()
        for daemon in self.daemons.values():
            daemon.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for acceptor in self._acceptors:
            acceptor.close()
            await acceptor.wait_closed()
