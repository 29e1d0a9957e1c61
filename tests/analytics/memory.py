"""Memory of a process tree (the report and its PDF worker), read from ``/proc``: shared by the
memory test and ``benchmarks/bench_report.py``."""

from __future__ import annotations

from pathlib import Path


def tree_pss(pid: int) -> int:
    """Memory (bytes) of a process and all its descendants: the sum of their proportional set
    sizes (a page shared by two of them counts half in each), so nothing is counted twice."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, ValueError):
            continue
        total += next((int(line.split()[1]) * 1024 for line in rollup.splitlines()
                       if line.startswith("Pss:")), 0)
    return total
