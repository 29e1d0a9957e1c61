"""Progress of a push on the terminal: one bar per difusor (rich), and a summary table."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from prepcast.distribution.outcome import Outcome


class PushProgress:
    """Bars per difusor; ``update(name, done, total)`` is the pusher's ``on_progress``."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("{task.description:<24}"), BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), console=self.console, disable=not enabled, transient=True)
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> PushProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.__exit__(et, ev, tb)

    def start_cut(self, cut: int, names: list[str]) -> None:
        for task in self._tasks.values():
            self._progress.remove_task(task)
        self._tasks = {n: self._progress.add_task(f"corte {cut} {n}", total=None) for n in names}

    def update(self, name: str, done: int, total: int) -> None:
        task = self._tasks.get(name)
        if task is not None:
            self._progress.update(task, completed=done, total=max(total, 1))


def print_report(console: Console, cut: int, staged: dict[str, Outcome],
                 activated: dict[str, Outcome], refused: dict[str, Outcome] | None = None) -> None:
    """One row per difusor; a cut an earlier round's daemon refused gets a row of its own."""
    table = Table(title=f"cut {cut}", title_justify="left")
    for col in ("difusor", "staged", "bytes", "seconds", "activated", "detail"):
        table.add_column(col)
    for name in sorted(staged):
        s = staged[name]
        a = activated.get(name)
        table.add_row(name, "ok" if s.ok else "FAILED", str(s.nbytes), f"{s.seconds:.2f}",
                      "-" if a is None else ("ok" if a.ok else "FAILED"),
                      (s.error or (a.error if a else "") or s.note or (a.note if a else "")) or "")
    for name, r in sorted((refused or {}).items()):
        table.add_row(name, "-", "", "", "REFUSED", r.error or "")
    console.print(table)
