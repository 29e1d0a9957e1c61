"""Benchmark: `prepcast database build` of the last cut of a synthetic night, as a whole process.

Runs the command REPEAT times (default 5) on the columnar engine and on the row engine (the
same command on a copy of the election whose feeds end in a record still being written, which
sends it to the row engine), checks both give the same zips, and prints the median and best wall
time, the CPU time (user + system) and the peak memory of each, with the load average (the
machine is shared: CPU time says more than wall time when it is busy). Goal: ≤ 1.0 s.

    .venv/bin/python benchmarks/bench_database.py [--profile edomex-2024] [--seed 1] [--repeat 5]
        [--columnar-only]

``--columnar-only`` skips the row engine (about 4 s of CPU a run) and so the comparison of
bytes, which the tests hold.

``--critical-path`` also runs the columnar command's work REPEAT times in a process of its own,
timing each thread's CPU: startup and imports, the main thread's own work, and in each pool of
two workers (reading, tally, CSV and zips) the busier worker. Their sum estimates the wall time on
two idle cores when the machine is too busy to measure it (a lower bound: DuckDB's own threads
and memory contention are left out).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).with_name("prepcast")


def _one_critical_path(election: str, out: str) -> None:
    """(In a fresh process.) The columnar build with each pool's busier worker timed."""
    import concurrent.futures
    import threading
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    pools: list[float] = []

    class Timed(concurrent.futures.ThreadPoolExecutor):
        def map(self, fn: Callable[..., Any], *its: Iterable[Any], timeout: float | None = None,
                chunksize: int = 1) -> Iterator[Any]:
            per: dict[int, float] = {}

            def timed(*a: Any) -> Any:
                t = time.thread_time()
                r = fn(*a)
                me = threading.get_ident()
                per[me] = per.get(me, 0.0) + time.thread_time() - t
                return r

            done = list(super().map(timed, *its))
            pools.append(max(per.values(), default=0.0))
            return iter(done)

    import prepcast.election.columnar as columnar
    import prepcast.formats.write_prep_csv_columns as writer
    from prepcast.election.schedule import cut_number, cut_time, is_last_cut
    from prepcast.formats.write_prep_csv import write_database_zips

    columnar.ThreadPoolExecutor = Timed  # type: ignore[attr-defined]  # the pools, timed
    writer.ThreadPoolExecutor = Timed  # type: ignore[attr-defined]
    imports = time.process_time()
    t = time.thread_time()
    ce = columnar.load_columns(election)
    assert ce is not None
    p = ce.proceso
    n = cut_number(p, p.end)
    cut = columnar.tally_columns(ce, cut_time(p, n), number=n, last=is_last_cut(p, n))
    write_database_zips(writer.build_databases_columns(cut), Path(out))
    main = time.thread_time() - t
    print(imports, main, *pools, time.process_time())


def run(election: Path, at: str, out: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak memory (KiB) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([str(BIN), "database", "build", str(election), "--at", at, "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--election", type=Path, help="an election directory already generated")
    ap.add_argument("--columnar-only", action="store_true", help="skip the row engine")
    ap.add_argument("--critical-path", action="store_true",
                    help="estimate the wall time on two idle cores from each thread's CPU")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _one_critical_path(*args.one)
        return 0
    from prepcast.election.catalog import read_proceso
    from prepcast.election.synthetic import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        election = args.election or generate(args.profile, args.seed, root / "e", images=False)
        rows_copy = root / "rows"
        shutil.copytree(election, rows_copy, ignore=shutil.ignore_patterns("actas"))
        for feed in (rows_copy / "capturas").glob("*.csv"):
            with feed.open("ab") as f:
                f.write(b"2024-06-02T21:00:00-06:00,CAPTU")  # still being written: row engine
        p = read_proceso(election / "election.toml")
        at = p.end.isoformat()
        figures = {}
        start_load = os.getloadavg()
        engines = (("columnar", election),) if args.columnar_only else (
            ("columnar", election), ("rows", rows_copy))
        for name, path in engines:
            runs = [run(path, at, root / f"out-{name}") for _ in range(args.repeat)]
            figures[name] = runs
        paths: list[list[float]] = []
        if args.critical_path:
            for _ in range(args.repeat):
                line = subprocess.run([sys.executable, __file__, "--one", str(election),
                                       str(root / "out-path")], check=True, capture_output=True,
                                      text=True).stdout
                paths.append([float(x) for x in line.split()])
        if not args.columnar_only:
            for z in (root / "out-columnar").iterdir():
                assert z.read_bytes() == (root / "out-rows" / z.name).read_bytes(), z.name
    load = os.getloadavg()
    print(f"prepcast database build, last cut of {args.profile} (seed {args.seed}), "
          f"{args.repeat} processes each; load average {start_load[0]:.1f} at the start, "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")
    for name, runs in figures.items():
        walls = [r[0] for r in runs]
        cpus = [r[1] for r in runs]
        print(f"  {name:9} wall median {statistics.median(walls):.2f} s (best {min(walls):.2f} s), "
              f"CPU median {statistics.median(cpus):.2f} s, peak {max(r[2] for r in runs) / 1024:.0f} MiB")
    if paths:
        est = [sum(x[:-1]) for x in paths]
        i = est.index(statistics.median(est)) if len(est) % 2 else est.index(sorted(est)[len(est) // 2])
        x = paths[i]
        print(f"  critical path on two idle cores (estimate, median of {len(est)}): {est[i]:.2f} s = "
              f"startup and imports {x[0]:.2f} + main thread {x[1]:.2f} + busier worker of "
              f"reading {x[2]:.2f}, tally {x[3]:.2f}, CSV and zips {x[4]:.2f}; "
              f"process CPU {x[-1]:.2f} s")
    if not args.columnar_only:
        print("  same zips from both engines", end="; ")
    else:
        print("  ", end="")
    print("goal: columnar median <= 1.0 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
