"""`prepcast database build`: the PREP database zips of one cut."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.election import load_election_dir, tally_cut
from prepcast.election.schedule import cut_number, cut_time, is_last_cut, parse_time
from prepcast.formats.write_prep_csv import write_databases


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("database", help="the PREP database (CSV in zips) of a cut")
    s = p.add_subparsers(dest="database_command", metavar="ACTION", required=True)
    b = s.add_parser("build", help="write each election's database zip for the cut at TIME")
    b.add_argument("election_dir", type=Path, metavar="ELECTION_DIR")
    b.add_argument("--at", required=True, metavar="TIME",
                   help="ISO date-time, e.g. 2024-06-02T23:40-06:00 (the proceso's offset if none)")
    b.add_argument("--out", type=Path, required=True, metavar="DIR")
    b.set_defaults(handler=run_build)


def run_build(args: argparse.Namespace) -> int:
    ed = load_election_dir(args.election_dir)
    n = cut_number(ed.proceso, parse_time(args.at, ed.proceso))
    # The database of the latest scheduled cut at or before --at, dated as that cut.
    cut = tally_cut(ed.proceso, ed.casillas, ed.feeds, cut_time(ed.proceso, n), number=n,
                    last=is_last_cut(ed.proceso, n))
    for path in write_databases(cut, args.out):
        print(path)
    return 0
