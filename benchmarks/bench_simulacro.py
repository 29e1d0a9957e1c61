"""CPU and wall time of the whole simulacro command (every process it starts: the runner, its
pushing process, the local difusores' process), with the load average before and after.

    .venv/bin/python benchmarks/bench_simulacro.py [--cuts 12] [--keep DIR] [-- EXTRA OPTIONS]
    .venv/bin/python benchmarks/bench_simulacro.py -- --profile ine-2024     # the national night

Runs ``prepcast simulacro --out TMPDIR [--cuts N] EXTRA`` once and prints user, system and total
CPU seconds (of the command and all its children, from ``getrusage``), the peak memory of its
largest process, the wall time and the load average at start and end, then where the night's
time went (`night_breakdown.py` beside it: build, verify, publish and push per cut, each
difusor's staging and activation, the daemon's take-in, the monitor's incidents). CPU time is
far less sensitive than wall time to other work on a shared machine; report both, with the
load. Without ``--cuts``: the whole night (73 cuts of edomex-2024), as ``make simulacro`` plays
it. ``--keep DIR`` plays it in DIR (kept) instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from night_breakdown import breakdown  # beside this script


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cuts", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="play the night in DIR and keep it")
    ap.add_argument("extra", nargs="*", help="more simulacro options, after --")
    args = ap.parse_args()
    prepcast = Path(sys.executable).with_name("prepcast")
    with tempfile.TemporaryDirectory(prefix="bench-simulacro-") as tmp:
        out = args.keep or Path(tmp) / "out"
        argv = [str(prepcast), "simulacro", "--out", str(out)]
        if args.cuts is not None:
            argv += ["--cuts", str(args.cuts)]
        argv += args.extra
        load_start = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - started
        load_end = os.getloadavg()
        where = breakdown(out) if (out / "estado" / "night.json").exists() else []
    if done.returncode != 0:
        sys.exit(f"simulacro failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"command:      {' '.join(argv[1:])}")
    print(f"cpu:          user {usage.ru_utime:.1f} s + system {usage.ru_stime:.1f} s = "
          f"{usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"peak memory:  {usage.ru_maxrss / 1024:.0f} MiB (its largest process)")
    print(f"wall:         {wall:.1f} s")
    print(f"load average: {load_start[0]:.2f} at start, {load_end[0]:.2f} at the end")
    print("\n".join(where))


if __name__ == "__main__":
    main()
