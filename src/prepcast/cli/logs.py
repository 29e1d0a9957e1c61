"""``prepcast logs synth``: a synthetic election-night access log for tests and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.errors import InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("logs", help="tools for web access logs")
    sub = parser.add_subparsers(dest="logs_command", metavar="COMMAND")
    sub.required = True
    synth = sub.add_parser(
        "synth",
        help="write a synthetic election-night access log (nginx combined)",
        description=(
            "An election night in UTC-6 (2 June 2024 18:00 to 3 June 20:00): a surge after 20:00, "
            "spikes after each cut, mostly mobile readers from every entidad and abroad, search "
            "and social referrers, bots, a short 5xx outage and a few malformed lines."
        ),
    )
    synth.add_argument("--out", type=Path, required=True, metavar="FILE")
    synth.add_argument("--lines", type=int, required=True, metavar="N")
    synth.add_argument("--seed", type=int, default=2024, metavar="S")
    synth.add_argument("--events", type=Path, metavar="FILE",
                       help="also write a matching event log (daemon and probe events)")
    synth.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from prepcast.analytics.synth import write_events, write_log

    if args.lines < 1:
        raise InputError.at("--lines", "must be at least 1")
    for out, flag in ((args.out, "--out"), (args.events, "--events")):
        if out is None:
            continue
        if out.is_dir():
            raise InputError.at(out, "is a directory; give a file name", field=flag)
        if not out.parent.is_dir():
            raise InputError.at(out.parent, "directory not found", field=flag)
    count = write_log(args.out, args.lines, args.seed)
    short = "" if count == args.lines else (
        f" (fewer than --lines {args.lines:,}: the night's sessions are drawn at random from "
        "it, and a small night may end short)")
    print(f"{args.out}: {count:,} lines{short}")
    if args.events:
        written = write_events(args.events)
        print(f"{args.events}: {written} events")
    return 0
