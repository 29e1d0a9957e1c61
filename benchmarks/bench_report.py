"""Benchmark: `prepcast report` against GoAccess on the same synthetic election-night log.

Prints, for each run: wall time, CPU time (user + system, all threads and child processes),
lines per second and peak memory (ru_maxrss of the child from os.wait4, or the summed
proportional set size of its process tree sampled every 20 ms if larger) with the load average
before it; the three runs (prepcast with the PDF, without it, GoAccess) take turns --repeat times (3 by default) so
that a change in a shared machine's load falls on all of them; then the medians and the ratios of
medians to GoAccess, wall and CPU (CPU time is the figure that holds on a busy machine). Both use DB-IP City Lite for geolocation; GoAccess writes its HTML report,
prepcast its HTML + PDF + tables. With --big N, the same on an N-line log (GoAccess too unless
--skip-goaccess-big: on 10 million lines it runs for many minutes).

With --huge N (e.g. 100000000), only prepcast's peak memory, wall and CPU time on an N-line log
(about 26 GB at 10⁸ lines; check free disk first). It is built from a synthetic night of N/10
lines and nine copies of it, copy k moved 2k days later (its dates rewritten, 02/03 June becoming
04/05, 06/07, …, 20/21 June), so the log holds ten nights in order; it is deleted afterwards
unless --keep is given.

Goals (issue 13): peak ≤ 400 MB at 2 million lines and ≤ 1.5 GB at 10⁸; wall ≤ 0.1 × GoAccess's
on the same log; ≥ 1 million lines/s at 10 million lines.

    .venv/bin/python benchmarks/bench_report.py [--lines 2000000] [--big 10000000] [--keep DIR]
    .venv/bin/python benchmarks/bench_report.py --huge 100000000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.*

from tests.analytics.memory import tree_pss

from prepcast.analytics.geo import default_database
from prepcast.analytics.synth import write_log

PREPCAST = str(Path(sys.executable).with_name("prepcast"))
GOACCESS = shutil.which("goaccess") or "/usr/bin/goaccess"


def measure(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak memory (bytes) of a
    child: the larger of its own peak resident size and of its process tree's summed proportional
    set size sampled every 20 ms (the report lays out its PDF in a worker process; ru_maxrss
    counts only the largest process)."""
    start = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], tree_pss(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    sampler.join()
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{argv[0]} failed ({child.returncode}): {err}")
    return wall, usage.ru_utime + usage.ru_stime, max(usage.ru_maxrss * 1024, peak[0])


def median(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """Median wall, median CPU and largest peak of several runs (each median taken apart)."""
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            max(r[2] for r in runs))


def synth(path: Path, lines: int) -> None:
    if path.exists():
        return
    t = time.monotonic()
    write_log(path, lines, seed=2024)
    print(f"synthetic log: {lines:,} lines, {path.stat().st_size / 1e6:,.0f} MB "
          f"({time.monotonic() - t:.1f} s)", flush=True)


def stretch(base: Path, out: Path, copies: int) -> None:
    """``copies`` nights in a row from the synthetic night ``base`` (see the module docstring)."""
    if out.exists():
        return
    t = time.monotonic()
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("wb") as dst:
        for k in range(copies):
            moves = [(b"[02/Jun/2024:", b"[%02d/Jun/2024:" % (2 + 2 * k)),
                     (b"[03/Jun/2024:", b"[%02d/Jun/2024:" % (3 + 2 * k))]
            carry = b""
            with base.open("rb") as src:
                while block := src.read(1 << 26):
                    cut = block.rfind(b"\n") + 1  # rewrite whole lines only
                    if not cut:
                        carry += block
                        continue
                    chunk, carry = carry + block[:cut], block[cut:]
                    for old, new in moves:
                        chunk = chunk.replace(old, new)
                    dst.write(chunk)
            for old, new in moves:
                carry = carry.replace(old, new)
            dst.write(carry)
    tmp.replace(out)
    print(f"stretched log: {copies} copies of {base.name}, {out.stat().st_size / 1e9:,.1f} GB "
          f"({time.monotonic() - t:.1f} s)", flush=True)


def huge(lines: int, work: Path, keep: bool) -> None:
    """prepcast alone on an ``lines``-line log made of ten shifted nights: peak memory and time."""
    copies = 10
    base = work / f"night-{lines // copies}.log"
    synth(base, lines // copies)
    log = work / f"nights-{lines}.log"
    stretch(base, log, copies)
    try:
        load = os.getloadavg()[0]
        result = measure(prepcast_argv(log, work / "prepcast-huge"))
        report("prepcast (+PDF)", lines, result, load)
        print(f"peak memory at {lines:,} lines: {result[2] / 1e6:,.0f} MB with PDF (goal ≤ 1.5 GB "
              f"at 10⁸); load average {load:.1f} before, {os.getloadavg()[0]:.1f} after",
              flush=True)
    finally:
        if not keep:
            log.unlink(missing_ok=True)


def prepcast_argv(log: Path, out: Path, pdf: bool = True) -> list[str]:
    return [PREPCAST, "report", "--logs", str(log), "--out", str(out)] + (["--pdf"] if pdf else [])


def report(name: str, lines: int, result: tuple[float, float, int], load: float) -> None:
    wall, cpu, rss = result
    print(f"{name:<22} {lines:>12,} lines  {wall:8.1f} s wall  {cpu:8.1f} s CPU  "
          f"{lines / wall:>10,.0f} lines/s  peak {rss / 2**20:,.0f} MiB  "
          f"(load average {load:.1f})", flush=True)


def goaccess_argv(log: Path, out: Path) -> list[str]:
    return [GOACCESS, str(log), "--no-global-config", "--log-format=COMBINED", "--no-progress",
            f"--geoip-database={default_database()}", "-o", str(out)]


def side_by_side(log: Path, lines: int, work: Path, tag: str, repeat: int, goaccess: bool) -> None:
    """prepcast (with and without the PDF) and GoAccess on one log, taking turns ``repeat``
    times (so a change in the machine's load falls on all three), and the ratios of medians."""
    tools: list[tuple[str, list[str]]] = [
        ("prepcast (+PDF)", prepcast_argv(log, work / f"prepcast-{tag}")),
        ("prepcast (no PDF)", prepcast_argv(log, work / f"prepcast-html-{tag}", pdf=False)),
    ]
    if goaccess:
        tools.append(("goaccess", goaccess_argv(log, work / f"goaccess-{tag}.html")))
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name, _ in tools}
    loads: list[float] = []
    for turn in range(repeat):
        for name, argv in tools:
            load = os.getloadavg()[0]
            loads.append(load)
            runs[name].append(measure(argv))
            report(f"{name} #{turn + 1}", lines, runs[name][-1], load)
    spread = f"load average {min(loads):.1f}–{max(loads):.1f}"
    for name, _ in tools:
        wall, cpu, rss = median(runs[name])
        print(f"median of {repeat}: {name:<18} {wall:8.1f} s wall {cpu:8.1f} s CPU "
              f"{lines / wall:>10,.0f} lines/s  {cpu * 1e6 / lines:.2f} µs CPU/line  "
              f"peak {rss / 2**20:,.0f} MiB  ({spread})", flush=True)
    ours, html_only = median(runs["prepcast (+PDF)"]), median(runs["prepcast (no PDF)"])
    if goaccess:
        theirs = median(runs["goaccess"])
        print(f"ratio prepcast/goaccess at {lines:,} lines (medians of {repeat}): wall "
              f"{ours[0] / theirs[0]:.3f} with PDF, {html_only[0] / theirs[0]:.3f} without; CPU "
              f"{ours[1] / theirs[1]:.3f} with PDF, {html_only[1] / theirs[1]:.3f} without "
              f"(goal ≤ 0.1; {spread})", flush=True)
    print(f"peak memory at {lines:,} lines: {ours[2] / 1e6:,.0f} MB with PDF "
          f"(goal ≤ 400 MB at 2 million); {lines / ours[0]:,.0f} lines/s wall, "
          f"{lines / ours[1]:,.0f} lines per CPU-second", flush=True)
    if goaccess:
        ratio = ours[0] / median(runs["goaccess"])[0]
        print(f"goals at {lines:,} lines: wall ratio with PDF {ratio:.3f} "
              f"({'met' if ratio <= 0.1 else 'not met'}, ≤ 0.1); peak {ours[2] / 1e6:,.0f} MB "
              f"({'met' if ours[2] <= 400e6 else 'not met'}, ≤ 400 MB at 2 million); {spread}",
              flush=True)
    if lines >= 10_000_000:
        print(f"goal at {lines:,} lines: {lines / ours[0]:,.0f} lines/s wall with PDF "
              f"({'met' if lines / ours[0] >= 1e6 else 'not met'}, ≥ 1,000,000 at 10 million); "
              f"{ours[1] * 1e6 / lines:.2f} µs CPU per line; {spread}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--big", type=int, default=0, help="also run both on an N-line log")
    parser.add_argument("--skip-goaccess", action="store_true")
    parser.add_argument("--skip-goaccess-big", action="store_true",
                        help="time only prepcast on the --big log")
    parser.add_argument("--huge", type=int, default=0,
                        help="only prepcast's memory and time on an N-line log of ten shifted nights")
    parser.add_argument("--keep", type=Path, help="keep logs and reports in this directory")
    parser.add_argument("--repeat", type=int, default=3,
                        help="turns of all tools on the --lines log; medians count")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"GoAccess {GOACCESS}; DuckDB threads = cores", flush=True)
    try:
        if args.huge:
            huge(args.huge, work, keep=args.keep is not None)
            return 0
        log = work / f"night-{args.lines}.log"
        synth(log, args.lines)
        side_by_side(log, args.lines, work, "main", args.repeat, not args.skip_goaccess)
        if args.big:
            big = work / f"night-{args.big}.log"
            synth(big, args.big)
            side_by_side(big, args.big, work, "big", 1, not args.skip_goaccess_big)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
