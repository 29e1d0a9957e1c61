"""Benchmark: the difusor daemon receiving, verifying and activating an ``edomex-2024`` cut.

Two consecutive mid-night cuts are built once; then, in fresh daemon roots, the daemon takes
the whole first cut (an archive of every file) and the delta of the next one (only what changed,
completed from the release it holds), each from the inbox to ``current``: one ``step()`` each.
With ``--against REV`` the same runs alternate with the code of an older commit (checked out in
a temporary git worktree), in the same process setup, and the ratio is printed: the hardening
(bounded unpacking, signatures before any link, the pure verification core) must cost at most
5 %.

Run: ``.venv/bin/python benchmarks/bench_daemon.py [--profile P] [--runs N] [--against REV]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DRIVER = r"""
import asyncio, inspect, json, sys, time
from datetime import datetime, timedelta
from pathlib import Path
import prepcast
from prepcast.difusor.config import DaemonConfig
from prepcast.difusor.daemon import Daemon

work, a_tar, b_tar, now = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
clock = datetime.fromisoformat(now)
config = DaemonConfig(root=work / "www", inbox=work / "inbox", trusted_root=work / "root.pub",
                      event_log=None, syslog=False)
kw = {"clock": lambda: clock} if "clock" in inspect.signature(Daemon).parameters else {}
daemon = Daemon(config, **kw)
out = {"code": str(Path(prepcast.__file__).parents[1])}
try:  # releases and inbox archives named by ejercicio and cut
    from prepcast.package import CutId
    from prepcast.difusor.layout import inbox_name
    named = lambda n: (inbox_name(CutId.of("jornada", n)), CutId.of("jornada", n))
except ImportError:  # older code: by cut number alone
    named = lambda n: (f"{n:04d}.tar", n)
for label, tar, cut in (("full", a_tar, int(sys.argv[5])), ("delta", b_tar, int(sys.argv[5]) + 1)):
    name, expect = named(cut)
    (config.inbox / name).write_bytes(tar.read_bytes())
    t0 = time.perf_counter()
    asyncio.run(daemon.step())
    out[label] = time.perf_counter() - t0
    assert daemon.store.live_cut() == expect, (label, daemon.store.live_cut())
print(json.dumps(out))
"""


def build(root: Path, profile: str, seed: int, at: str) -> tuple[Path, Path, int, datetime]:
    from prepcast.election import cut_number, cut_time, load_election_dir
    from prepcast.election.synthetic import generate
    from prepcast.package import init_keys, load_signer
    from prepcast.publish import CutBuilder

    t0 = time.perf_counter()
    ed = load_election_dir(generate(profile, seed, root / "election"))
    init_keys(root / "keys")
    night = CutBuilder(ed, load_signer(root / "keys"))
    n = cut_number(ed.proceso, datetime.fromisoformat(at))
    a, b = root / "cut-a", root / "cut-b"
    night.build(cut_time(ed.proceso, n), a)
    mb = night.build(cut_time(ed.proceso, n + 1), b, previous=a)
    print(f"packages: {profile} seed {seed}, cuts {n} and {n + 1}, built in "
          f"{time.perf_counter() - t0:.1f} s")
    return a, b, n, mb.not_before


def archives(root: Path, a: Path, b: Path) -> tuple[Path, Path]:
    from prepcast.distribution.contents import read_package
    from prepcast.distribution.delta import lacking, write_delta_archive

    pa, pb = read_package(a), read_package(b)
    full = write_delta_archive(pa, lacking(pa, {}), root / "full.tar")
    delta = write_delta_archive(pb, lacking(pb, pa.files), root / "delta.tar")
    print(f"archives: full {len(pa.files)} files {full.stat().st_size / 1e6:.1f} MB; "
          f"delta {len(lacking(pb, pa.files))} files {delta.stat().st_size / 1e6:.1f} MB")
    return full, delta


def run_once(src: Path, root: Path, full: Path, delta: Path, cut: int, now: datetime) -> dict[
        str, float]:
    with tempfile.TemporaryDirectory(dir=root) as d:
        work = Path(d)
        (work / "root.pub").write_bytes((root / "keys" / "root.pub").read_bytes())
        env = dict(os.environ, PYTHONPATH=str(src))
        done = subprocess.run([sys.executable, "-c", DRIVER, str(work), str(full), str(delta),
                               now.isoformat(), str(cut)], env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"driver failed ({src}):\n{done.stderr[-2000:]}")
        out: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        assert Path(str(out.pop("code"))).resolve() == src.resolve(), "wrong code imported"
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--at", default="2024-06-02T23:00:00-06:00")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--against", metavar="REV", help="also run an older commit, alternating")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
        root = Path(tmp)
        a, b, n, not_before = build(root, args.profile, args.seed, args.at)
        full, delta = archives(root, a, b)
        trees = {"this tree": REPO / "src"}
        if args.against:
            old = root / "old"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(old),
                            args.against], check=True, capture_output=True)
            trees[args.against] = old / "src"
        try:
            got: dict[str, dict[str, list[float]]] = {k: {"full": [], "delta": []} for k in trees}
            for _ in range(args.runs):
                for label, src in trees.items():
                    r = run_once(src, root, full, delta, n, not_before)
                    for k in ("full", "delta"):
                        got[label][k].append(r[k])
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(root / "old")], check=False, capture_output=True)
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"daemon step (inbox -> verified -> current), median of {args.runs} runs, "
              f"load average {' '.join(load)}:")
        for label, r in got.items():
            print(f"  {label:>12}: full cut {statistics.median(r['full']):.3f} s, "
                  f"delta cut {statistics.median(r['delta']):.3f} s")
        if args.against:
            new, old_r = got["this tree"], got[args.against]
            for k in ("full", "delta"):
                ratio = statistics.median(new[k]) / statistics.median(old_r[k])
                print(f"  ratio this tree / {args.against}, {k} cut: {ratio:.3f}")


if __name__ == "__main__":
    main()
