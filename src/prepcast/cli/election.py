"""`prepcast election generate`: synthetic elections for drills, tests and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from prepcast.election.rules import DEFAULT_PROFILE
from prepcast.election.rules import PROFILES as RULES
from prepcast.election.synthetic import PROFILES, generate
from prepcast.election.synthetic_national import NATIONAL_PROFILES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("election", help="election directories (catalog, candidaturas, capture feeds)")
    s = p.add_subparsers(dest="election_command", metavar="ACTION", required=True)
    g = s.add_parser("generate", help="write a synthetic election shaped like a real one")
    g.add_argument("--profile", choices=sorted([*PROFILES, *NATIONAL_PROFILES]), required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", type=Path, required=True, help="new directory to write")
    g.add_argument("--no-images", action="store_true",
                   help="draw no acta images (CODIGO_INTEGRIDAD from the acta's figures): faster")
    g.set_defaults(handler=run_generate)
    i = s.add_parser("import", help="make an election directory from a published PREP database")
    i.add_argument("file", type=Path, metavar="FILE",
                   help="a PREP database in INE's layout or a variant (CSV), or the zip an "
                        "institute publishes holding one")
    i.add_argument("--candidaturas", type=Path, metavar="FILE", help="its candidaturas CSV")
    i.add_argument("--catalogo", type=Path, metavar="FILE",
                   help="a casillas.csv catalog (otherwise built from the rows)")
    i.add_argument("--rules", choices=sorted(RULES), default=DEFAULT_PROFILE,
                   help="counting-rules profile of the institute")
    i.add_argument("--eleccion", metavar="ID",
                   help="the election's id (default: from the database CSV's name, inside a zip too)")
    i.add_argument("--instituto", metavar="NAME",
                   help="the institute in the proceso id, e.g. IEEM (default: the database CSV's "
                        "name up to '_')")
    i.add_argument("--last-cut", metavar="TIME",
                   help="the night's last scheduled cut (ISO date-time; default: FILE's cut), "
                        "for a directory made from a capture system's first drop")
    i.add_argument("--cut-minutes", type=int, default=20, metavar="N",
                   help="minutes between scheduled cuts (default 20)")
    i.add_argument("--out", type=Path, required=True, help="new directory to write")
    i.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from datetime import datetime

    from prepcast.errors import InputError
    from prepcast.formats.import_prep_csv import import_database

    last_cut = None
    if args.last_cut is not None:
        try:
            last_cut = datetime.fromisoformat(args.last_cut)
        except ValueError:
            last_cut = None
        if last_cut is None or last_cut.tzinfo is None:
            raise InputError(f"--last-cut {args.last_cut!r}: an ISO date-time with its UTC "
                             "offset, e.g. 2024-06-03T20:00-06:00")
    got = import_database(args.file, args.out, candidaturas=args.candidaturas,
                          catalogo=args.catalogo, rules=args.rules, eleccion=args.eleccion,
                          instituto=args.instituto, cut_minutes=args.cut_minutes,
                          last_cut=last_cut)
    print(f"wrote {got.path}: election {got.eleccion}, {got.casillas} casillas, {got.actas} actas, "
          f"last cut {got.cut.isoformat()}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    out = generate(args.profile, args.seed, args.out, images=not args.no_images)
    print(f"wrote {out}")
    return 0
