"""The history of every difusor: status changes and deliverables, append-only, with who/when/why.

One JSON object per line (``historial.jsonl`` beside the registry unless ``history`` says
otherwise); each line carries the SHA-256 of the line before it (``prev``), so an edited or
deleted line breaks the chain and the registry is refused until it is repaired::

    {"at": "2024-05-21T10:02:11+00:00", "difusor": "el-sol", "kind": "status",
     "status": "validado", "by": "uie-ana", "why": "pasó todas las pruebas", "prev": "…"}
    {"at": "…", "difusor": "el-sol", "kind": "entrega", "entrega": "simulacro-1", "by": …}

Statuses: aspirante → validado → activo → bloqueado | baja. A difusor with no recorded change is
an aspirante. ``unblock`` returns a blocked difusor to the status it had before the block.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prepcast.errors import InputError, Problem
from prepcast.files import read_bytes
from prepcast.registry.model import STATUSES

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "aspirante": ("validado", "bloqueado", "baja"),
    "validado": ("activo", "aspirante", "bloqueado", "baja"),
    "activo": ("validado", "bloqueado", "baja"),
    "bloqueado": ("baja",),     # otherwise only ``unblock``: back to the status before the block
    "baja": (),
}
GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    """One line of the history."""

    at: datetime
    difusor: str
    kind: str                 # "status" or "entrega"
    value: str                # the new status, or the deliverable
    by: str
    why: str
    line: int = 0

    def as_json(self) -> dict[str, str]:
        key = "status" if self.kind == "status" else "entrega"
        return {"at": self.at.isoformat(), "difusor": self.difusor, "kind": self.kind,
                key: self.value, "by": self.by, "why": self.why}


@dataclass(frozen=True)
class History:
    events: tuple[Event, ...]

    def status_of(self, name: str) -> str:
        status = "aspirante"
        for e in self.events:
            if e.difusor == name and e.kind == "status":
                status = e.value
        return status

    def of(self, name: str) -> list[Event]:
        return [e for e in self.events if e.difusor == name]

    def delivered(self, name: str) -> dict[str, Event]:
        """Deliverables recorded for ``name`` (the first time each was recorded)."""
        out: dict[str, Event] = {}
        for e in self.events:
            if e.difusor == name and e.kind == "entrega":
                out.setdefault(e.value, e)
        return out

    def ever(self, name: str, status: str) -> bool:
        return any(e.difusor == name and e.kind == "status" and e.value == status
                   for e in self.events)

    def before_block(self, name: str) -> str:
        """The status ``name`` had before its latest block."""
        previous = "aspirante"
        last_other = "aspirante"
        for e in self.events:
            if e.difusor == name and e.kind == "status":
                if e.value == "bloqueado":
                    previous = last_other
                else:
                    last_other = e.value
        return previous


def read_history(path: Path | None) -> History:
    """The history at ``path`` (an empty one if the file does not exist yet)."""
    if path is None or not path.exists():
        return History(())
    problems: list[Problem] = []
    events: list[Event] = []
    prev = GENESIS
    data = read_bytes(path, what="history")
    for n, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if obj.get("prev") != prev:
                problems.append(Problem(str(path), "the history was edited: this line does not "
                                        "follow the one before it (append-only)", n, "prev"))
            kind = str(obj["kind"])
            value = str(obj["status"] if kind == "status" else obj["entrega"])
            at = datetime.fromisoformat(str(obj["at"]))
            if kind == "status" and value not in STATUSES:
                problems.append(Problem(str(path), f"unknown status {value!r}", n, "status"))
            events.append(Event(at, str(obj["difusor"]), kind, value, str(obj.get("by", "")),
                                str(obj.get("why", "")), n))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(str(path), f"not a history line: {exc}", n))
        prev = hashlib.sha256(raw).hexdigest()
    if problems:
        raise InputError(problems)
    return History(tuple(events))


def append(path: Path, events: Iterable[Event]) -> None:
    """Append ``events`` under an exclusive lock, each chained to the line before it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, "rb") as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        prev = hashlib.sha256(lines[-1]).hexdigest() if lines else GENESIS
        out = b""
        for e in events:
            line = json.dumps({**e.as_json(), "prev": prev}, ensure_ascii=False).encode()
            out += line + b"\n"
            prev = hashlib.sha256(line).hexdigest()
        os.write(fd, out)
        os.fsync(fd)
    finally:
        os.close(fd)


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "desconocido"


def status_event(history: History, name: str, new: str, by: str | None, why: str,
                 source: str, *, unblock: bool = False) -> Event:
    """The event of ``name`` moving to ``new``; :class:`InputError` if the move is not allowed.
    ``unblock`` allows the one way out of ``bloqueado`` besides ``baja``: the status before it."""
    if new not in STATUSES:
        raise InputError.at(source, f"unknown status {new!r} (one of {', '.join(STATUSES)})")
    if not why.strip():
        raise InputError.at(source, "say why (--reason TEXT): every change is recorded")
    current = history.status_of(name)
    unblocking = unblock and current == "bloqueado" and new == history.before_block(name)
    if new not in TRANSITIONS[current] and not unblocking:
        allowed = ", ".join(TRANSITIONS[current]) or "none: baja is final"
        if current == "bloqueado":
            allowed += f" (or unblock, back to {history.before_block(name)})"
        raise InputError.at(source, f"{name} is {current}; it can move to: {allowed}")
    return Event(datetime.now(UTC), name, "status", new, who(by), why.strip())
