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
    args = ap.parse_args()
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
    if not args.columnar_only:
        print("  same zips from both engines", end="; ")
    else:
        print("  ", end="")
    print("goal: columnar median <= 1.0 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
