"""`prepcast results recount`: recount a published PREP database under named counting rules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from prepcast.election.rules import DEFAULT_PROFILE, PROFILES, get_profile
from prepcast.errors import IntegrityError
from prepcast.formats.read_prep_csv import read_prep_csv
from prepcast.formats.recount import recount


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("results", help="recount published PREP databases")
    s = p.add_subparsers(dest="results_command", metavar="ACTION", required=True)
    r = s.add_parser("recount", help="recount every row and print the 13 preamble figures")
    r.add_argument("file", type=Path, metavar="FILE", help="a published PREP database: the CSV, or the database zip that holds it")
    r.add_argument("--rules", choices=sorted(PROFILES), default=DEFAULT_PROFILE)
    r.add_argument("--last-cut", action="store_true",
                   help="the file is the last cut: participation includes especiales")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(handler=run_recount)


def run_recount(args: argparse.Namespace) -> int:
    """Exit 0 when the recount gives every published figure and no row disagrees; else 3
    (the figures are printed all the same), so ``recount FILE && …`` means something."""
    db = read_prep_csv(args.file)
    result = recount(db, get_profile(args.rules), last_cut=args.last_cut)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        print(f"{db.title}\n{db.cut_line}  ({result.rows} rows, rules {args.rules})")
        width = max(len(k) for k in result.preamble.as_dict())
        for name, value in result.preamble.as_dict().items():
            pub = db.preamble.get(name, "")
            mark = "" if pub.strip() == str(value) else f"   (published {pub})"
            print(f"{name:<{width}}  {value}{mark}")
        print(f"{'rows_mismatched':<{width}}  {result.rows_mismatched}")
        for line in result.mismatched_lines[:20]:
            print(f"  line {line}: published CONTABILIZADA or TOTAL_VOTOS_CALCULADO differs")
    figures = len(result.differs_from_published())
    if figures or result.rows_mismatched:
        sys.stdout.flush()
        raise IntegrityError(f"{args.file}: the recount under rules {args.rules} differs from "
                             f"what the file publishes: {figures} preamble figure(s), "
                             f"{result.rows_mismatched} row(s) (other --rules, or --last-cut?)")
    return 0
