"""The difusor daemon: receive into the inbox, verify, wait for the embargo, activate, purge.

::

    inbox/<cut>.tar ──unpack──► releases/.<cut>.partial ──complete from held releases──►
        verify (signatures, hashes, nothing extra, newer cut) ──► carry over ──► releases/<cut>
        ──(not_before reached, clock within bound)──► current -> releases/<cut> ──► purge CDN

A package that fails any check is rejected and removed; what is live stays live. Anything in
the inbox that is not an archive is quarantined (:mod:`prepcast.difusor.inbox`): one bad entry
never blocks the next cut. Each step is an event (:mod:`prepcast.difusor.events`).
``inbox/status.json`` tells the institute the live cut.

Staging one archive: :mod:`prepcast.difusor.stage`; the CDN purge after an activation:
:mod:`prepcast.difusor.purge`; the daemon's own SFTP inbox: :mod:`prepcast.difusor.inbox_server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import asyncssh
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepcast.difusor.activate import ReleaseStore
from prepcast.difusor.clock import clock_offset
from prepcast.difusor.config import DaemonConfig
from prepcast.difusor.events import EventLog
from prepcast.difusor.inbox import (
    STATUS,
    open_archive,
    quarantine,
    refusal_of,
    remove_entry,
    sort_inbox,
    write_status,
)
from prepcast.difusor.inbox_server import listen_inbox
from prepcast.difusor.layout import QUARANTINE, partial_dir
from prepcast.difusor.purge import purge_cdn
from prepcast.difusor.reasons import error_es, not_moved_es, opened_es, rejection_es
from prepcast.difusor.stage import stage_archive
from prepcast.difusor.verified import VerifiedFiles
from prepcast.errors import InputError, IntegrityError, PrepcastError
from prepcast.events import QUARANTINED
from prepcast.package import CutId, Manifest, VerifyLimits, load_manifest
from prepcast.package.keys import load_root_public

__all__ = ["STATUS", "Daemon", "run_daemon", "trusted_root_key"]


def trusted_root_key(path: Path) -> Ed25519PublicKey:
    """The institute's root public key from the configuration, or InputError saying why it is
    unusable (unreadable, too large, not an Ed25519 public key)."""
    try:
        return load_root_public(path)
    except InputError as exc:
        raise InputError([replace(p, message=f"trusted_root: {p.message}")
                          for p in exc.problems]) from None


class Daemon:
    """One difusor's daemon; ``await run()`` until :meth:`stop`."""

    def __init__(self, config: DaemonConfig, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.trust = trusted_root_key(config.trusted_root)  # refuse to start without it
        self.limits = VerifyLimits()
        self.store = ReleaseStore(config.root)
        self.verified = VerifiedFiles(max(config.keep_releases, 2) + 1)
        self.quarantine_dir = config.root / QUARANTINE
        config.inbox.mkdir(parents=True, exist_ok=True)
        self._quarantined: set[tuple[str, str]] = set()
        self.events = EventLog(config.event_log, difusor=config.name, syslog=config.syslog)
        self._last_rejected: dict[str, Any] | None = None  # status.json tells the institute why
        self.events.listeners.append(self._note_refusal)
        self._stop = asyncio.Event()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._waiting_for: CutId | None = None
        self._clock_warned = 0.0
        self._last_received: CutId | None = None
        self._arrived: dict[CutId, datetime] = {}  # when each staged cut's archive landed
        self.sftp_port: int | None = None

    async def start_inbox_server(self) -> None:
        self._acceptor = await listen_inbox(self.config)
        if self._acceptor is not None:
            self.sftp_port = int(self._acceptor.get_port())

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        removed = self.store.recover()
        if removed:
            self.events.emit("recovered", removed=removed)
        await self.start_inbox_server()
        self.events.emit("started", **_live(self.store.live_cut()), sftp_port=self.sftp_port)
        self._write_status()
        said = ""
        try:
            while not self._stop.is_set():
                try:
                    await self.step()
                    said = ""
                except Exception as exc:  # keep serving what is live; say what went wrong
                    error = f"{type(exc).__name__}: {exc}"
                    if error != said:  # once, not at every poll while it lasts
                        said = error
                        self.events.emit("error", error=error_es(error),
                                         **_live(self.store.live_cut()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.config.poll_interval)
        finally:
            if self._acceptor is not None:
                self._acceptor.close()
                await self._acceptor.wait_closed()
            self.events.emit("stopped", **_live(self.store.live_cut()))

    def step_sync(self) -> None:
        """Receive what waits in the inbox (in a worker thread: it unpacks and hashes)."""
        inbox = self.config.inbox
        for entry in sort_inbox(inbox):
            try:
                if entry.action == "receive":
                    assert entry.cut is not None
                    self.receive(entry.name, entry.cut)
                elif entry.action == "quarantine":
                    self._quarantine(entry.name, entry.reason)
            except Exception as exc:  # one entry never blocks the inbox
                self._quarantine(entry.name, f"{type(exc).__name__}: {str(exc)[:200]}")

    async def step(self) -> None:
        """Take in every archive waiting in the inbox, then activate what is due."""
        await asyncio.to_thread(self.step_sync)
        await self._activate_due()

    def _quarantine(self, name: str, reason: str) -> None:
        try:
            where = quarantine(self.config.inbox, name, self.quarantine_dir)
        except OSError as exc:
            where = None
            reason += not_moved_es(str(exc.strerror or exc))
        key = (name, reason)
        if key in self._quarantined and where is None:
            return  # said once already
        self._quarantined.add(key)
        self.events.emit(QUARANTINED, entry=name, reason=reason, moved_to=where)
        if name == STATUS:
            self._write_status()

    # --- receiving ----------------------------------------------------------------------------

    def receive(self, name: str, cut: CutId) -> bool:
        """Unpack, verify, complete and stage one archive; False (and an event) when rejected.

        Releases are ordered by ejercicio, then cut: the first package of a later ejercicio
        (the jornada after a simulacro) is newer than anything of an earlier one."""
        inbox = self.config.inbox
        try:
            archive, size = open_archive(inbox, name)
        except OSError as exc:
            self._quarantine(name, opened_es(str(exc.strerror or exc)))
            return False
        with archive:
            # landed (the push's end) this long ago, in the daemon's clock
            age = max(0.0, time.time() - os.fstat(archive.fileno()).st_mtime)
            self._arrived[cut] = self.clock() - timedelta(seconds=age)
            self.events.emit("received", **_cut(cut), bytes=size)
            self._last_received = cut
            self._write_status()  # before the archive goes away: the pusher may be checking it
            try:
                manifest = self._stage(archive, name, cut)
            except (PrepcastError, OSError) as exc:
                if isinstance(exc, IntegrityError):
                    failures = exc.failures
                elif isinstance(exc, OSError):  # e.g. a full disk: this cut cannot be staged
                    failures = [f"cannot stage {cut}: {exc.strerror or exc}"]
                else:
                    failures = [str(exc)]
                shutil.rmtree(self.store.root / partial_dir(cut), ignore_errors=True)
                remove_entry(inbox, name)
                self.events.emit("rejected", **_cut(cut),
                                 failures=[rejection_es(f) for f in failures[:20]],
                                 **_live(self.store.live_cut()))
                self._write_status()
                return False
        remove_entry(inbox, name)
        self._write_status()
        self.events.emit("verified", **_cut(cut), digest=manifest.digest,
                         not_before=manifest.not_before.isoformat(), files=len(manifest.files),
                         hashed=self.verified.hashed)
        return True

    def _stage(self, archive: BinaryIO, name: str, cut: CutId) -> Manifest:
        return stage_archive(self.store, self.verified, archive, name, cut, trust=self.trust,
                             limits=self.limits, now=self.clock(), proceso=self.config.proceso)

    # --- activating ---------------------------------------------------------------------------

    async def _activate_due(self) -> None:
        live = self.store.live_cut()
        pending = [c for c in self.store.cuts() if live is None or c > live]
        if not pending:
            return
        cut = pending[-1]
        try:
            manifest = load_manifest(self.store.path(cut))
        except (IntegrityError, OSError) as exc:  # a staged release damaged on disk
            shutil.rmtree(self.store.path(cut), ignore_errors=True)
            self.events.emit("rejected", **_cut(cut), failures=[rejection_es(
                f"staged release unreadable: {str(exc)[:200]}")],
                             **_live(live))
            return
        now = self.clock()
        if now < manifest.not_before:
            if self._waiting_for != cut:
                self._waiting_for = cut
                self.events.emit("waiting", **_cut(cut), not_before=manifest.not_before.isoformat())
            return
        if not await self._clock_ok():
            return
        started = time.monotonic()
        try:
            self.store.activate(cut)
        except OSError as exc:
            self.events.emit("rejected", **_cut(cut),
                             failures=[rejection_es(f"cannot activate: {exc.strerror}")],
                             **_live(live))
            shutil.rmtree(self.store.path(cut), ignore_errors=True)
            return
        # late: after its embargo, or after it landed when it came later (an accelerated drill)
        due = max(manifest.not_before, self._arrived.get(cut, manifest.not_before))
        self._arrived = {c: t for c, t in self._arrived.items() if c > cut}
        self.events.emit("activated", **_cut(cut), digest=manifest.digest,
                         previous=live.cut if live else None,
                         previous_ejercicio=live.ejercicio.name if live else None,
                         late_seconds=round((now - due).total_seconds(), 3),
                         switch_ms=round((time.monotonic() - started) * 1000, 3))
        self._write_status()
        dropped = self.store.prune(self.config.keep_releases)
        if dropped:
            self.verified.forget([c.tag for c in dropped])
            self.events.emit("pruned", cuts=[c.tag for c in dropped])
        await purge_cdn(self.config, cut, self.events.emit)

    async def _clock_ok(self) -> bool:
        c = self.config
        if c.ntp_server is None:
            return True
        try:
            offset = await asyncio.to_thread(clock_offset, c.ntp_server, c.ntp_port)
        except PrepcastError as exc:
            reason: dict[str, Any] = {"error": str(exc)}
        else:
            if abs(offset) <= c.max_clock_offset:
                return True
            reason = {"offset_seconds": round(offset, 3), "max_offset": c.max_clock_offset}
        if time.monotonic() - self._clock_warned > 10:
            self._clock_warned = time.monotonic()
            self.events.emit("clock_off", **reason)
        return False

    def _note_refusal(self, record: dict[str, Any]) -> None:
        if record.get("event") == "activated":
            self._last_rejected = None
        elif (refusal := refusal_of(record)) is not None:
            self._last_rejected = refusal
            self._write_status()

    def _write_status(self) -> None:
        live = self.store.live_cut()
        digest = None
        if live is not None:
            with contextlib.suppress(IntegrityError, OSError):
                digest = load_manifest(self.store.path(live)).digest
        status = {"live_cut": live.cut if live else None,
                  "live_ejercicio": live.ejercicio.name if live else None,
                  "live_tag": live.tag if live else None,
                  "live_digest": digest, "difusor": self.config.name,
                  "last_received": self._last_received.tag if self._last_received else None,
                  "last_rejected": self._last_rejected,
                  "time": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            write_status(self.config.inbox, status)
        except OSError as exc:  # a full disk, say: the status waits, the cuts do not
            self.events.emit("error", error=error_es(f"cannot write {STATUS}: "
                                                     f"{exc.strerror or exc}"))


def _cut(cut: CutId) -> dict[str, Any]:
    """How events name a cut: its number and its ejercicio."""
    return {"cut": cut.cut, "ejercicio": cut.ejercicio.name}


def _live(cut: CutId | None) -> dict[str, Any]:
    return {"live_cut": cut.cut if cut else None,
            "live_ejercicio": cut.ejercicio.name if cut else None}


def run_daemon(config: DaemonConfig) -> int:
    """Run until SIGTERM/SIGINT (the CLI's entry) and answer which of the two stopped it;
    refused while another daemon holds the root."""
    import os
    import signal

    from prepcast.difusor.activate import lock_root

    lock = lock_root(config.root)
    stopped_by: list[int] = []

    async def main() -> None:
        daemon = Daemon(config)
        loop = asyncio.get_running_loop()

        def stop(signum: int) -> None:
            stopped_by.append(signum)
            daemon.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig)
        await daemon.run()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(main())
    finally:
        os.close(lock)
    return stopped_by[0] if stopped_by else 0
