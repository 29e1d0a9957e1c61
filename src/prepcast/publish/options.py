"""What a night runner is told (:class:`RunOptions`) and what it tells back of each cut.

Parsed once at the edge (``prepcast night run``, the simulacro, the benchmarks) and passed to
:class:`prepcast.publish.runner.NightRunner`; :class:`CutDone` and the ``OnCut``/``OnPushed``
callbacks are how progress displays and benchmarks follow the night.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.distribution import PushReport
from prepcast.errors import IntegrityError
from prepcast.package import Manifest


@dataclass(frozen=True)
class RunOptions:
    election: Path
    keys: Path
    state: Path
    publish_root: Path
    registry: Path | None = None
    ejercicio: str = "jornada"
    speed: float | None = 1.0  # None: every cut as soon as the previous one is done
    until: datetime | None = None
    ntp_server: str | None = "pool.ntp.org"  # None: no clock check (drills on a laptop only)
    ntp_port: int = 123
    max_clock_offset: float = 1.0
    # the official list the site shows; empty: the registry's public list, read before each cut
    difusores: tuple[dict[str, Any], ...] = ()
    retry_delay: float = 1.0
    retry_every: float = 60.0  # between cuts, a failed push is tried again this often (seconds)
    drops: Path | None = None  # the capture system's drop folder as the source (publish.drops)
    settle: float = 2.0  # a zip without .sha256 is complete once unchanged this long (seconds)
    poll: float = 0.5  # how often the drop folder is looked at (seconds)
    # a difusor serving one of this run's cuts as another package (the ejercicio run again
    # with a fresh --state) has it replaced; refused otherwise (one cut's tag, one package)
    replace_same_cut: bool = False
    # read back every live file before it is reused in the next release (distribution.modes)
    verify_reused: bool = False


@dataclass
class CutDone:
    """What the runner did with one cut (for progress displays and benchmarks)."""

    number: int
    package: Path
    manifest: Manifest
    build_seconds: float
    verify_seconds: float
    publish_seconds: float
    due: datetime
    push_started: datetime
    timings: dict[str, float] = field(default_factory=dict)


class RebuiltDiffers(IntegrityError):
    """A cut built again is not the same bytes as before (its capture feed changed)."""


OnCut = Callable[[CutDone], None]
OnPushed = Callable[[int, PushReport | None, str | None], None]
