"""Push a cut to every difusor: staging as soon as the cut exists, activation at its embargo.

Each difusor is served by its own task (at most ``registry.concurrency`` at once) over its own
:class:`~prepcast.distribution.transport.Peer` (an SSH connection kept open across cuts); one
difusor failing never slows or stops the others. How a cut reaches a difusor is the strategy of
its ``mode`` (:mod:`prepcast.distribution.modes`): ``sftp`` releases and a ``current`` symlink,
``daemon`` archives in an inbox, ``flat`` files for cloud gateways.

A failed phase is tried again only when its error says it is worth it
(:attr:`~prepcast.distribution.transport.PeerError.retryable`). Every attempt is recorded in
the :class:`~prepcast.distribution.state.DeliveryState`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from prepcast.distribution.contents import PackageContents
from prepcast.distribution.modes import Context, Mode, modes_for
from prepcast.distribution.modes._common import Advance
from prepcast.distribution.outcome import Outcome, PushReport
from prepcast.distribution.registry import Difusor, Registry
from prepcast.distribution.state import DeliveryState
from prepcast.distribution.transport import (
    AuthenticationFailed,
    DifusorRefused,
    Peer,
    is_retryable,
)
from prepcast.errors import PrepcastError

log = logging.getLogger(__name__)

OnProgress = Callable[[str, int, int], None]
PeerFactory = Callable[[Difusor], Peer]

__all__ = ["Outcome", "PeerFactory", "PushReport", "Pusher", "access_of"]


def access_of(d: Difusor, key: bytes) -> str:
    """A keyed digest (HMAC-SHA256 with ``key``, :meth:`DeliveryState.access_key`) of how the
    pusher logs in at ``d``: its registry entry's connection fields, the password and the key
    file's bytes. A login refused with one access is not tried again with the same (a server
    that counts failures, fail2ban, would lock the account or ban the institute); a changed
    entry, password or key file is tried. Without the key, the digest tells nothing of the
    password (it cannot be checked against guesses)."""
    secret = b""
    if d.key_file is not None:
        try:
            secret = Path(d.key_file).expanduser().read_bytes()
        except OSError:
            secret = b"?"
    fields = [d.host, d.port, d.user, d.auth, str(d.key_file), d.password, d.host_key,
              hashlib.sha256(secret).hexdigest()]
    return hmac.new(key, json.dumps(fields).encode(), hashlib.sha256).hexdigest()


def _cancelling() -> bool:
    """Whether the running task is being cancelled (Ctrl-C), whatever its awaits made of it."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Pusher:
    """Sends cuts to the registry's active difusores; keep one for the whole night.

    ``peer_factory`` makes the :class:`Peer` of each difusor (SFTP by default; a
    :class:`~prepcast.distribution.localdir.LocalPeer` in fast tests)."""

    def __init__(self, registry: Registry, state: DeliveryState, *,
                 on_progress: OnProgress | None = None, file_concurrency: int = 32,
                 attempts: int = 3, retry_delay: float = 1.0, work_dir: Path | None = None,
                 connect_timeout: float | None = None, confirm_timeout: float = 30.0,
                 peer_factory: PeerFactory | None = None,
                 replace_same_cut: bool = False, verify_reused: bool = False) -> None:
        self.registry = registry
        self.state = state
        self.on_progress = on_progress
        self.attempts = attempts
        self.retry_delay = retry_delay
        if peer_factory is None:
            # SSH is loaded only by a pusher that pushes over SFTP (not the runner's pushing
            # process of a night without difusores, nor a LocalPeer's)
            from prepcast.distribution.sftp import CONNECT_TIMEOUT, SftpPeer

            timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout

            def peer_factory(d: Difusor) -> Peer:
                return SftpPeer(d, known_hosts=registry.known_hosts,
                                file_concurrency=file_concurrency, connect_timeout=timeout)
        self._peer_factory = peer_factory
        self.difusores = {d.name: d for d in registry.active()}
        self.peers: dict[str, Peer] = {n: peer_factory(d) for n, d in self.difusores.items()}
        self._tmp = TemporaryDirectory(prefix="prepcast-push-") if work_dir is None else None
        self.work_dir = work_dir or Path(self._tmp.name if self._tmp else ".")
        self.ctx = Context(state=state, work_dir=self.work_dir, progress=self._progress,
                           file_concurrency=file_concurrency,
                           keep_releases=registry.keep_releases, confirm_timeout=confirm_timeout,
                           replace_same_cut=replace_same_cut, verify_reused=verify_reused)
        self.modes: Mapping[str, Mode] = modes_for(self.ctx)

    def mode_of(self, name: str) -> Mode:
        return self.modes[self.difusores[name].mode]

    async def use(self, registry: Registry) -> list[str]:
        """Send to ``registry.active()`` from the next push on; return who left (blocked,
        dropped, paused). The night runner calls it with ``load_registry(path)`` before every
        push, so a block takes effect at once; connections to those still active are kept."""
        active = {d.name: d for d in registry.active()}
        def access(d: Difusor) -> tuple[object, ...]:
            return (d.host, d.port, d.user, d.auth, d.key_file, d.password, d.host_key,
                    d.remote_root, d.mode)

        gone = [n for n, d in self.difusores.items()
                if n not in active or access(active[n]) != access(d)]
        await asyncio.gather(*(self.peers.pop(n).close() for n in gone))
        for name, d in active.items():
            if name not in self.peers:
                self.peers[name] = self._peer_factory(d)
        self.difusores = active
        self.registry = registry
        return [n for n in gone if n not in active]

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.peers.values()))
        if self._tmp is not None:
            self._tmp.cleanup()

    async def push(self, pkg: PackageContents, *, wait_for_embargo: bool = True) -> PushReport:
        """Read back what each difusor did with earlier cuts, stage the cut everywhere; each
        difusor staged by ``not_before`` is activated then, all together; one that is late (slow
        link, retries) is activated when its staging ends, so it never holds the others back."""
        started = time.monotonic()
        report = PushReport(pkg.cut)
        self.state.remember_files(pkg.digest, pkg.files)
        sem = asyncio.Semaphore(self.registry.concurrency)
        embargo = asyncio.create_task(self._embargo(pkg)) if wait_for_embargo else None

        async def one(name: str) -> None:
            async with sem:
                held = self._held_back(name, pkg)
                if held is None:
                    try:
                        earlier = await self._check(name, pkg)
                    except AuthenticationFailed as exc:
                        held = self._login_refused(name, pkg, exc)
                    else:
                        if earlier is not None:
                            report.refused[name] = earlier
                if held is not None:
                    report.staged[name] = held
                    return
                staged = await self._run(name, "stage", pkg)
            report.staged[name] = staged
            if not staged.ok:
                return
            if embargo is not None:
                await asyncio.shield(embargo)
            report.activated[name] = await self._run(name, "activate", pkg)

        try:
            await asyncio.gather(*(one(n) for n in self.peers))
        finally:
            if embargo is not None and not embargo.done():
                embargo.cancel()
        report.seconds_to_serving = time.monotonic() - started
        await self.prune_all([n for n, o in report.activated.items() if o.ok], pkg)
        return report

    async def _embargo(self, pkg: PackageContents) -> None:
        delay = (pkg.not_before - datetime.now(UTC)).total_seconds()
        if delay > 0:
            log.info("cut %d: activation at %s (in %.0f s)", pkg.cut, pkg.not_before, delay)
            await asyncio.sleep(delay)

    def _access(self, name: str) -> str:
        return access_of(self.difusores[name], self.state.access_key() or b"")

    def _held_back(self, name: str, pkg: PackageContents, phase: str = "stage") -> Outcome | None:
        """A difusor whose server refused the login with the registry entry it still has is not
        tried, in any phase (its failed attempt recorded, naming why); None: try it."""
        refused = self.state.login_refused(name)
        if refused is None:
            return None
        if refused.access != self._access(name):
            self.state.forget_login_refused(name)  # a new password, key or entry: tried
            return None
        error = (f"{name}: not tried: its server refused the login at {refused.tag} "
                 f"({refused.error}); not tried again until its registry entry, password or "
                 f"key file changes, or `prepcast night retry-login {name} --state PATH` (the "
                 "runner's state folder or the push's --state file) once its server is fixed")
        row = self.state.start(name, pkg.cut_id, phase)
        self.state.end(row, result="failed", error=error)
        log.error("%s", error)
        return Outcome(name, phase, False, error=error)

    def _login_refused(self, name: str, pkg: PackageContents,
                       exc: AuthenticationFailed) -> Outcome:
        """Record a login refused while reading back the earlier cut (never tried again with
        the same access) as this cut's failed attempt."""
        self.state.refuse_login(name, self._access(name), pkg.cut_id, str(exc))
        row = self.state.start(name, pkg.cut_id, "stage")
        self.state.end(row, result="failed", error=str(exc))
        log.error("%s", exc)
        return Outcome(name, "stage", False, error=str(exc))

    async def _check(self, name: str, pkg: PackageContents) -> Outcome | None:
        """What the difusor did with an earlier round's cut, recorded when it is a failure (a
        refused login is raised: it is not tried again)."""
        try:
            outcome = await self.mode_of(name).check(self.peers[name], self.difusores[name])
        except AuthenticationFailed:
            raise
        except PrepcastError as exc:
            log.warning("%s: reading back the earlier cut: %s", name, exc)
            return None
        if outcome is not None:
            row = self.state.start(name, pkg.cut_id, outcome.phase)
            self.state.end(row, result="refused", error=outcome.error)
            log.error("%s", outcome.error)
        return outcome

    async def prune_all(self, names: list[str], live: PackageContents) -> None:
        """Remove what difusores no longer need (after every one serves the new cut)."""
        sem = asyncio.Semaphore(self.registry.concurrency)

        async def one(name: str) -> None:
            async with sem:
                try:
                    await self.mode_of(name).prune(self.peers[name], self.difusores[name], live)
                except PrepcastError as exc:
                    log.warning("%s: pruning: %s", self.peers[name].where, exc)

        await asyncio.gather(*(one(n) for n in names))

    async def stage_all(self, pkg: PackageContents) -> dict[str, Outcome]:
        self.state.remember_files(pkg.digest, pkg.files)
        return await self._each(list(self.peers), "stage", pkg)

    async def activate_all(self, pkg: PackageContents, names: list[str]) -> dict[str, Outcome]:
        return await self._each(names, "activate", pkg)

    async def _each(self, names: list[str], phase: str, pkg: PackageContents) -> dict[str, Outcome]:
        sem = asyncio.Semaphore(self.registry.concurrency)

        async def one(name: str) -> Outcome:
            async with sem:
                return await self._run(name, phase, pkg)

        results = await asyncio.gather(*(one(n) for n in names))
        return {o.difusor: o for o in results}

    async def _run(self, name: str, phase: str, pkg: PackageContents) -> Outcome:
        """One phase at one difusor, tried again while its error says it is worth it; never
        tried when its server refused the login with the registry entry it still has (every
        phase: ``push``, ``--stage-only``, ``--activate-only``)."""
        held = self._held_back(name, pkg, phase)
        if held is not None:
            return held
        peer, d = self.peers[name], self.difusores[name]
        mode = self.mode_of(name)
        tries = self.attempts if phase == "stage" else 1
        outcome = Outcome(name, phase, False)
        for attempt in range(1, tries + 1):
            row = self.state.start(name, pkg.cut_id, phase)
            started = time.monotonic()
            retry = False
            result = "failed"
            try:
                if phase == "stage":
                    outcome = await mode.stage(peer, d, pkg)
                else:
                    outcome = await mode.activate(peer, d, pkg)
            except PrepcastError as exc:
                outcome = Outcome(name, phase, False, error=str(exc))
                retry = is_retryable(exc)
                if isinstance(exc, AuthenticationFailed):  # never again with the same access
                    self.state.refuse_login(name, self._access(name), pkg.cut_id, str(exc))
                result = "refused" if isinstance(exc, DifusorRefused) else "failed"
            except Exception as exc:  # one difusor's surprise must not stop the others
                log.exception("difusor %s: %s failed", name, phase)
                outcome = Outcome(name, phase, False, error=f"{name}: {type(exc).__name__}: {exc}")
            outcome.seconds = time.monotonic() - started
            if _cancelling():
                # Ctrl-C reached the transfer as a transport error (a write on a channel being
                # closed): the push stops here, neither retried nor counted as the difusor's fault
                self.state.end(row, result="interrupted", nbytes=outcome.nbytes,
                               files=outcome.files, error="interrupted")
                raise asyncio.CancelledError
            self.state.end(row, result="ok" if outcome.ok else result, nbytes=outcome.nbytes,
                           files=outcome.files, error=outcome.error)
            if outcome.ok or not retry:
                break
            if attempt < tries:
                log.warning("%s (attempt %d of %d; resuming)", outcome.error, attempt, tries)
                await peer.close()
                await asyncio.sleep(self.retry_delay)
        if not outcome.ok:
            log.error("%s", outcome.error)
        return outcome

    def _progress(self, name: str, total: int) -> Advance:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if self.on_progress is not None:
                self.on_progress(name, done, total)

        return advance
