"""The night runner: every scheduled cut built, verified, published and pushed, crash or not.

For each cut, when it is due (:mod:`prepcast.publish.timeline`)::

    build (incremental; or the package already built for it, verified again)
      → verify against the cut published before it
      → publish in --publish-root (releases/<tag>/, then one rename of `current`)
      → push to every active difusor of the registry (read again before every push),
        while the next cut is built
      → note in --publish-root when the push ended (``pushed.json``): the monitor judges a
        difusor behind only against a cut that has gone out, from that time on

Every step is recorded in the state (:mod:`prepcast.publish.state`) before the next begins. A
cut slower than the interval delays the next one, never overlaps it; the cuts whose time passed
meanwhile are skipped for the newest one due. SIGTERM stops after the current step. Started
again with the same state, the runner goes on from what the institute's root shows: it never
publishes an older cut over a newer one, a cut's package is the same bytes however often it is
built (its times come from the schedule), and the last published cut is pushed again unless
every difusor confirmed it.

What it is told and tells back: :mod:`prepcast.publish.options`; the institute's root and the
built packages: :mod:`prepcast.publish.releases`; its pushes: :mod:`prepcast.publish.pushes`.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.difusor.activate import ReleaseStore
from prepcast.election import ElectionDir, cut_time, load_election_dir
from prepcast.election.catalog import read_proceso
from prepcast.election.columnar import ColumnElection
from prepcast.errors import InputError, IntegrityError, PrepcastError
from prepcast.package import CutId, Ejercicio, Manifest, load_manifest, load_signer, verify_package
from prepcast.package.keys import ROOT_PUB
from prepcast.publish.cut import (
    EXPIRES_AFTER_END,
    CutBuilder,
    open_election,
    prepare_night,
    proceso_id,
    registry_public_list,
)
from prepcast.publish.deliver import Deliveries
from prepcast.publish.locks import night_locks
from prepcast.publish.options import CutDone, OnCut, OnPushed, RebuiltDiffers, RunOptions
from prepcast.publish.pushes import NightPushes
from prepcast.publish.releases import (
    KEEP_RELEASES,
    package_of,
    prune_packages,
    publish_release,
    remove_temporaries,
)
from prepcast.publish.state import (
    DELIVERIES,
    OUTBOX,
    PACKAGES,
    NightState,
    check_deliveries,
    now,
    preparation_es,
)
from prepcast.publish.timeline import Timeline, check_clock

__all__ = ["CutDone", "NightRunner", "RebuiltDiffers", "RunOptions", "open_night_election"]

log = logging.getLogger(__name__)


def open_night_election(path: Path) -> ElectionDir | ColumnElection:
    """The election a night builds its cuts from, read once: a national proceso on columns
    when its files allow it (:func:`prepcast.publish.cut.open_election`; on rows, tens of
    seconds a cut and of reading), a state's on rows (:func:`prepcast.publish.cut.night_engine`:
    the night's incremental tally is as fast there)."""
    if read_proceso(path / "election.toml").nacional:
        return open_election(path)
    return load_election_dir(path)


