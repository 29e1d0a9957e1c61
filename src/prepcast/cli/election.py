"""`prepcast election generate`: synthetic elections for drills, tests and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.election.synthetic import PROFILES, generate


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("election", help="election directories (catalog, candidaturas, capture feeds)")
    s = p.add_subparsers(dest="election_command", metavar="ACTION", required=True)
    g = s.add_parser("generate", help="write a synthetic election shaped like a real one")
    g.add_argument("--profile", choices=sorted(PROFILES), required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", type=Path, required=True, help="new directory to write")
    g.set_defaults(handler=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    out = generate(args.profile, args.seed, args.out)
    print(f"wrote {out}")
    return 0
