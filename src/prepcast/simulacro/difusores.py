"""The drill's local difusores in a child process.

The difusores (embedded SFTP servers, daemons, the first one's web server) and their readers run
in their own process, so pushing cut *n* runs on the other core while the institute builds cut
*n + 1*. The parent talks to it over a pipe: ``push`` a package, ``wait`` for every difusor to
serve it, ``stop``.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from prepcast.errors import PrepcastError, TransportError


@dataclass(frozen=True)
class Pushed:
    cut: int
    live: dict[str, int | None]
    seconds: float
    failed: list[str]


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
        conn.send(("ready", net.http_url, {n: str(r) for n, r in net.roots.items()}))
        while True:
            msg = conn.recv()
            if msg[0] == "push":
                started = time.perf_counter()
                try:
                    failed = net.push(Path(msg[1])).failed
                except PrepcastError as exc:
                    failed = [str(exc)]
                if crowd is None and readers and net.http_url:
                    crowd = ReaderCrowd(net.http_url, seed=seed,
                                        addresses=reader_addresses(home_entidad, seed=seed))
                    crowd.start()
                conn.send(("pushed", msg[2], net.live_cuts(), time.perf_counter() - started, failed))
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
        self._pending = 0

    def start(self) -> None:
        self._proc.start()
        self._child_end.close()
        self.http_url, roots = self._expect("ready")
        self.roots = {n: Path(r) for n, r in roots.items()}

    def push(self, package: Path, cut: int) -> None:
        """Start pushing ``package``; :meth:`wait` for it before the next push."""
        self._conn.send(("push", str(package), cut))
        self._pending += 1

    def wait(self) -> Pushed:
        self._pending -= 1
        cut, live, seconds, failed = self._expect("pushed")
        return Pushed(cut, live, seconds, failed)

    def stop(self) -> Stopped:
        if not self._proc.is_alive():
            return Stopped(None, 0)
        try:
            while self._pending > 0:
                self.wait()
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

