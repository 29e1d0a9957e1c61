"""`prepcast database build`: the PREP database zips of one cut."""

from __future__ import annotations

import argparse
from pathlib import Path


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
    from prepcast.election.columnar import load_columns, tally_columns
    from prepcast.election.schedule import cut_number, cut_time, is_last_cut, parse_time
    from prepcast.formats.write_prep_csv import write_database_zips
    from prepcast.formats.write_prep_csv_columns import build_databases_columns

    # On columns when the files are plain (the usual case); otherwise on rows, which read every
    # spelling the files allow and report every problem with its line. Same bytes either way.
    columns = load_columns(args.election_dir)
    if columns is not None:
        p = columns.proceso
        n = cut_number(p, parse_time(args.at, p))
        # The database of the latest scheduled cut at or before --at, dated as that cut.
        cut = tally_columns(columns, cut_time(p, n), number=n, last=is_last_cut(p, n))
        zips = build_databases_columns(cut)
    else:
        from prepcast.election import load_election_dir, tally_cut
        from prepcast.formats.write_prep_csv import build_databases

        ed = load_election_dir(args.election_dir)
        p = ed.proceso
        n = cut_number(p, parse_time(args.at, p))
        zips = build_databases(tally_cut(p, ed.casillas, ed.feeds, cut_time(p, n), number=n,
                                         last=is_last_cut(p, n)))
    for path in write_database_zips(zips, args.out):
        print(path)
    return 0
