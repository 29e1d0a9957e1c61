"""The institute monitor's probes in an event log: whose they are and the outages they show.

The monitor probes every difusor each round and writes one ``probe.up`` / ``probe.down`` line
per difusor, naming it in ``difusor``, to ``events.jsonl`` (all of them) and to
``events/<difusor>.jsonl`` (one difusor's). An informe is one difusor's: its probes only count.
A log that holds the probes of several difusors is refused unless one is chosen
(``prepcast report --probes-of NAME``), so another difusor's outage is never charged to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast import events as ev
from prepcast.errors import InputError


def probe_names(records: Sequence[tuple[datetime, str, dict[str, Any], Path]]) -> dict[str, Path]:
    """The difusores whose probes ``records`` hold (name → the first file naming it)."""
    found: dict[str, Path] = {}
    for _, name, event, path in records:
        if name in ev.PROBE_EVENTS:
            found.setdefault(str(event.get("difusor") or ""), path)
    return found


def of_difusor(
    records: list[tuple[datetime, str, dict[str, Any], Path]], difusor: str | None
) -> list[tuple[datetime, str, dict[str, Any], Path]]:
    """``records`` with only ``difusor``'s probes (daemon events are kept: a daemon writes only
    its own difusor's); an error when the probes of several difusors are left unchosen, or when
    the chosen one has none."""
    names = probe_names(records)
    if difusor is None and len(names) <= 1:
        return records
    listed = ", ".join(sorted(n or "(sin nombre)" for n in names))
    path = next(iter(names.values()), None)
    if path is not None and difusor is None:  # several difusores' probes (one returned above)
        raise InputError.at(
            path, f"holds the probes of {len(names)} difusores ({listed}); an informe is one "
            "difusor's: choose it with --probes-of NAME, or give the monitor's file of that "
            "difusor (events/NAME.jsonl in its state folder)", field="--events")
    if path is not None and difusor not in names:
        raise InputError.at(path, f"holds no probe of difusor {difusor!r} (it has: {listed})",
                            field="--probes-of")
    return [r for r in records
            if r[1] not in ev.PROBE_EVENTS or str(r[2].get("difusor") or "") == difusor]
