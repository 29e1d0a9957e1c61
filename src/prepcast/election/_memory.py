"""Memory freed by DuckDB kept for its next query instead of handed back to the system.

A cut of a national election runs dozens of queries one after another, each allocating and
freeing hundreds of megabytes. DuckDB's allocator (jemalloc, built into its Linux wheels) gives
freed pages back to the system when a worker thread has been idle for half a second and its
peak passed ``allocator_flush_threshold`` (128 MiB), and as they age past a few seconds; the
next query then touches fresh pages, each a page fault the kernel zeroes: 1.4 million of them,
about 5 s of system time, in one cut of ``ine-2024``. Here the flush only comes past 64 GiB
(so never), and freed pages age ``DECAY_MS`` before they go back: what one query freed, the
next reuses. Memory returns to the system a few seconds after a process stops working, as
before, only later; the peak is about what it was (the pages reused are the ones freed).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

# How long freed pages wait before they go back to the system (jemalloc's dirty decay): longer
# than the gaps between the queries of one cut, short enough to give memory back once idle.
DECAY_MS = 10_000
# DuckDB's own flush of a thread's pages once idle: past this peak only (in practice never).
FLUSH_THRESHOLD = "64GiB"


def _mallctl() -> Any | None:
    """jemalloc's ``mallctl`` inside DuckDB's module, when it has one (its Linux wheels)."""
    module = sys.modules.get("_duckdb")
    path = getattr(module, "__file__", None)
    if not path:
        return None
    try:
        fn = ctypes.CDLL(path).duckdb_je_mallctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                   ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def keep_freed_memory(con: Any) -> None:
    """Settings of the paragraph above, for ``con``'s database and DuckDB's allocator (once
    per process is enough; again is harmless). Where DuckDB has no jemalloc, only the flush."""
    con.execute(f"SET allocator_flush_threshold = '{FLUSH_THRESHOLD}'")
    con.execute(f"SET allocator_bulk_deallocation_flush_threshold = '{FLUSH_THRESHOLD}'")
    mallctl = _mallctl()
    if mallctl is None:
        return
    narenas = ctypes.c_uint(0)
    size = ctypes.c_size_t(ctypes.sizeof(narenas))
    if mallctl(b"arenas.narenas", ctypes.byref(narenas), ctypes.byref(size), None, 0) != 0:
        return
    decay = ctypes.c_ssize_t(DECAY_MS)
    names = [b"arenas.dirty_decay_ms"] + [f"arena.{i}.dirty_decay_ms".encode()
                                          for i in range(narenas.value)]
    for name in names:  # an arena not made yet answers an error: it takes the default above
        mallctl(name, None, None, ctypes.byref(decay), ctypes.sizeof(decay))
