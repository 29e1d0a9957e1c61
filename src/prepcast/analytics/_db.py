"""DuckDB connection helpers: one place that opens the engine and runs statements.

DuckDB turns Ctrl-C during a query into ``RuntimeError("Query interrupted")`` (or its own
``InterruptException``); the helpers here give it back as :class:`KeyboardInterrupt`, so the
command line says "interrupted" (exit 130) whenever the signal comes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB's report of a query stopped by Ctrl-C (SIGINT)."""
    if type(exc).__name__ == "InterruptException":
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


@contextmanager
def interruptible() -> Iterator[None]:
    """Re-raise DuckDB's interruption of a query as :class:`KeyboardInterrupt`."""
    try:
        yield
    except Exception as exc:
        if is_interrupt(exc):
            raise KeyboardInterrupt from exc
        raise


def connect(database: Path | None = None, *, memory_limit: str = "300MB",
            temp_dir: Path | None = None, threads: int | None = None) -> Any:
    """A DuckDB connection with bounded memory (it spills to ``temp_dir`` beyond the limit)."""
    import duckdb

    con = duckdb.connect(str(database) if database else ":memory:")
    run(con, f"SET memory_limit = '{memory_limit}'")
    run(con, "SET preserve_insertion_order = false")
    run(con, "SET enable_progress_bar = false")
    if temp_dir is not None:
        run(con, f"SET temp_directory = '{temp_dir}'")
    if threads:
        run(con, f"SET threads = {int(threads)}")
    return con


def run(con: Any, sql: str, params: list[Any] | None = None) -> None:
    """Execute a statement and finish its result."""
    with interruptible():
        con.execute(sql, params or []).fetchall()


def rows(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with interruptible():
        return list(con.execute(sql, params or []).fetchall())


def one(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    with interruptible():
        result = con.execute(sql, params or []).fetchall()
    return tuple(result[0]) if result else ()


def dicts(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with interruptible():
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
