"""The cut schedule of an election night: cut n is at ``start + (n - 1) * cut_minutes``."""

from __future__ import annotations

from datetime import datetime, timedelta

from prepcast.election.model import Proceso
from prepcast.errors import InputError


def cut_number(proceso: Proceso, at: datetime) -> int:
    """The number of the latest scheduled cut at or before ``at`` (1 for the first)."""
    if at.tzinfo is None:
        raise InputError(f"time {at.isoformat()} needs a UTC offset")
    if at < proceso.start:
        raise InputError(f"{at.isoformat()} is before the first cut ({proceso.start.isoformat()})")
    step = timedelta(minutes=proceso.cut_minutes)
    n = int((min(at, proceso.end) - proceso.start) // step) + 1
    return n


def cut_time(proceso: Proceso, number: int) -> datetime:
    return (proceso.start + timedelta(minutes=proceso.cut_minutes) * (number - 1)).astimezone(proceso.tz)


def is_last_cut(proceso: Proceso, number: int) -> bool:
    return cut_time(proceso, number + 1) > proceso.end


def parse_time(text: str, proceso: Proceso, option: str = "--at") -> datetime:
    """A command-line time: ISO 8601; without an offset, the proceso's own."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date-time like 2024-06-02T23:40-06:00") from None
    return t if t.tzinfo else t.replace(tzinfo=proceso.tz)
