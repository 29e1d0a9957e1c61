"""When each cut of the schedule is due on this machine's clock, and the clock check at start.

Cut *n* of the proceso is at ``cut_time(n)``. Played at ``speed`` 1 it is due at that very
instant; at ``speed`` N the schedule starts at ``origin`` (when the runner first started) and
runs N times faster; at ``speed`` None every cut is due as soon as the previous one is done
(the simulacro on a laptop). ``origin`` is kept in the runner's state, so a resumed night keeps
its timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prepcast.difusor.clock import clock_offset
from prepcast.election import Proceso, cut_time
from prepcast.errors import PrepcastError


@dataclass(frozen=True)
class Timeline:
    proceso: Proceso
    origin: datetime  # the wall-clock instant at which cut 1 is due
    speed: float | None  # None: no waiting at all
    until: datetime | None = None

    @property
    def total(self) -> int:
        """The number of the last cut to play (the proceso's last, or the last before ``until``)."""
        times = self.proceso.cut_times()
        if self.until is not None:
            times = [t for t in times if t <= self.until]
        return len(times)

    def due(self, number: int) -> datetime:
        """The wall-clock instant at which cut ``number`` is due."""
        if self.speed is None:
            return self.origin
        offset = cut_time(self.proceso, number) - self.proceso.start
        return self.origin + offset / self.speed

    def next_cut(self, done: int, now: datetime) -> int | None:
        """The cut to build after cut ``done``: the latest one already due (the ones before it
        are skipped, being older than it), or the next one when none is due yet; None when the
        night is over."""
        if done >= self.total:
            return None
        if self.speed is None:
            return done + 1
        n = done + 1
        while n < self.total and self.due(n + 1) <= now:
            n += 1
        return n

    def interval(self) -> timedelta:
        step = timedelta(minutes=self.proceso.cut_minutes)
        return step if self.speed is None else step / self.speed


def check_clock(server: str, port: int, bound: float) -> float:
    """The machine's clock offset from ``server``; refuses (raises) beyond ``bound`` seconds."""
    offset = clock_offset(server, port)
    if abs(offset) > bound:
        side = "behind" if offset > 0 else "ahead of"
        raise ClockError(f"this machine's clock is {abs(offset):.1f} s {side} {server}:{port} "
                         f"(bound {bound:g} s): set the clock (NTP) before the night; "
                         "refusing to start")
    return offset


class ClockError(PrepcastError):
    """The machine's clock is too far from the NTP server's."""


def parse_origin(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
