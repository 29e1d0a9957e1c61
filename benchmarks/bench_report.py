"""Benchmark: `prepcast report` against GoAccess on the same synthetic election-night log.

Prints, for each tool: wall time, lines per second and peak memory (ru_maxrss of the child,
from os.wait4), and the ratio of wall times (the goal is prepcast ≤ 0.1 × GoAccess). Both use
DB-IP City Lite for geolocation; GoAccess writes its HTML report, prepcast its HTML + PDF +
tables. With --big N, also times prepcast alone on an N-line log (goal: 10 million ≤ 100 s).

    .venv/bin/python benchmarks/bench_report.py [--lines 2000000] [--big 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prepcast.analytics.geo import default_database
from prepcast.analytics.synth import write_log

PREPCAST = str(Path(sys.executable).with_name("prepcast"))
GOACCESS = shutil.which("goaccess") or "/usr/bin/goaccess"


def measure(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak resident memory (bytes) of a child."""
    start = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{argv[0]} failed ({child.returncode}): {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def best(argv: list[str], repeat: int) -> tuple[float, float, int]:
    """The fastest of ``repeat`` runs (the machine may be shared: the minimum is the least disturbed)."""
    runs = [measure(argv) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def synth(path: Path, lines: int) -> None:
    if path.exists():
        return
    t = time.monotonic()
    write_log(path, lines, seed=2024)
    print(f"synthetic log: {lines:,} lines, {path.stat().st_size / 1e6:,.0f} MB "
          f"({time.monotonic() - t:.1f} s)", flush=True)


def prepcast_argv(log: Path, out: Path, pdf: bool = True) -> list[str]:
    return [PREPCAST, "report", "--logs", str(log), "--out", str(out)] + (["--pdf"] if pdf else [])


def report(name: str, lines: int, result: tuple[float, float, int]) -> None:
    wall, cpu, rss = result
    print(f"{name:<18} {lines:>12,} lines  {wall:8.1f} s wall  {cpu:8.1f} s CPU  "
          f"{lines / wall:>10,.0f} lines/s  peak {rss / 2**20:,.0f} MiB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--big", type=int, default=0, help="also time prepcast alone on N lines")
    parser.add_argument("--skip-goaccess", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep logs and reports in this directory")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest counts")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"GoAccess {GOACCESS}; DuckDB threads = cores", flush=True)
    try:
        log = work / f"night-{args.lines}.log"
        synth(log, args.lines)
        ours = best(prepcast_argv(log, work / "prepcast"), args.repeat)
        report("prepcast (+PDF)", args.lines, ours)
        html_only = best(prepcast_argv(log, work / "prepcast-html", pdf=False), args.repeat)
        report("prepcast (no PDF)", args.lines, html_only)
        if not args.skip_goaccess:
            theirs = best([
                GOACCESS, str(log), "--no-global-config", "--log-format=COMBINED", "--no-progress",
                f"--geoip-database={default_database()}", "-o", str(work / "goaccess.html"),
            ], args.repeat)
            report("goaccess", args.lines, theirs)
            print(f"ratio prepcast/goaccess: wall {ours[0] / theirs[0]:.3f} with PDF, "
                  f"{html_only[0] / theirs[0]:.3f} without; CPU {ours[1] / theirs[1]:.3f} with PDF "
                  "(goal ≤ 0.1)", flush=True)
        if args.big:
            big = work / f"night-{args.big}.log"
            synth(big, args.big)
            result = best(prepcast_argv(big, work / "prepcast-big"), 1)
            report("prepcast (+PDF)", args.big, result)
            print(f"{args.big:,} lines in {result[0]:.1f} s (goal ≤ 100 s for 10 million)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
