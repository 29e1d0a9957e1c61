"""One push at a time to a registry's difusores: ``REGISTRY.push.lock`` beside the registry.

``prepcast push`` holds it while it pushes, a night runner for its whole night, so two pushes
(two runners, or a runner and a push by hand) never interleave on a difusor, whatever ``--state``
each records into. The one refused is told who holds it (pid, and which ``--state``).
"""

from __future__ import annotations

from pathlib import Path

from prepcast.errors import InputError, PrepcastError
from prepcast.files import LockHeld, hold_lock


def push_lock_of(registry: Path) -> Path:
    """The lock of pushes to ``registry``'s difusores: ``REGISTRY.push.lock`` beside the registry
    file (its real path, so a link or another spelling of it finds the same lock)."""
    real = Path(registry).resolve()
    return real.with_name(real.name + ".push.lock")


def hold_registry_lock(registry: Path, holder: str) -> int:
    """Hold the push lock of ``registry`` as ``holder`` (``a push (pid N, --state S)``); the
    descriptor to close when done. Refused (:class:`InputError`, naming the registry and who
    holds it) while another push or night runner holds it."""
    return hold_named_lock(registry, push_lock_of(registry), "registry", holder)


def hold_named_lock(given: Path, lock: Path, flag: str, holder: str) -> int:
    """Hold ``lock`` (one of the locks of ``given``, which the user named with ``flag``);
    refused naming ``given`` and the holder's own words."""
    try:
        return hold_lock(lock, holder)
    except LockHeld as held:
        who = held.holder or f"a push (pid {held.pid})"
        raise InputError.at(given, f"{who} is already running with this {flag}; wait for it to "
                            "end") from None
    except OSError as exc:
        raise PrepcastError(f"{lock}: cannot take the lock of this {flag}: {exc.strerror}"
                            ) from None
