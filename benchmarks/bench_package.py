"""Benchmark of the cut package on a synthetic election (default ``edomex-2024``).

Prints: time to build one full package of a mid-night cut (tally, database zips, site JSON,
manifest, signatures, written to disk), time to verify it, the delta between two consecutive
cuts as a share of the full package's bytes (and what dominates it), and the package's size and
file count. Run: ``.venv/bin/python benchmarks/bench_package.py [--profile P] [--seed N]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from prepcast.election import ElectionDir, cut_number, cut_time, load_election_dir, tally_cut
from prepcast.election.synthetic import generate
from prepcast.package import (
    Signer,
    assemble,
    diff,
    init_keys,
    load_manifest,
    load_signer,
    verify_package,
)
from prepcast.publish import CutBuilder, build_cut
from prepcast.site import site_files


def _category(path: str) -> str:
    parts = path.split("/")
    if parts[0] == "data" and len(parts) >= 3:
        return f"data/*/{parts[2]}" if len(parts) > 3 else f"data/*/{parts[2].split('.')[0]}"
    if parts[0] in ("db", "manifests", "json", "assets", "keys", "data"):
        return parts[0]
    return path.split(".")[0]


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _fmt(runs: list[tuple[float, float]]) -> str:
    best = min(runs)
    median = statistics.median(w for w, _ in runs)
    return f"{best[0]:.2f} s / {median:.2f} s (CPU {best[1]:.2f} s)"


def _stages(ed: ElectionDir, n: int, signer: Signer, out: Path) -> list[tuple[str, float, float]]:
    """Wall and CPU time of each stage of a night-long build of cut ``n`` (after cut ``n - 1``)."""
    night = CutBuilder(ed, signer)
    night.files(n - 1)
    writer = night._databases
    when = cut_time(ed.proceso, n)
    times: list[tuple[str, float, float]] = []

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        w0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        times.append((name, time.perf_counter() - w0, time.process_time() - c0))
        return value

    results = stage("tally", lambda: tally_cut(ed.proceso, ed.casillas, dict(ed.feeds), when,
                                               number=n))
    dbs = stage("database zips", lambda: writer.build(results))
    site = stage("site data", lambda: site_files(results, dbs, []))
    files = {**site.files, **{f"db/{n:04d}/{z.name}": z.data for z in dbs}}
    stage("assemble: hash, sign, write", lambda: assemble(
        out, files, cut=n, proceso="bench", cut_time=when, not_before=when, expires=when,
        previous=None, signer=signer, main_fields=site.main_fields))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--at", default="2024-06-02T23:40:00-06:00", help="time of the first cut")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--election", type=Path, help="an election directory already generated")
    ap.add_argument("--sweep", action="store_true",
                    help="also the delta of every pair of consecutive cuts from 21:00 to 03:00")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        root = Path(tmp)
        election = args.election
        if election is None:
            t0 = time.perf_counter()
            election = generate(args.profile, args.seed, root / "election")
            print(f"generated {args.profile} (seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        ed = load_election_dir(election)
        load_s = time.perf_counter() - t0
        print(f"load_election_dir: {load_s:.2f} s ({len(ed.casillas):,} casillas, "
              f"{sum(len(f) for f in ed.feeds.values()):,} acta records)")
        init_keys(root / "keys")
        signer = load_signer(root / "keys")
        at = datetime.fromisoformat(args.at)
        n = cut_number(ed.proceso, at)
        a, b = root / "cut-a", root / "cut-b"
        builds = [_timed(lambda: build_cut(ed, at, signer, a)) for _ in range(args.repeat)]
        warm = []
        for _ in range(args.repeat):
            night = CutBuilder(ed, signer)  # as the simulacro does: one builder for the night
            night.build(cut_time(ed.proceso, n - 1), root / "cut-before")
            warm.append(_timed(functools.partial(night.build, at, a)))
        stages = _stages(ed, n, signer, root / "cut-stages")
        night.build(cut_time(ed.proceso, n + 1), b, previous=a)
        verifies = [_timed(lambda: verify_package(b, root / "keys" / "root.pub", last=a))
                    for _ in range(args.repeat)]
        m = load_manifest(b)
        d = diff(a, b)
        by_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for path, size in d.fetch.items():
            by_cat[_category(path)][0] += size
            by_cat[_category(path)][1] += 1
        print(f"cuts {n} → {n + 1} ({at.isoformat()} and 20 minutes later); times are wall "
              f"clock, best / median of {args.repeat}, and CPU time of the best")
        print(f"full package build, one cut alone (build_cut): {_fmt(builds)} (goal ≤ 2 s); "
              f"load_election_dir before it {load_s:.2f} s")
        print(f"full package build, during the night (CutBuilder after the previous cut): "
              f"{_fmt(warm)}")
        print("  by stage (night-long; wall / CPU): "
              + ", ".join(f"{k} {w:.2f} / {c:.2f} s" for k, w, c in stages))
        print(f"verify: {_fmt(verifies)} (goal ≤ 1 s)")
        print(f"package: {d.total_files} files, {d.total_bytes:,} bytes (goal ≤ 1,000 files)")
        print(f"delta: {d.count} files, {d.bytes:,} bytes = {d.share:.1%} of the full package "
              f"(goal ≤ 25 %); {len(d.reused)} files reused")
        print("delta by kind of file (bytes, files):")
        for cat, (size, count) in sorted(by_cat.items(), key=lambda kv: -kv[1][0]):
            print(f"  {cat:<28} {size:>12,}  {count:>4}  ({size / d.total_bytes:.1%} of package)")
        print(f"manifest of cut {m.cut}: {len(m.raw):,} bytes")
        if args.sweep:
            _sweep(ed, signer, root)
        print(f"load average during the run: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")


def _sweep(ed: ElectionDir, signer: Signer, root: Path) -> None:
    tz = ed.proceso.tz
    first = cut_number(ed.proceso, datetime(2024, 6, 2, 21, 0, tzinfo=tz))
    last = cut_number(ed.proceso, datetime(2024, 6, 3, 3, 0, tzinfo=tz))
    night = CutBuilder(ed, signer)
    dirs = [root / "sweep-0", root / "sweep-1"]
    night.build(cut_time(ed.proceso, first), dirs[0])
    shares = []
    print("delta per pair of consecutive cuts (new actas registered, share of the package):")
    for n in range(first + 1, last + 1):
        new, old = dirs[n % 2], dirs[(n - 1) % 2]
        night.build(cut_time(ed.proceso, n), new, previous=old)
        d = diff(old, new)
        shares.append(d.share)
        print(f"  cut {n - 1:>2} → {n:>2}: {d.count:>3} files, {d.bytes:>10,} bytes = {d.share:.1%}")
    print(f"delta, worst pair 21:00–03:00: {max(shares):.1%}; median {statistics.median(shares):.1%}")


if __name__ == "__main__":
    main()
