"""One push at a time to a registry's difusores, whoever pushes (``prepcast push``, the runner).

Two pushes to the same difusores at once interleave there (two cuts' files, two activations);
each push holds the registry's lock, ``REGISTRY.push.lock`` beside the registry file (its real
path: a link or another spelling of it finds the same lock), for as long as it runs. The kernel
drops the lock when the process ends, however it ends.
"""

from __future__ import annotations

from pathlib import Path

from prepcast.errors import InputError, PrepcastError
from prepcast.files import LockHeld, hold_lock


def push_lock_of(registry: Path) -> Path:
    """The lock file of pushes to ``registry``'s difusores."""
    real = registry.resolve()
    return real.with_name(real.name + ".push.lock")


def hold_push_lock(registry: Path) -> int:
    """Hold the lock of pushes to ``registry``; the descriptor to close when the push ends.
    A push already running is named by its pid (:class:`InputError` at ``registry``)."""
    lock = push_lock_of(registry)
    try:
        return hold_lock(lock)
    except LockHeld as held:
        raise InputError.at(registry, f"a push (pid {held.pid}) is already running with this "
                            "registry; wait for it to end") from None
    except OSError as exc:
        raise PrepcastError(f"{lock}: cannot take the push lock (registry): {exc.strerror}"
                            ) from None
