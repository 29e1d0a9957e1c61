"""The runner's pushes, in a process of their own so the next cut builds meanwhile (other core).

The registry is read again before every push: a difusor blocked (or added) between two cuts is
left out (or served) from the next push on. The :class:`~prepcast.distribution.Pusher` and its
SSH connections are kept while the active difusores stay the same. The pushing process dies
with the runner (``PR_SET_PDEATHSIG``): after a crash no orphan goes on pushing an older cut
while the resumed runner pushes a newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from prepcast.distribution import DeliveryState, Pusher, PushReport, read_package
from prepcast.distribution.registry import Difusor, Registry, load_registry
from prepcast.errors import PrepcastError

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class _Settings:
    registry_path: Path | None
    state_path: Path
    work_dir: Path
    wait_for_embargo: bool
    retry_delay: float
    replace_same_cut: bool = False
    verify_reused: bool = False


class Deliveries:
    """Pushes cuts to the active difusores of ``registry_path`` (none when it is None)."""

    def __init__(self, registry_path: Path | None, state_path: Path, work_dir: Path, *,
                 wait_for_embargo: bool, retry_delay: float = 1.0,
                 replace_same_cut: bool = False, verify_reused: bool = False) -> None:
        settings = _Settings(registry_path, state_path, work_dir, wait_for_embargo, retry_delay,
                             replace_same_cut, verify_reused)
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start, initargs=(settings,))

    def push(self, package: Path,
             known: Mapping[str, tuple[str, int]] | None = None) -> Future[PushReport]:
        """Start pushing ``package``; the future gives its report (an error: the push failed).
        ``known``: the files (sha256, size) of its manifest, verified against the package just
        now, which the pushing process then does not hash again."""
        return self._pool.submit(_push, package, dict(known) if known is not None else None)

    def close(self) -> None:
        # a pushing process already gone has nothing left to close
        with contextlib.suppress(Exception):
            self._pool.submit(_close).result(timeout=60)
        self._pool.shutdown(wait=True, cancel_futures=True)


# --- in the pushing process ---------------------------------------------------------------------


class _Worker:
    def __init__(self, settings: _Settings) -> None:
        self.settings = settings
        self.state = DeliveryState(settings.state_path)
        self.loop = asyncio.new_event_loop()
        self.pusher: Pusher | None = None
        self.active: tuple[Difusor, ...] = ()

    async def push(self, package: Path,
                   known: Mapping[str, tuple[str, int]] | None = None) -> PushReport:
        registry = self.registry()
        active = registry.active()
        if self.pusher is None or tuple(active) != self.active:
            if self.pusher is not None:
                await self.pusher.close()
            self.settings.work_dir.mkdir(parents=True, exist_ok=True)
            self.pusher = Pusher(registry, self.state, work_dir=self.settings.work_dir,
                                 retry_delay=self.settings.retry_delay,
                                 replace_same_cut=self.settings.replace_same_cut,
                                 verify_reused=self.settings.verify_reused)
            self.active = tuple(active)
        pkg = read_package(package, known)
        if not active:
            return PushReport(pkg.cut)
        return await self.pusher.push(pkg, wait_for_embargo=self.settings.wait_for_embargo)

    def registry(self) -> Registry:
        path = self.settings.registry_path
        if path is None:
            return Registry(Path("registry.toml"), ())
        try:
            return load_registry(path)
        except PrepcastError:
            if self.pusher is not None:  # a registry being edited: keep the last good one
                return self.pusher.registry
            raise

    async def close(self) -> None:
        if self.pusher is not None:
            await self.pusher.close()
        self.state.close()


_worker: _Worker | None = None


def _start(settings: _Settings) -> None:
    global _worker
    with contextlib.suppress(OSError, AttributeError):  # Linux: die with the runner
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the runner died before the line above
        os._exit(1)
    # the runner decides when to stop (systemd signals every process of the service)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = _Worker(settings)


def _push(package: Path, known: dict[str, tuple[str, int]] | None = None) -> PushReport:
    assert _worker is not None
    return _worker.loop.run_until_complete(_worker.push(package, known))


def _close() -> None:
    if _worker is not None:
        _worker.loop.run_until_complete(_worker.close())
