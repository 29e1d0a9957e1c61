"""The drill's local difusores in a child process.

The difusores (embedded SFTP servers, daemons, the first one's web server) and their readers run
in their own process; the night runner pushes to them as to any difusor, through the registry
this process describes (:attr:`DifusoresProcess.entries`, registered and checked by
:mod:`prepcast.simulacro.registro`). The parent talks to it over a
pipe: ``readers`` to let the simulated readers in, ``stop``.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from prepcast.difusor.activate import ReleaseStore
from prepcast.errors import TransportError
from prepcast.package import CutId

_REGISTRY_FIELDS = ("name", "host", "port", "user", "auth", "remote_root", "mode", "key_file",
                    "host_key")


@dataclass(frozen=True)
class Stopped:
    access_log: Path | None
    reader_requests: int


def _child(conn: Connection, workdir: str, trusted_root: str, sftp_only: int, daemons: int,
           readers: bool, seed: int, home_entidad: str) -> None:
    from prepcast.distribution.local import LocalNetwork
    from prepcast.simulacro.readers import ReaderCrowd, reader_addresses

    net = LocalNetwork(Path(workdir), trusted_root=Path(trusted_root), sftp_only=sftp_only,
                       daemons=daemons)
    crowd: ReaderCrowd | None = None
    try:
        net.start()
        assert net.pusher is not None
        entries = [{k: str(getattr(d, k)) for k in _REGISTRY_FIELDS}
                   for d in net.pusher.registry.difusores]
        conn.send(("ready", net.http_url, {n: str(r) for n, r in net.roots.items()}, entries))
        while True:
            msg = conn.recv()
            if msg[0] == "readers":
                if crowd is None and readers and net.http_url:
                    crowd = ReaderCrowd(net.http_url, seed=seed,
                                        addresses=reader_addresses(home_entidad, seed=seed))
                    crowd.start()
            elif msg[0] == "stop":
                break
    except Exception as exc:  # reported to the parent, which turns it into a clear error
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        if crowd is not None:
            crowd.stop()
        net.stop()
        log = net.access_log
        conn.send(("stopped", str(log) if log else "", crowd.requests if crowd else 0))
        conn.close()


class DifusoresProcess:
    """Local difusores in a child process; methods are called from the parent."""

    def __init__(self, workdir: Path, *, trusted_root: Path, sftp_only: int, daemons: int,
                 readers: bool, seed: int, home_entidad: str = "") -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_child, name="simulacro-difusores", daemon=True,
            args=(child, str(workdir), str(trusted_root), sftp_only, daemons, readers, seed,
                  home_entidad))
        self._child_end = child
        self.http_url: str | None = None
        self.roots: dict[str, Path] = {}
        self._entries: list[dict[str, str]] = []

    def start(self) -> None:
        self._proc.start()
        self._child_end.close()
        self.http_url, roots, self._entries = self._expect("ready")
        self.roots = {n: Path(r) for n, r in roots.items()}

    @property
    def entries(self) -> list[dict[str, str]]:
        """Each local difusor's SFTP account (name, host, port, user, auth, remote_root, mode,
        key_file, host_key), for the registry."""
        return [dict(e) for e in self._entries]

    def let_readers_in(self) -> None:
        self._conn.send(("readers",))

    def live_cuts(self) -> dict[str, CutId | None]:
        """The cut each difusor serves (read from its folder)."""
        return {n: ReleaseStore(r).live_cut() for n, r in self.roots.items()}

    def stop(self) -> Stopped:
        if not self._proc.is_alive():
            return Stopped(None, 0)
        try:
            self._conn.send(("stop",))
            log, requests = self._expect("stopped")
        finally:
            self._proc.join(30)
            if self._proc.is_alive():
                self._proc.kill()
        return Stopped(Path(log) if log else None, requests)

    def _expect(self, kind: str) -> list[Any]:
        while True:
            if not self._conn.poll(300):
                raise TransportError("the local difusores did not answer in 300 s")
            try:
                msg = self._conn.recv()
            except EOFError:
                raise TransportError("the local difusores' process ended unexpectedly") from None
            if msg[0] == "error":
                raise TransportError(f"local difusores: {msg[1]}")
            if msg[0] == kind:
                return list(msg[1:])

