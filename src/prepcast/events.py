"""The event vocabulary: one home for what the difusor daemon and the institute's monitor record.

Every event is one JSON object on its own line (an event log) with at least ``time`` (ISO 8601
with its UTC offset) and ``event`` (a name below). The difusor daemon writes the daemon events
(:data:`DAEMON_EVENTS`); the institute's monitor writes probe events (:data:`PROBE_EVENTS`),
``probe.up`` and ``probe.down`` with the ``difusor`` probed and the ``evidence`` (status code,
error, digest seen). ``prepcast report`` reads both through :func:`normalise`.

Like :mod:`prepcast.errors`, this module imports nothing else of prepcast, so every part (the
daemon, the monitor, the stand-alone analytics) can share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Daemon events ------------------------------------------------------------------------------
STARTED = "started"
RECEIVED = "received"
VERIFIED = "verified"
REJECTED = "rejected"
QUARANTINED = "quarantined"
WAITING = "waiting"
CLOCK_OFF = "clock_off"
ACTIVATED = "activated"
PURGED = "purged"
PURGE_FAILED = "purge_failed"
PRUNED = "pruned"
RECOVERED = "recovered"
ERROR = "error"
STOPPED = "stopped"
# Monitor (probe) events ---------------------------------------------------------------------
PROBE_UP = "probe.up"
PROBE_DOWN = "probe.down"


@dataclass(frozen=True)
class EventSpec:
    """One event: who writes it, the fields it always carries and those it may carry."""

    name: str
    source: str  # "daemon" or "monitor"
    required: tuple[str, ...]
    optional: tuple[str, ...]
    warning: bool  # worth an operator's attention (logged as a warning)
    meaning: str


_COMMON = ("time", "event")
SPECS: tuple[EventSpec, ...] = (
    EventSpec(STARTED, "daemon", (), ("difusor", "live_cut", "sftp_port", "message"), False,
              "the daemon started (a later start than the first is a restart)"),
    EventSpec(RECEIVED, "daemon", ("cut",), ("difusor", "bytes"), False,
              "an archive of a cut arrived in the inbox"),
    EventSpec(VERIFIED, "daemon", ("cut",), ("difusor", "digest", "files"), False,
              "a cut passed verification"),
    EventSpec(REJECTED, "daemon", ("cut",), ("difusor", "failures", "live_cut", "duration_s"),
              True, "a cut failed verification or activation and was not published"),
    EventSpec(QUARANTINED, "daemon", ("entry",), ("difusor", "reason", "moved_to"), True,
              "an inbox entry was moved aside to the quarantine folder"),
    EventSpec(WAITING, "daemon", ("cut",), ("difusor", "not_before"), False,
              "a verified cut waits for its embargo"),
    EventSpec(CLOCK_OFF, "daemon", (), ("difusor", "offset_s", "source", "message"), True,
              "the server's clock is off; no cut is activated until it is corrected"),
    EventSpec(ACTIVATED, "daemon", ("cut",),
              ("difusor", "digest", "previous", "late_seconds", "switch_ms", "message"), False,
              "a cut went live"),
    EventSpec(PURGED, "daemon", ("cut",), ("difusor", "command", "webhook"), False,
              "the CDN cache was purged after a cut"),
    EventSpec(PURGE_FAILED, "daemon", ("cut",),
              ("difusor", "command", "webhook", "status", "error"), True,
              "the CDN cache could not be purged after a cut"),
    EventSpec(PRUNED, "daemon", ("cuts",), ("difusor",), False, "old releases were removed"),
    EventSpec(RECOVERED, "daemon", (), ("difusor", "removed"), False,
              "leftovers of an interrupted run were cleaned up at start"),
    EventSpec(ERROR, "daemon", ("error",), ("difusor", "cut", "duration_s"), True,
              "an unexpected error in the daemon"),
    EventSpec(STOPPED, "daemon", (), ("difusor", "live_cut"), False, "the daemon stopped"),
    EventSpec(PROBE_UP, "monitor", ("difusor",), ("url", "evidence", "cut", "latency_ms"), False,
              "the institute's monitor reached the difusor's public site and it served the PREP"),
    EventSpec(PROBE_DOWN, "monitor", ("difusor", "evidence"), ("url", "cut", "latency_ms"), True,
              "the institute's monitor could not get the PREP from the difusor's public site"),
)
EVENTS: dict[str, EventSpec] = {s.name: s for s in SPECS}
DAEMON_EVENTS: tuple[str, ...] = tuple(s.name for s in SPECS if s.source == "daemon")
PROBE_EVENTS: tuple[str, ...] = (PROBE_UP, PROBE_DOWN)
WARNING_EVENTS: frozenset[str] = frozenset(s.name for s in SPECS if s.warning)

# Names written by earlier versions (and by hand-made event logs) → the names above.
LEGACY_NAMES: dict[str, str] = {
    "daemon_started": STARTED,
    "daemon_stopped": STOPPED,
    "cut_activated": ACTIVATED,
    "verification_failed": REJECTED,
    "activation_failed": REJECTED,
    "daemon_error": ERROR,
    "clock_error": CLOCK_OFF,
}


def schema() -> dict[str, Any]:
    """The JSON schema of one event line (draft 2020-12)."""
    branches = [
        {"if": {"properties": {"event": {"const": s.name}}},
         "then": {"required": list(s.required)}}
        for s in SPECS if s.required
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "prepcast event",
        "type": "object",
        "required": list(_COMMON),
        "properties": {
            "time": {"type": "string", "format": "date-time"},
            "event": {"type": "string", "enum": [s.name for s in SPECS]},
            "difusor": {"type": "string"},
            "cut": {"type": ["integer", "string", "null"]},
            "message": {"type": "string"},
            "evidence": {"type": ["string", "object"]},
            "duration_s": {"type": "number", "minimum": 0},
            "late_seconds": {"type": "number"},
        },
        "allOf": branches,
    }


def parse_time(value: Any) -> datetime | None:
    """An event's ``time``: ISO 8601 with an offset (``Z`` too); None when missing or naive."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def normalise(record: dict[str, Any]) -> str:
    """The vocabulary's name for ``record``'s event (legacy names and ``probe``+``ok`` mapped)."""
    name = record.get("event")
    if not isinstance(name, str):
        return ""
    if name == "probe":  # earlier form: {"event": "probe", "ok": true|false}
        return PROBE_UP if record.get("ok") is True else PROBE_DOWN
    return LEGACY_NAMES.get(name, name)


def problems(record: Any) -> list[str]:
    """What is wrong with one event line (empty when it follows the vocabulary)."""
    if not isinstance(record, dict):
        return ["not a JSON object"]
    found = []
    if parse_time(record.get("time")) is None:
        found.append("time: needs an ISO 8601 time with offset")
    name = normalise(record)
    if not name:
        found.append("event: needs the event's name")
    elif name in EVENTS:
        spec = EVENTS[name]
        found += [f"{key}: required by {name}" for key in spec.required if key not in record]
    return found
