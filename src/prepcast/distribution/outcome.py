"""What a push reports: one :class:`Outcome` per difusor and phase, gathered in a :class:`PushReport`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """How one phase (``stage``, ``activate``, ``confirm``) went at one difusor."""

    difusor: str
    phase: str
    ok: bool
    nbytes: int = 0
    files: int = 0
    seconds: float = 0.0
    error: str | None = None
    note: str = ""


@dataclass
class PushReport:
    """One cut's push. ``refused`` holds what a difusor's daemon refused of an earlier round
    (read back at the start of this one): failures too, never ok."""

    cut: int
    staged: dict[str, Outcome] = field(default_factory=dict)
    activated: dict[str, Outcome] = field(default_factory=dict)
    refused: dict[str, Outcome] = field(default_factory=dict)
    seconds_to_serving: float = 0.0   # push start -> every activation done (before pruning)

    @property
    def failed(self) -> list[str]:
        bad = {n for n, o in self.staged.items() if not o.ok}
        bad |= {n for n, o in self.activated.items() if not o.ok}
        bad |= {n for n, o in self.refused.items() if not o.ok}
        return sorted(bad)
