"""The daemon's record of every step: JSON lines in an event log (the report reads it) and syslog.

Each line: ``{"time": "<ISO 8601 UTC>", "event": "<name>", "difusor": "<name>", ...details}``.
The names, their fields and the JSON schema live in :mod:`prepcast.events` (shared with the
monitor's probe events and the report).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prepcast.events import DAEMON_EVENTS, WARNING_EVENTS

log = logging.getLogger("prepcast.difusor")

EVENTS = DAEMON_EVENTS


class EventLog:
    """Appends one JSON object per line (flushed and fsync'd) and mirrors it to syslog."""

    def __init__(self, path: Path | None, *, difusor: str = "", syslog: bool = False) -> None:
        self.path = path
        self.difusor = difusor
        self._lock = threading.Lock()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []  # told every record
        self._syslog: logging.Logger | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if syslog and os.path.exists("/dev/log"):
            logger = logging.getLogger("prepcast.difusor.syslog")
            if not logger.handlers:
                handler = logging.handlers.SysLogHandler(
                    address="/dev/log", facility=logging.handlers.SysLogHandler.LOG_DAEMON)
                handler.setFormatter(logging.Formatter("prepcast-difusor: %(message)s"))
                logger.addHandler(handler)
                logger.propagate = False
            logger.setLevel(logging.INFO)
            self._syslog = logger

    def emit(self, event: str, **details: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                                  "event": event}
        if self.difusor:
            record["difusor"] = self.difusor
        record.update(details)
        line = json.dumps(record, ensure_ascii=False, sort_keys=False, default=str)
        level = logging.WARNING if event in WARNING_EVENTS else logging.INFO
        log.log(level, "%s", line)
        if self._syslog is not None:
            self._syslog.log(level, "%s", line)
        if self.path is not None:
            with self._lock, open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
        for listener in self.listeners:
            listener(record)
        return record


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event of a log, skipping a torn last line."""
    out: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return out
    for raw in text.splitlines():
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out
