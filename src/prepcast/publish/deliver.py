"""The runner's pushes, on an event loop of their own so the next cut builds meanwhile.

The registry is read again before every push: a difusor blocked (or added) between two cuts is
left out (or served) from the next push on. The :class:`~prepcast.distribution.Pusher` and its
SSH connections are kept while the active difusores stay the same.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from prepcast.distribution import DeliveryState, Pusher, PushReport, read_package
from prepcast.distribution.registry import Difusor, Registry, load_registry
from prepcast.errors import PrepcastError

T = TypeVar("T")


class Deliveries:
    """Pushes cuts to the active difusores of ``registry_path`` (none when it is None)."""

    def __init__(self, registry_path: Path | None, state_path: Path, work_dir: Path, *,
                 wait_for_embargo: bool, retry_delay: float = 1.0) -> None:
        self.registry_path = registry_path
        self.state = DeliveryState(state_path)
        self.work_dir = work_dir
        self.wait_for_embargo = wait_for_embargo
        self.retry_delay = retry_delay
        self._pusher: Pusher | None = None
        self._active: tuple[Difusor, ...] = ()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="prepcast-push",
                                        daemon=True)
        self._thread.start()

    def push(self, package: Path) -> Future[PushReport]:
        """Start pushing ``package``; the future gives its report (an error: the push failed)."""
        return self._submit(self._push(package))

    def close(self) -> None:
        if self._thread.is_alive():
            self._submit(self._close()).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()
        self.state.close()

    def active(self) -> list[str]:
        return [d.name for d in self._active]

    # --- on the loop ------------------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _push(self, package: Path) -> PushReport:
        registry = self._registry()
        active = registry.active()
        if self._pusher is None or tuple(active) != self._active:
            if self._pusher is not None:
                await self._pusher.close()
            self.work_dir.mkdir(parents=True, exist_ok=True)
            self._pusher = Pusher(registry, self.state, work_dir=self.work_dir,
                                  retry_delay=self.retry_delay)
            self._active = tuple(active)
        pkg = read_package(package)
        if not active:
            return PushReport(pkg.cut)
        return await self._pusher.push(pkg, wait_for_embargo=self.wait_for_embargo)

    def _registry(self) -> Registry:
        if self.registry_path is None:
            return Registry(Path("registry.toml"), ())
        try:
            return load_registry(self.registry_path)
        except PrepcastError:
            if self._pusher is not None:  # a registry being edited: keep the last good one
                return self._pusher.registry
            raise

    async def _close(self) -> None:
        if self._pusher is not None:
            await self._pusher.close()
