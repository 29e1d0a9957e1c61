"""The monitor watching the drill's local difusores, and one of them misbehaving in turn.

Each local difusor's folder (``releases/`` and ``current``) is served over HTTPS (a certificate
from the drill's CA, :mod:`prepcast.simulacro.tls`; plain HTTP on a port of its own redirects) by
a small server of the simulacro's own (:class:`prepcast.simulacro.site_server.SiteServer`: the
exact ``Cache-Control`` of the package layout, and it can stop, start and send a wrong header,
which the drill hook needs). The sites start before the night, so the registry's compliance
check can read them; the monitor (:class:`prepcast.monitor.Monitor`, its own API) runs a round
every ``round_s`` seconds of real time in a thread of its own, against the institute's publish
root as reference; its state and dashboard data (``status.json``, ``incidents.json``,
``events.jsonl``) go to ``<out>/monitor``.

Once the night's last cut is live everywhere (so the honest difusores show the institute's cut
and nothing moves any more), beside the informe being written, :meth:`Watch.drill` makes one
difusor misbehave in turn with
:func:`prepcast.monitor.drill.misbehave` — a wrong header, an injected script, a changed number,
down for a while, a stale cut (last, so that its lag has passed the bound) — and records when
each started and in which round the monitor caught it. No other difusor may ever be flagged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prepcast.monitor import Monitor, MonitorOptions, ProbeSettings
from prepcast.monitor.drill import misbehave
from prepcast.package import CutId
from prepcast.simulacro.registro import LocalSite
from prepcast.simulacro.site_server import SiteServer
from prepcast.simulacro.tls import RedirectServer

# the order of the drill; stale last, once its lag has passed the bound
DRILL = ("header", "script", "number", "down", "stale")
EXPECTED = {"stale": "lag", "script": "integrity", "number": "integrity", "header": "integrity",
            "down": "down"}
LABELS = {"header": "Cache-Control incorrecto en json/main.json",
          "script": "script ajeno inyectado en index.html",
          "number": "un número cambiado en un archivo de datos",
          "down": "sitio caído", "stale": "corte atrasado (el anterior)"}
DOWN_ROUNDS = 3  # rounds a difusor stays down
CATCH_ROUNDS = 5  # rounds the drill waits for the monitor before it calls a misbehaviour missed


class _Stopped(Exception):
    """The watch is stopping (the night cut short, Ctrl-C): no more rounds."""


@dataclass(frozen=True)
class DrillRecord:
    kind: str
    difusor: str
    started: datetime
    caught: datetime | None  # the end of the round that opened the incident
    rounds: int               # rounds from the start until caught (1: the very next round)
    closed: datetime | None   # the round after it was put right that closed it


@dataclass
class WatchReport:
    state: Path
    rounds: int = 0
    round_seconds: list[float] = field(default_factory=list)  # how long each round took
    drill: list[DrillRecord] = field(default_factory=list)
    honest_flagged: list[str] = field(default_factory=list)  # "difusor: kind", should stay empty
    victim: str = ""


class Watch:
    """The monitor over the local difusores, in a thread; :meth:`drill` from the runner's hook."""

    def __init__(self, out: Path, roots: dict[str, Path], trust: Path, reference: Path, *,
                 registry: Path, tls: ssl.SSLContext | None = None, round_s: float = 5.0,
                 drill_pace_s: float = 0.5, lag_bound_s: float = 10.0) -> None:
        self.out = out
        self.registry = registry  # the drill's registry (written once the sites are up)
        self.sites = {name: SiteServer(root, tls) for name, root in sorted(roots.items())}
        self.redirects: dict[str, RedirectServer] = {}
        self.victim = sorted(roots)[-1]
        self.trust = trust
        self.reference = reference
        self.drill_pace_s = drill_pace_s  # between the drill's own rounds
        self.settings = ProbeSettings(round_s=round_s, lag_bound_s=lag_bound_s)
        self.report = WatchReport(out / "estado", victim=self.victim)
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one round at a time: the loop's or the drill's
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._mon: Monitor | None = None
        self.drilled = False
        self._drilled_ids: set[str] = set()
        self._drill: tuple[threading.Event, list[BaseException]] | None = None

    def start(self) -> None:
        """Serve every site (HTTPS with its redirect when there is TLS); the rounds begin after
        the first cut (:meth:`after_cut`)."""
        for name, site in self.sites.items():
            site.start()
            if site.tls is not None:
                self.redirects[name] = RedirectServer(site.url)
                self.redirects[name].start()

    def local_sites(self) -> dict[str, LocalSite]:
        return {n: LocalSite(s.url, self.redirects[n].url if n in self.redirects else s.url)
                for n, s in self.sites.items()}

    def after_cut(self, number: int, live: Callable[[], Mapping[str, CutId | None]]) -> None:
        """The runner's hook after each cut: after the first one, the rounds start in a thread
        of their own once that cut is live on every difusor (the runner goes on meanwhile)."""
        if self._thread is not None:
            return
        self._loop = asyncio.new_event_loop()  # its own thread: the caller may run a loop
        self._loop_thread = threading.Thread(target=self._loop.run_forever,
                                             name="simulacro-monitor-loop", daemon=True)
        self._loop_thread.start()
        self._mon = Monitor(MonitorOptions(
            self.registry, self.trust, self.reference, self.report.state, probe=self.settings))
        self._thread = threading.Thread(target=self._rounds, args=(number, live),
                                        name="simulacro-monitor", daemon=True)
        self._thread.start()

    def _wait_live(self, number: int, live: Callable[[], Mapping[str, CutId | None]]) -> None:
        """Until every difusor shows cut ``number`` (at most 120 s)."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not self._stop.is_set() and any(
                c is None or c.cut != number for c in live().values()):
            self._stop.wait(0.05)

    def drill_after(self, number: int, live: Callable[[], Mapping[str, CutId | None]]
                    ) -> threading.Thread | None:
        """Once the night's last cut ``number`` is live on every difusor (waited for here: the
        honest ones then show the institute's cut and nothing moves any more), the drill in a
        thread of its own, beside what the simulacro does after the night; None without rounds
        (no first cut)."""
        if self._thread is None:
            return None
        self._wait_live(number, live)
        failed: list[BaseException] = []
        # its own flag of having ended: a Thread.join cut short by Ctrl-C may leave the thread
        # marked as ended while it still runs (CPython 3.11), so nobody joins it for that
        done = threading.Event()

        def run() -> None:
            try:
                self.drill()
            except _Stopped:  # the night cut short: the drill ends where it was, put right
                pass
            except BaseException as exc:  # reported by join_drill
                failed.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=run, name="simulacro-drill", daemon=True)
        self._drill = (done, failed)
        thread.start()
        return thread

    def join_drill(self) -> None:
        if self._drill is None:
            return
        done, failed = self._drill
        done.wait()
        self._drill = None
        if failed:
            raise failed[0]

    def _round(self) -> None:
        assert self._loop is not None and self._mon is not None
        with self._lock:
            if self._loop.is_closed() or not self._loop.is_running():
                raise _Stopped  # the monitor's loop is gone: no round, no coroutine left behind
            t0 = time.monotonic()
            coro = self._mon.round()
            try:
                future = asyncio.run_coroutine_threadsafe(coro, self._loop)
            except RuntimeError:  # the loop closed meanwhile
                coro.close()
                raise _Stopped from None
            future.result()
            self.report.rounds += 1
            self.report.round_seconds.append(time.monotonic() - t0)

    def _rounds(self, first: int, live: Callable[[], Mapping[str, CutId | None]]) -> None:
        self._wait_live(first, live)  # the institute's publish root exists from the first cut on
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self._round()
            except _Stopped:
                return
            self._stop.wait(max(self.settings.round_s - (time.monotonic() - t0), 0.1))

    def _open(self, name: str, kind: str) -> bool:
        assert self._mon is not None
        return any(i.difusor == name and i.kind == kind for i in self._mon.incidents.open())

    def _paced_round(self) -> datetime:
        if self._stop.wait(self.drill_pace_s):
            raise _Stopped  # the night cut short: the drill ends here (and puts right)
        self._round()
        return datetime.now(UTC)

    def drill(self) -> None:
        """Each misbehaviour in turn on the victim, rounds until caught (at most 3), then put
        right and a round to close it. Call it while no cut is travelling."""
        self.drilled = True
        assert self._mon is not None
        before = {i.id for i in self._mon.incidents.items}
        try:
            self._drill_all()
        finally:  # the victim's incidents are the drill's, even of a drill cut short
            self._drilled_ids = {i.id for i in self._mon.incidents.items
                                 if i.id not in before and i.difusor == self.victim}

    def _drill_all(self) -> None:
        site = self.sites[self.victim]
        assert self._mon is not None
        for kind in DRILL:
            if kind == "stale":  # a cut behind is late once the lag bound has passed
                cur = self._mon.reference.current()
                if cur is not None:
                    late = (datetime.now(UTC) - cur.published_at).total_seconds()
                    if self._stop.wait(max(self.settings.lag_bound_s + 1 - late, 0.0)):
                        raise _Stopped
            with self._lock:  # never in the middle of a round
                started = datetime.now(UTC)
                undo = misbehave(kind, site.root, site)
                if kind == "number":  # the victim's full sweep (one cut interval on the night)
                    self._mon.prober.sweep = {self.victim}
            caught: datetime | None = None
            rounds = 0
            try:
                while rounds < CATCH_ROUNDS and caught is None:
                    rounds += 1
                    end = self._paced_round()
                    if self._open(self.victim, EXPECTED[kind]):
                        caught = end
                if kind == "down":
                    for _ in range(DOWN_ROUNDS - rounds):
                        self._paced_round()
            finally:
                with self._lock:
                    undo()
                    self._mon.prober.sweep = set()
            closed = self._paced_round()
            self.report.drill.append(DrillRecord(
                kind, self.victim, started, caught, rounds,
                None if self._open(self.victim, EXPECTED[kind]) else closed))

    def stop(self, *, cut_short: bool = False) -> WatchReport:
        """Stop the rounds, the monitor and the sites. ``cut_short`` (the night failed or was
        interrupted): a drill under way ends at its next round, put right, and no last round."""
        if cut_short:
            self._stop.set()
        if self._drill is not None:  # a drill cut short by a failure elsewhere: let it end
            self._drill[0].wait(120)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        if self._loop is not None and self._mon is not None:
            if not cut_short:
                with contextlib.suppress(_Stopped):
                    self._round()  # the night's last word: every difusor on the last cut
            with self._lock:  # no round of the drill's may still be on the loop
                asyncio.run_coroutine_threadsafe(self._mon.close(), self._loop).result()
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._loop_thread is not None:
                    self._loop_thread.join(10)
                self._loop.close()
            incidents = self._mon.incidents.items
            self.report.honest_flagged = [  # any incident but the drill's
                f"{i.difusor}: {i.kind} ({i.what}: {'; '.join(i.evidence[:2])})"
                for i in incidents if i.id not in self._drilled_ids]
        for site in self.sites.values():
            site.stop()
        for redirect in self.redirects.values():
            redirect.stop()
        return self.report
