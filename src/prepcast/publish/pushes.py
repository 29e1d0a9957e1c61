"""The runner's pushes of its published cuts: one at a time, each outcome in the state.

A push runs in the deliveries' own process (:mod:`prepcast.publish.deliver`) while the next
cut builds; when it ends, its outcome per difusor goes into the state, and the institute's root
notes the time it went out (``pushed.json``, the monitor's reference). A push that ended with
failures is due again every ``retry_every`` seconds until the next cut.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.difusor.activate import ReleaseStore
from prepcast.distribution import PushReport
from prepcast.package import CutId
from prepcast.publish.deliver import Deliveries
from prepcast.publish.options import OnPushed
from prepcast.publish.state import NightState, now

log = logging.getLogger(__name__)


class NightPushes:
    """The push of the last published cut, and what became of it."""

    def __init__(self, state: NightState, deliveries: Deliveries, store: ReleaseStore,
                 ejercicio: str, *, on_pushed: OnPushed | None = None) -> None:
        self.state = state
        self.deliveries = deliveries
        self.store = store
        self.ejercicio = ejercicio
        self.on_pushed = on_pushed
        self._push: tuple[int, Future[PushReport], threading.Event] | None = None

    def start(self, number: int, release: Path,
              known: dict[str, tuple[str, int]] | None = None) -> None:
        """Push cut ``number`` from ``release``; ``known``: the files already verified against
        its manifest (not hashed again by the pusher)."""
        self.state.step(number, "push", started=now().isoformat())
        future = self.deliveries.push(release, known)
        recorded = threading.Event()
        self._push = (number, future, recorded)

        def done(f: Future[PushReport]) -> None:
            try:
                self._pushed(number, f)
            finally:
                recorded.set()

        future.add_done_callback(done)

    def finish(self) -> None:
        """Wait until the push under way (if any) ended and was recorded."""
        if self._push is not None:
            _, _, recorded = self._push
            recorded.wait()
            self._push = None

    def due_again(self, retry_every: float) -> int | None:
        """The cut whose push ended with failures at least ``retry_every`` seconds ago."""
        if self._push is None or not self._push[2].is_set():
            return None
        number = self._push[0]
        push = self.state.cut(number)["steps"].get("push", {})
        if not (push.get("failed") or push.get("error")):
            return None
        ended = datetime.fromisoformat(push.get("ended") or push["started"])
        return number if (now() - ended).total_seconds() >= retry_every else None

    def _pushed(self, number: int, future: Future[PushReport]) -> None:
        report: PushReport | None = None
        error: str | None = None
        try:
            report = future.result()
        except Exception as exc:  # recorded; the next round tries again
            error = str(exc) or type(exc).__name__
        with self.state.lock:
            push = dict(self.state.cut(number)["steps"].get("push", {}))
            push.update(ended=now().isoformat(), error=error)
            if report is not None:
                push.update(failed=report.failed, difusores=outcomes(report),
                            seconds=round(report.seconds_to_serving, 3))
            else:
                push["failed"] = ["*"]
            self.state.cut(number)["steps"]["push"] = push
            self.state.save()
        if report is not None:  # gone out (to some, maybe not all): the monitor's reference
            try:
                self.store.mark_pushed(CutId.of(self.ejercicio, number), now())
            except OSError as exc:  # the night goes on; the monitor judges by the publish time
                log.warning("%s: %s", self.store.root, exc)
        if self.on_pushed is not None:
            self.on_pushed(number, report, error)


def outcomes(report: PushReport) -> dict[str, dict[str, Any]]:
    """Each difusor's outcome of a push, per phase, as the state records it."""
    out: dict[str, dict[str, Any]] = {}
    for phase, by_name in (("stage", report.staged), ("activate", report.activated),
                           ("refused", report.refused)):
        for name, o in by_name.items():
            d = out.setdefault(name, {})
            d[phase] = {"ok": o.ok, "error": o.error, "seconds": round(o.seconds, 3)}
    return out
