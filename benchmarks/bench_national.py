"""Benchmark: the `ine-2024` national profile (32 entidades, 300 distritos federales, about
170,000 casillas, presidencia, senadurías and diputaciones federales: about 510,000 actas).

Measures, each as a whole process with its wall time, CPU time (user + system) and peak memory,
beside the load average (the machine is shared: CPU time says more than wall time when busy):

- `prepcast election generate --profile ine-2024 --no-images` (once);
- `prepcast database build` of the last cut (REPEAT times, median): the columnar engine reads the
  catalog and the three feeds, tallies every level and writes the three database zips in INE's
  federal layout;
- the same for a cut during the night (23:00, when most actas have arrived);
- the night path in one process: the election read on columns once, then cut after cut (22:00
  to 00:00, every 20 minutes) tallied on columns with the night's database writer (each record's
  row formatted once, the first time; each cut gathers its rows and zips them): the cost of each
  cut, which is what the ≤ 3 s goal asks of a cut during the night;
- with ``--package``: `prepcast cut build` of the last cut to a signed package (the election
  read on columns, tallied, the database zips, the site data, manifest and signatures) as a
  whole process (``--repeat-package`` times, median, with its peak memory), the bytes of the
  site's first view (the nation's page: index.html, script, stylesheet, main.json, proceso.json
  and the nation's file, gzip level 6), then a night's packages as the runner builds them: its
  preparation (the election read on columns; the night's tables: each record's database row
  and JSON, the catalogs; the acta segments as of cut 9, as a runner started or restarted at
  23:00 lays them out; the runner does all that before its first cut is due), each on a line
  of its own, then one `CutBuilder` on columns, cuts 10 to 15 at 23:00-00:40, each after the
  one before (``--cold``: cut 10 lays out every segment itself).

``--stages`` (with ``--package``) also builds the last cut's package once more in a process of
its own with each DuckDB query on its calling thread (``threads = 1``), summing each stage's
thread CPU across the workers that run it side by side, with its system time and its minor page
faults (first touches of fresh memory): where the CPU goes (reading, tally, the database CSV and
zips, the site's tables and files, hashing and writing the package).

Goals of issue 12: one late cut of the three elections to a signed package ≤ 10 s and ≤ 4 GB; a
cut during the night ≤ 3 s.

    .venv/bin/python benchmarks/bench_national.py [--seed 1] [--repeat 3] [--election DIR]
        [--package [--repeat-package 5] [--only-package] [--stages] [--cold]]

``--package --only-package --repeat-package 0``: only a night's packages (its preparation and
cuts).
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
from datetime import datetime
from pathlib import Path

BIN = Path(sys.executable).with_name("prepcast")


def run(*argv: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak memory (KiB) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([str(BIN), *argv], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(name: str, runs: list[tuple[float, float, int]], loads: list[str]) -> None:
    walls = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    print(f"{name}: median wall {statistics.median(walls):.2f} s (best {min(walls):.2f}), "
          f"median CPU {statistics.median(cpus):.2f} s, peak memory "
          f"{max(r[2] for r in runs) / 1024:.0f} MiB; load average {' | '.join(loads)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--election", type=Path, help="an ine-2024 election directory already generated")
    ap.add_argument("--package", action="store_true",
                    help="also `prepcast cut build` of the last cut to a signed package, and a "
                         "night's packages cut after cut")
    ap.add_argument("--repeat-package", type=int, default=5,
                    help="cut build runs (median; 0: only a night's packages)")
    ap.add_argument("--only-package", action="store_true",
                    help="with --package: skip database build and the night of databases")
    ap.add_argument("--stages", action="store_true",
                    help="with --package: the CPU of each stage of one cut build, per thread")
    ap.add_argument("--cold", action="store_true",
                    help="with --package: the night's first cut (cut 10) lays out every acta "
                         "segment itself (no segments laid out as of cut 9 beforehand)")
    ap.add_argument("--stages-one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stages_one:
        stages_one(*map(Path, args.stages_one))
        return 0
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        election = args.election
        if election is None:
            election = root / "e"
            before = load()
            r = run("election", "generate", "--profile", "ine-2024", "--seed", str(args.seed),
                    "--no-images", "--out", str(election))
            report("election generate --profile ine-2024 --no-images", [r], [before, load()])
        lines = sum(1 for _ in (election / "casillas.csv").open(encoding="utf-8")) - 1
        actas = sum(sum(1 for _ in f.open(encoding="utf-8")) - 1
                    for f in sorted((election / "capturas").glob("*.csv")))
        print(f"{lines} casillas, {actas} records in the three feeds")
        cuts = (("last cut (2024-06-03 20:00)", "2024-06-03T20:00-06:00"),
                ("night cut (2024-06-02 23:00)", "2024-06-02T23:00-06:00"))
        for name, at in () if args.package and args.only_package else cuts:
            runs, loads = [], []
            for i in range(args.repeat):
                loads.append(load())
                runs.append(run("database", "build", str(election), "--at", at, "--out",
                                str(root / f"db-{i}")))
            report(f"database build, {name}", runs, loads)
        if not (args.package and args.only_package):
            night(election)
        if args.package:
            package(election, root, args.repeat_package, stages=args.stages, late=not args.cold)
    return 0


def stages_one(election: Path, keys: Path, out: Path) -> None:
    """(In a process of its own.) One cut build with each stage's thread CPU summed."""
    import collections
    import threading
    from collections.abc import Callable
    from typing import Any

    import prepcast.election._columns_read as read
    import prepcast.election.columnar as columnar
    import prepcast.formats.write_prep_csv_columns as dbcols
    import prepcast.package.build as build
    import prepcast.publish.cut as cut
    import prepcast.site._columns_sql as sitesql
    import prepcast.site.columns as site
    from prepcast.election.schedule import cut_number
    from prepcast.package import load_signer

    spent: collections.defaultdict[str, float] = collections.defaultdict(float)
    # system time and minor page faults (first touches of memory) by stage, per thread
    system: collections.defaultdict[str, float] = collections.defaultdict(float)
    faults: collections.defaultdict[str, int] = collections.defaultdict(int)
    lock = threading.Lock()

    def timed(owner: Any, name: str, label: str) -> None:
        fn: Callable[..., Any] = getattr(owner, name)
        # the package's files are written by threads of its own: the process's CPU meanwhile
        clock = time.process_time if name == "_write_tree" else time.thread_time
        who = resource.RUSAGE_SELF if name == "_write_tree" else resource.RUSAGE_THREAD

        def run(*a: Any, **k: Any) -> Any:
            t, u = clock(), resource.getrusage(who)
            try:
                return fn(*a, **k)
            finally:
                v = resource.getrusage(who)
                with lock:
                    spent[label] += clock() - t
                    system[label] += v.ru_stime - u.ru_stime
                    faults[label] += v.ru_minflt - u.ru_minflt

        setattr(owner, name, run)

    for owner, name, label in (
            (read, "load_casillas", "read: catalog"), (read, "load_feed", "read: feeds"),
            (columnar, "load_casillas", "read: catalog"), (columnar, "load_feed", "read: feeds"),
            (columnar, "_tally", "tally"),
            (dbcols, "database_csv_columns", "database CSV (rows formatted, in order)"),
            (dbcols, "database_zip", "database zips (deflate)"),
            (site.ColumnSiteWriter, "_make_static", "site: tables made once (records' JSON, catalogs)"),
            (sitesql, "cut_tables", "site: the cut's tables"),
            (sitesql, "segment_tables", "site: segments' tables"),
            (site.ColumnSiteWriter, "_segments", "site: segments (tables, text, names)"),
            (site.ColumnSiteWriter, "_election_on", "site: each election's files in all"),
            (cut, "sha256_hex", "package: hashes"), (build, "_write_tree", "package: writing")):
        timed(owner, name, label)
    t, c = time.perf_counter(), time.process_time()
    ce = cut.open_election(election)
    if isinstance(ce, columnar.ColumnElection):
        ce.con.execute("SET threads = 1")  # as the engine leaves it: each query on its thread
    read_cpu = time.process_time() - c
    at = datetime.fromisoformat("2024-06-03T20:00-06:00")
    cut.build_cut(ce, at, load_signer(keys), out)
    cpu = time.process_time() - c
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"stages: one cut build in process, {time.perf_counter() - t:.2f} s wall, {cpu:.2f} s CPU "
          f"(reading {read_cpu:.2f} s), cut {cut_number(ce.proceso, at)}, peak "
          f"{usage.ru_maxrss / 1024:.0f} MiB, {usage.ru_stime:.2f} s system, {usage.ru_minflt} "
          "minor page faults; thread CPU by stage, its system part and its minor page faults "
          "(nested rows are within the one after them):")
    for label, secs in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"stages: {secs:6.2f} s  ({system[label]:5.2f} s system, {faults[label]:7d} faults)  "
              f"{label}")


