"""CPU and wall time of the whole simulacro command (every process it starts: the runner, its
pushing process, the local difusores' process), with the load average before and after.

    .venv/bin/python benchmarks/bench_simulacro.py [--cuts 12] [-- EXTRA SIMULACRO OPTIONS]

Runs ``prepcast simulacro --out TMPDIR [--cuts N] EXTRA`` once and prints user, system and total
CPU seconds (of the command and all its children, from ``getrusage``), the wall time and the
load average at start and end. CPU time is far less sensitive than wall time to other work on a
shared machine; report both, with the load. Without ``--cuts``: the whole night (73 cuts of
edomex-2024), as ``make simulacro`` plays it.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cuts", type=int, default=None)
    ap.add_argument("extra", nargs="*", help="more simulacro options, after --")
    args = ap.parse_args()
    prepcast = Path(sys.executable).with_name("prepcast")
    with tempfile.TemporaryDirectory(prefix="bench-simulacro-") as tmp:
        argv = [str(prepcast), "simulacro", "--out", str(Path(tmp) / "out")]
        if args.cuts is not None:
            argv += ["--cuts", str(args.cuts)]
        argv += args.extra
        load_start = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        wall = time.perf_counter() - started
        load_end = os.getloadavg()
    if done.returncode != 0:
        sys.exit(f"simulacro failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"command:      {' '.join(argv[1:])}")
    print(f"cpu:          user {usage.ru_utime:.1f} s + system {usage.ru_stime:.1f} s = "
          f"{usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"wall:         {wall:.1f} s")
    print(f"load average: {load_start[0]:.2f} at start, {load_end[0]:.2f} at the end")


if __name__ == "__main__":
    main()