class NightRunner:
    def __init__(self, opts: RunOptions, *, on_cut: OnCut | None = None,
                 on_pushed: OnPushed | None = None,
                 ed: ElectionDir | ColumnElection | None = None) -> None:
        self.opts = opts
        self.on_cut = on_cut
        self.on_pushed = on_pushed
        self._ed = ed
        self.stop_requested = threading.Event()
        try:
            self.ejercicio = Ejercicio.parse(opts.ejercicio).name
        except ValueError as exc:
            raise PrepcastError(f"--ejercicio: {exc}") from None

    # --- the night --------------------------------------------------------------------------------

    def run(self) -> NightState:
        o = self.opts
        if o.ntp_server is not None:
            offset = check_clock(o.ntp_server, o.ntp_port, o.max_clock_offset)
            log.info("clock within %.3f s of %s", offset, o.ntp_server)
        self.signer = load_signer(o.keys)
        self.trust = o.keys / ROOT_PUB
        # every input checked before anything is created (state, releases)
        if o.registry is not None:
            from prepcast.registry import load_registry

            load_registry(o.registry)
        check_deliveries(o.state)
        # one runner per state, per publish root and per registry, refused before anything
        with night_locks(o.state, o.publish_root, o.registry):
            return self._run_locked()

    def _run_locked(self) -> NightState:
        o = self.opts
        self.state = NightState.open(o.state)
        t0 = time.perf_counter()
        ed = self._ed or self._open_election()
        self._read_seconds = time.perf_counter() - t0
        self.ed: ElectionDir | ColumnElection = ed
        self.store = ReleaseStore(o.publish_root)
        self.store.recover()
        self._settle_settings(ed)
        self.store.keep_pushed()  # the monitor's reference: nothing has gone out until a push ends
        self.timeline = Timeline(ed.proceso, datetime.fromisoformat(self.state.doc["origin"]),
                                 o.speed, o.until)
        self.builder: CutBuilder | None = None
        self._registry_read = False  # the registry's public list read for a cut already
        self.packages = o.state / PACKAGES
        self.packages.mkdir(exist_ok=True)
        remove_temporaries(self.packages)
        deliveries = Deliveries(o.registry, o.state / DELIVERIES, o.state / OUTBOX,
                                wait_for_embargo=o.speed == 1.0, retry_delay=o.retry_delay,
                                replace_same_cut=o.replace_same_cut,
                                verify_reused=o.verify_reused)
        self.pushes = NightPushes(self.state, deliveries, self.store, self.ejercicio,
                                  on_pushed=self.on_pushed)
        try:
            self._night()
        finally:
            self.pushes.finish()
            deliveries.close()
        return self.state

    def _night(self) -> None:
        done = self._resume()
        while not self.stop_requested.is_set():
            number = self.timeline.next_cut(done, now())
            if number is None:
                self.state.note("fin de la noche: último corte publicado")
                break
            if self.builder is None:
                self._prepare(number)
            if not self._wait_until(self.timeline.due(number)):
                break
            number = self.timeline.next_cut(done, now()) or number
            for skipped in range(done + 1, number):
                self.state.cut(skipped)["skipped"] = True
            try:
                self._one_cut(number)
            except RebuiltDiffers as exc:  # the correction goes out with the next cut
                self.state.cut(number)["skipped"] = True
                self.state.note(f"corte {number} no publicado: {exc}")
                log.error("%s", exc)
            done = number

    def _resume(self) -> int:
        """The last cut published (from the institute's root and the state); pushed again unless
        every difusor confirmed it."""
        live = self.store.live_cut()
        number = self.state.published() or 0
        if live is not None and live.ejercicio.name == self.ejercicio and live.cut > number:
            number = live.cut  # published just before a crash, not yet recorded
            self.state.step(number, "publish", release=live.tag, recovered=True)
        if number:
            entry = self.state.cut(number)
            push = entry["steps"].get("push")
            if push is None or push.get("failed") or "ended" not in push:
                self.state.note(f"reanudando: corte {number} se envía de nuevo")
                self.pushes.start(number, self._package_of(number))
        return number

    def _open_election(self) -> ElectionDir | ColumnElection:
        """The election, read once (:func:`open_night_election`); on rows for a drop folder's
        night (each drop brings the feeds)."""
        if self.opts.drops is not None:
            return load_election_dir(self.opts.election)
        return open_night_election(self.opts.election)

    def _prepare(self, first: int) -> None:
        """The night's builder and what every cut reads (:func:`prepare_night`), made before
        the first cut it builds is due, so no cut pays it; said in the state and the log."""
        self.builder, prep = prepare_night(self.ed, self.signer, difusores=self.opts.difusores,
                                           ejercicio=self.ejercicio, first=first)
        prep["lectura_s"] = round(prep["lectura_s"] + self._read_seconds, 3)
        self.state.doc["preparacion"] = {**prep, "at": now().isoformat()}
        text = f"preparación de la noche: {preparation_es(prep)}"
        log.info("%s", text)
        self.state.note(text)

    def _settle_settings(self, ed: ElectionDir | ColumnElection) -> None:
        doc = self.state.doc
        proceso = proceso_id(ed.proceso)
        if "ejercicio" in doc:
            if doc["ejercicio"] != self.ejercicio:
                raise InputError(
                    f"{self.state.path}: this state is of ejercicio {doc['ejercicio']}, not "
                    f"{self.ejercicio}; each ejercicio runs with a --state of its own")
            if doc["proceso"] != proceso:
                raise InputError(f"{self.state.path}: this state is of proceso "
                                    f"{doc['proceso']}, not {proceso}")
        live = self.store.live_cut()
        if live is not None and live.ejercicio > Ejercicio.parse(self.ejercicio):
            raise IntegrityError(f"{self.opts.publish_root} already shows {live}: "
                                 f"{self.ejercicio} comes before it and is never published "
                                 "over it")
        if "origin" not in doc:
            speed = self.opts.speed
            origin = ed.proceso.start if speed == 1.0 else now()
            doc.update(ejercicio=self.ejercicio, proceso=proceso, origin=origin.isoformat(),
                       speed=speed, election=str(self.opts.election.resolve()),
                       publish_root=str(self.opts.publish_root.resolve()),
                       registry=str(self.opts.registry.resolve()) if self.opts.registry else None,
                       cut_minutes=ed.proceso.cut_minutes, started=now().isoformat())
        doc.update(pid=os.getpid(), running_since=now().isoformat(),
                   total=Timeline(ed.proceso, now(), None, self.opts.until).total,
                   until=self.opts.until.isoformat() if self.opts.until else None,
                   cut_times={str(i + 1): t.isoformat()
                              for i, t in enumerate(ed.proceso.cut_times())})
        self.state.note(f"inicio del ejecutor (pid {os.getpid()})")

    def _wait_until(self, when: datetime) -> bool:
        """Wait for ``when``; meanwhile push the last cut again to whoever failed it."""
        while not self.stop_requested.is_set():
            left = (when - now()).total_seconds()
            if left <= 0:
                return True
            self._retry_failed()
            self.stop_requested.wait(min(left, 1.0))
        return False

    def _retry_failed(self) -> None:
        """A push that ended with failures is tried again every ``retry_every`` seconds until the
        next cut (the pusher sends each difusor only what it lacks)."""
        number = self.pushes.due_again(self.opts.retry_every)
        if number is not None:
            self.state.note(f"corte {number}: se envía de nuevo a quien falló")
            self.pushes.start(number, self._package_of(number))

    # --- one cut ----------------------------------------------------------------------------------

    def _one_cut(self, number: int) -> None:
        cid = CutId.of(self.ejercicio, number)
        due = self.timeline.due(number)
        live = self.store.live_cut()
        last = self.store.live_dir()
        previous = last if live is not None and live.ejercicio == cid.ejercicio else None
        if live is not None and live >= cid:
            raise IntegrityError(f"{self.opts.publish_root} already shows {live}; {cid} is not "
                                 "newer (never published over a newer cut)")
        pkg = self.packages / cid.tag
        self._check_registry(number)
        t0 = time.perf_counter()
        manifest = self._reuse(pkg, last, previous)
        reused = manifest is not None
        if manifest is None:
            manifest = self._build(number, pkg, previous)
        t1 = time.perf_counter()
        self.state.step(number, "build", digest=manifest.digest, seconds=round(t1 - t0, 3),
                        reused=reused, previous=manifest.previous)
        if self.stop_requested.is_set():
            return
        verify_package(pkg, self.trust, last=last)
        t2 = time.perf_counter()
        self.state.step(number, "verify", seconds=round(t2 - t1, 3))
        if self.stop_requested.is_set():
            return
        publish_release(self.store, pkg, cid)
        t3 = time.perf_counter()
        self.state.step(number, "publish", release=cid.tag, seconds=round(t3 - t2, 3))
        if self.stop_requested.is_set():
            return
        self.pushes.finish()  # never two pushes at once
        started = now()
        # the files just verified against the manifest are not hashed again by the pusher
        self.pushes.start(number, pkg, {p: (e.sha256, e.size) for p, e in manifest.files.items()})
        # while it travels: what is no longer needed (the package pushed until now, old releases)
        prune_packages(self.packages, cid)
        self.store.prune(KEEP_RELEASES)
        if self.on_cut is not None:
            self.on_cut(CutDone(number, pkg, manifest, t1 - t0, t2 - t1, t3 - t2, due, started))

    def _check_registry(self, number: int) -> None:
        """A registry that cannot be read now (edited by hand during the night): the cut goes
        out with the last registry read (its difusores, its public list), and that is said at
        every cut until it reads again: on stderr, in the state's log and in ``night status``
        (``registro_ilegible``)."""
        path = self.opts.registry
        if path is None:
            return
        from prepcast.registry import load_registry

        doc = self.state.doc
        try:
            load_registry(path)
        except PrepcastError as exc:
            error = " ".join(str(exc).split())
            since = (doc.get("registro_ilegible") or {}).get("desde_corte", number)
            doc["registro_ilegible"] = {"archivo": str(path), "error": error, "corte": number,
                                        "desde_corte": since, "at": now().isoformat()}
            text = (f"corte {number}: el registro {path} no se puede leer ({error}); se envía "
                    "con el último registro válido")
            log.warning("%s", text)
            self.state.note(text)
            return
        if doc.pop("registro_ilegible", None) is not None:
            self.state.note(f"corte {number}: el registro {path} se lee de nuevo")

    def _reuse(self, pkg: Path, last: Path | None, previous: Path | None) -> Manifest | None:
        """The package built for this cut before a crash, if it is whole and chains as now."""
        if not pkg.is_dir():
            return None
        try:
            m = verify_package(pkg, self.trust, last=last)
        except PrepcastError:
            shutil.rmtree(pkg, ignore_errors=True)
            return None
        prev = load_manifest(previous).digest if previous is not None else None
        if m.previous != prev:
            shutil.rmtree(pkg, ignore_errors=True)
            return None
        return m

    def _build(self, number: int, pkg: Path, previous: Path | None) -> Manifest:
        m = self._build_package(number, pkg, previous)
        for earlier in self._builds_of(number):
            if earlier["previous"] == m.previous and earlier["digest"] != m.digest:
                shutil.rmtree(pkg, ignore_errors=True)
                raise RebuiltDiffers(f"cut {number} built again gives manifest {m.digest}, not "
                                     f"{earlier['digest']} as before: the capture feed of its "
                                     "time changed; not publishing it")
        self.state.record_build(number, m.digest, m.previous)
        return m

    def _build_package(self, number: int, pkg: Path, previous: Path | None) -> Manifest:
        """Cut ``number`` from the election directory's capture feed (incrementally)."""
        if self.builder is None:
            self._prepare(number)
        assert self.builder is not None
        if self.opts.registry is not None and not self.opts.difusores:  # the registry's list
            self.builder.difusores = registry_public_list(
                self.opts.registry, self.builder.difusores if self._registry_read else None)
            self._registry_read = True
        return self.builder.build(cut_time(self.ed.proceso, number), pkg, previous=previous,
                                  not_before=self._replay_embargo(number))

    def _replay_embargo(self, number: int) -> datetime | None:
        """A night replayed after its packages would have expired (a past election played
        again as a drill) takes each cut's embargo at the time it is due in this run, so the
        difusores' daemons, which refuse expired packages, take it; None otherwise."""
        due = self.timeline.due(number)
        if max(self.ed.proceso.end, cut_time(self.ed.proceso, number)) + EXPIRES_AFTER_END > due:
            return None
        return due

    def _builds_of(self, number: int) -> list[dict[str, Any]]:
        return [b for b in self.state.builds() if b["cut"] == number]

    def _package_of(self, number: int) -> Path:
        """The package of published cut ``number``, exactly (:func:`package_of`)."""
        return package_of(self.packages, self.store, CutId.of(self.ejercicio, number))
