"""What an expensive fixture makes (a generated election, a synthesised log, a report, a night
of cuts), made once for the whole run rather than once in each pytest-xdist worker.

The first worker to ask makes it in a folder of the run's shared temporary root (the parent of
the workers' own, or the session's own without xdist) while it holds a lock; the others wait
for the lock, then take what it made. What is made this way is read-only: a test that changes
it works on a copy.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` run once in the whole run for ``name``; every caller gets what it
    returned (pickled beside the folder, so it must pickle: paths, plain data)."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's basetemp, the workers' gw0, gw1… below it
    folder, made = root / f"once-{name}", root / f"once-{name}.pickle"
    with (root / f"once-{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if made.is_file():
            value: T = pickle.loads(made.read_bytes())
            return value
        if folder.exists():  # a worker whose make failed left it half made
            shutil.rmtree(folder)
        folder.mkdir()
        value = make(folder)
        made.with_suffix(".tmp").write_bytes(pickle.dumps(value))
        made.with_suffix(".tmp").rename(made)
        return value
