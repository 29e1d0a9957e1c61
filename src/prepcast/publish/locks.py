"""The night runner's locks: one runner per ``--state``, per ``--publish-root`` and per registry,
and a run refused before anything leaves nothing behind.

:func:`night_locks` takes the registry's lock (the one ``prepcast push`` takes too), then makes
and locks the state and the publish root. When the run it holds is refused (a
message, or any error before a cut was published), it removes only what this process
created (any error: what a published cut made stays), and only under its own lock: a folder made here and locked by another runner since is
that runner's, lock file and all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from prepcast.distribution.pushlock import hold_registry_lock
from prepcast.publish.state import (
    LOCK_FILE,
    forget_publish_root,
    lock_publish_root,
    lock_state,
    make_folder,
)

__all__ = ["night_locks"]


@contextlib.contextmanager
def night_locks(state: Path, publish_root: Path, registry: Path | None) -> Iterator[None]:
    """Hold the night's locks for the ``with`` block (refused at once when another runner holds
    one); a refusal inside it undoes what was made here."""
    holder = f"a night runner (pid {os.getpid()}, --state {state.resolve()})"
    locks: list[int] = []
    made_state = made_root = held_state = held_root = False
    try:
        if registry is not None:
            locks.append(hold_registry_lock(registry, holder))
        made_state = make_folder(state, "--state")
        locks.append(lock_state(state, holder))
        held_state = True
        made_root = make_folder(publish_root, "--publish-root")
        locks.append(lock_publish_root(publish_root, holder))
        held_root = True
        yield
    except BaseException:  # refused (or failed) before anything: leave nothing behind
        if made_state and held_state and {p.name for p in state.iterdir()} <= {LOCK_FILE}:
            (state / LOCK_FILE).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # another runner's lock file, made since
                state.rmdir()
        if made_root and held_root:
            forget_publish_root(publish_root)
        raise
    finally:
        for fd in locks:
            os.close(fd)
