"""Where a simulacro's night spent its wall time, read from the folder it leaves
(``bench_simulacro.py`` prints it after a run; alone, on any simulacro folder)::

    .venv/bin/python benchmarks/night_breakdown.py simulacro [--cuts]

Per cut, from the runner's state (``estado/night.json``): build, verify, publish, and the push
(to every difusor: each one's staging and activation). From the daemon's event log: its take-in
of each archive (received → verified, unpack and hashes) and how many files it hashed. From the
monitor's state: incidents (an honest difusor flagged shows here). Totals, medians and maxima,
and the night's own wall time (first build to last push ended).
"""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any


def _t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _stats(xs: list[float]) -> str:
    if not xs:
        return "—"
    return (f"total {sum(xs):7.1f} s · median {statistics.median(xs):5.1f} s · "
            f"max {max(xs):5.1f} s ({len(xs)})")


def _daemon_take_in(out: Path) -> dict[int, tuple[float, int | None]]:
    """cut -> (seconds from received to verified, files hashed) of the first local daemon."""
    logs = sorted((out / "difusores").glob("local-daemon-*/events.jsonl"))
    if not logs:
        return {}
    received: dict[int, datetime] = {}
    taken: dict[int, tuple[float, int | None]] = {}
    for line in logs[0].open(encoding="utf-8"):
        e = json.loads(line)
        if e.get("event") == "received":
            received[e["cut"]] = _t(e["time"])
        elif e.get("event") == "verified" and e.get("cut") in received:
            taken[e["cut"]] = ((_t(e["time"]) - received[e["cut"]]).total_seconds(),
                               e.get("hashed"))
    return taken


def breakdown(out: Path, per_cut: bool = False) -> list[str]:
    doc: dict[str, Any] = json.loads((out / "estado" / "night.json").read_text(encoding="utf-8"))
    cuts = [c for _, c in sorted(doc["cuts"].items(), key=lambda kv: int(kv[0]))
            if "publish" in c["steps"]]
    take_in = _daemon_take_in(out)
    lines: list[str] = []
    steps: dict[str, list[float]] = {"build": [], "verify": [], "publish": [], "push": []}
    phases: dict[str, list[float]] = {}
    for c in cuts:
        s = c["steps"]
        for k in steps:
            if s.get(k, {}).get("seconds") is not None:
                steps[k].append(float(s[k]["seconds"]))
        for name, d in (s.get("push", {}).get("difusores") or {}).items():
            for phase in ("stage", "activate"):
                if phase in d:
                    phases.setdefault(f"{name} {phase}", []).append(float(d[phase]["seconds"]))
        if per_cut:
            push = s.get("push", {})
            t = take_in.get(c["number"])
            lines.append(
                f"cut {c['number']:3d}: build {s['build']['seconds']:6.1f} s, verify "
                f"{s['verify']['seconds']:5.2f} s, publish {s['publish']['seconds']:5.2f} s, push "
                f"{push.get('seconds', float('nan')):6.1f} s"
                + (f", daemon take-in {t[0]:5.1f} s ({t[1]} files hashed)" if t else ""))
    first = _t(cuts[0]["steps"]["build"]["at"]) if cuts else None
    ends = [_t(c["steps"]["push"]["ended"]) for c in cuts if c["steps"].get("push", {}).get("ended")]
    if first is not None and ends:
        build0 = float(cuts[0]["steps"]["build"]["seconds"])
        lines.append(f"night: {len(cuts)} cuts published, {(max(ends) - first).total_seconds() + build0:.1f} s "
                     "from the first build to the last push ended")
    for k, xs in steps.items():
        lines.append(f"{k:8s} {_stats(xs)}")
    for k, xs in sorted(phases.items()):
        lines.append(f"  {k:28s} {_stats(xs)}")
    if take_in:
        lines.append(f"  daemon take-in (received → verified) {_stats([t for t, _ in take_in.values()])}")
    incidents = out / "monitor" / "estado" / "incidents.json"
    if incidents.exists():
        items = json.loads(incidents.read_text(encoding="utf-8")).get("incidents", [])
        kinds: dict[str, int] = {}
        for i in items:
            kinds[f"{i['difusor']} {i['kind']}"] = kinds.get(f"{i['difusor']} {i['kind']}", 0) + 1
        lines.append("monitor incidents: " + (", ".join(f"{k} ×{n}" for k, n in sorted(
            kinds.items())) or "none"))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path, help="a simulacro's --out folder")
    ap.add_argument("--cuts", action="store_true", help="one line per cut as well")
    args = ap.parse_args()
    print("\n".join(breakdown(args.out, args.cuts)))


if __name__ == "__main__":
    main()