def package(election: Path, root: Path, repeat: int, *, stages: bool = False,
            late: bool = True) -> None:
    import gzip
    import json

    from prepcast.package import init_keys

    init_keys(root / "keys")
    if repeat == 0:  # --repeat-package 0: a night's packages only
        night_packages(election, root, late=late)
        return
    runs, loads = [], []
    for i in range(repeat):
        loads.append(load())
        runs.append(run("cut", "build", str(election), "--at", "2024-06-03T20:00-06:00", "--keys",
                        str(root / "keys"), "--ejercicio", "jornada", "--out",
                        str(root / f"pkg-{i}")))
    report("cut build, last cut (2024-06-03 20:00) to a signed package", runs, loads)
    pkg = root / "pkg-0"
    files = [p for p in pkg.rglob("*") if p.is_file()]
    print(f"package: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
    data = json.loads((pkg / "json" / "main.json").read_bytes())["signed"]["data"]
    first = ["index.html", "json/main.json", data["proceso"], data["elecciones"][0]["entidad"],
             *(p.relative_to(pkg).as_posix() for p in (pkg / "assets").iterdir())]
    gz = sum(len(gzip.compress((pkg / p).read_bytes(), 6)) for p in first)
    print(f"package: first view {len(first)} requests, {gz / 1024:.1f} KB gzip (goal: 6, 150 KB)")
    for i in range(repeat):
        shutil.rmtree(root / f"pkg-{i}")
    if stages:
        print(f"stages: load average {load()}")
        subprocess.run([sys.executable, __file__, "--stages-one", str(election), str(root / "keys"),
                        str(root / "pkg-stages")], check=True)
        shutil.rmtree(root / "pkg-stages")
        print(f"stages: load average {load()}")
    night_packages(election, root, late=late)


def night_packages(election: Path, root: Path, *, late: bool = True) -> None:
    """A night's cuts as the runner builds them: the election read on columns and the night's
    tables made once (``CutBuilder.prepare``, which the runner does before its first cut is
    due), then, as a runner started or restarted at 23:00 does (``late``), the acta segments as
    of cut 9 (``CutBuilder.start_at``); then one CutBuilder, each cut's package after the one
    before (files the previous package holds hard-linked). Without ``late`` (``--cold``) the
    first cut lays out every segment itself."""
    from prepcast.election.schedule import cut_time
    from prepcast.package import load_signer
    from prepcast.publish.cut import CutBuilder, open_election

    t, c = time.perf_counter(), time.process_time()
    ce = open_election(election)
    print(f"night packages: preparation, election read {time.perf_counter() - t:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU; load average {load()}")
    t, c = time.perf_counter(), time.process_time()
    builder = CutBuilder(ce, load_signer(root / "keys"))
    builder.prepare()
    print(f"night packages: preparation, the night's tables {time.perf_counter() - t:.2f} s "
          f"wall, {time.process_time() - c:.2f} s CPU (before the first cut is due); load "
          f"average {load()}")
    if late:  # a runner started (or restarted) late: the segments as of the cut before
        t, c = time.perf_counter(), time.process_time()
        before = builder.start_at(10)
        print(f"night packages: preparation, the acta segments as of cut {before} (started "
              f"late) {time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU; "
              f"load average {load()}")
    previous = None
    for n in range(10, 16):
        out = root / f"night-{n}"
        t, c = time.perf_counter(), time.process_time()
        builder.build(cut_time(builder.ed.proceso, n), out, previous=previous)
        print(f"night packages: cut {n}{' (the first)' if previous is None else ''} "
              f"{time.perf_counter() - t:.2f} s wall, "
              f"{time.process_time() - c:.2f} s CPU (goal: 3 s); peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
              f"load average {load()}")
        if previous is not None:
            shutil.rmtree(previous)
        previous = out


def night(election: Path) -> None:
    from prepcast.election.columnar import load_columns, tally_columns
    from prepcast.election.schedule import cut_time
    from prepcast.formats.write_prep_csv_columns import ColumnDatabaseWriter

    t, c = time.perf_counter(), time.process_time()
    ce = load_columns(election)
    assert ce is not None
    print(f"night: read on columns once: {time.perf_counter() - t:.2f} s wall, "
          f"{time.process_time() - c:.2f} s CPU; load average {load()}")
    writer = ColumnDatabaseWriter()
    for n in range(7, 14):
        t, c = time.perf_counter(), time.process_time()
        cut = tally_columns(ce, cut_time(ce.proceso, n), number=n)
        tally_wall, tally_cpu = time.perf_counter() - t, time.process_time() - c
        zips = writer.build(cut)
        ce.release(cut)  # the night keeps no cut it no longer reads
        registered = sum(er.preamble.actas_registradas for er in cut.elections.values())
        print(f"night: cut {n} ({registered} actas registered): tally {tally_wall:.2f} s wall / "
              f"{tally_cpu:.2f} s CPU, with the 3 database zips ({sum(len(z.data) for z in zips) / 1e6:.1f} MB) "
              f"{time.perf_counter() - t:.2f} s wall / {time.process_time() - c:.2f} s CPU; "
              f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
              f"load average {load()}")


if __name__ == "__main__":
    sys.exit(main())
