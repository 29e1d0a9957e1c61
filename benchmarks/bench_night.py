"""The night runner's overhead: from a cut's scheduled time to the start of its push, against
the cut's own build time (goal: at most 1 s more), for edomex-2024.

    .venv/bin/python benchmarks/bench_night.py [--profile edomex-2024] [--cuts 6] [--speed 100]

The schedule is played ``--speed`` times faster (20 minutes between cuts become 12 s at 100) so
that every cut waits for its time, as on the night; the runner publishes into a root of its own
and pushes to no difusor (the push itself is measured by bench_distribution.py). Prints, per cut:
due → push start, the build, verify and publish times, and the overhead (due → push start minus
the build, and minus the night's preparation where it ran after the cut was due: the first cut
is due at once when the schedule starts with the run); then the worst overhead. The runner's
preparation before its first cut (reading, the night's tables) on a line of its own. Report the
load average beside the figures.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime
from pathlib import Path

from prepcast.election import cut_time, load_election_dir
from prepcast.election.synthetic import generate
from prepcast.package import init_keys
from prepcast.publish.runner import CutDone, NightRunner, RunOptions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cuts", type=int, default=6)
    ap.add_argument("--speed", type=float, default=100.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-night-") as tmp:
        base = Path(tmp)
        generate(args.profile, args.seed, base / "eleccion")
        init_keys(base / "llaves")
        ed = load_election_dir(base / "eleccion")
        done: list[CutDone] = []
        runner = NightRunner(RunOptions(
            election=base / "eleccion", keys=base / "llaves", state=base / "estado",
            publish_root=base / "instituto", ejercicio="simulacro-1", speed=args.speed,
            until=cut_time(ed.proceso, args.cuts), ntp_server=None), on_cut=done.append, ed=ed)
        runner.run()
        with open("/proc/loadavg", encoding="ascii") as f:
            load = " ".join(f.read().split()[:3])
        print(f"{args.profile}: {len(done)} cuts at speed {args.speed:g} (load average {load})")
        prep = runner.state.doc["preparacion"]
        span = prep["lectura_s"] + prep["tablas_s"] + prep["segmentos_s"]
        print(f"preparation before the first cut (engine: {prep['motor']}): reading "
              f"{prep['lectura_s']:.2f} s, the night's tables {prep['tablas_s']:.2f} s, segments "
              f"{prep['segmentos_s']:.2f} s")
        prepared = datetime.fromisoformat(prep["at"])
        print(" cut  due→push   build  verify  publish  overhead")
        worst = 0.0
        for c in done:
            to_push = (c.push_started - c.due).total_seconds()
            after_due = min(span, max(0.0, (prepared - c.due).total_seconds()))
            overhead = to_push - c.build_seconds - after_due
            worst = max(worst, overhead)
            print(f"{c.number:4d}  {to_push:7.2f}s {c.build_seconds:6.2f}s {c.verify_seconds:6.2f}s "
                  f"{c.publish_seconds:7.2f}s  {overhead:7.2f}s")
        print(f"worst overhead (due → push start, minus the build): {worst:.2f} s (goal ≤ 1 s)")


if __name__ == "__main__":
    main()
