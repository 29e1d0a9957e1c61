"""``prepcast cut``: build, verify and compare the signed package of a cut."""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from prepcast.election.schedule import parse_time
from prepcast.errors import InputError, IntegrityError
from prepcast.package import Manifest, diff, load_signer, verify_package
from prepcast.package.ejercicio import Ejercicio
from prepcast.package.keys import load_root_public
from prepcast.publish import build_cut, read_difusores
from prepcast.publish.cut import open_election

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cut", help="build, verify and compare cut packages")
    cs = p.add_subparsers(dest="cut_command", metavar="ACTION", parser_class=type(p))
    cs.required = True

    b = cs.add_parser("build", help="write the signed package of the cut at TIME")
    b.add_argument("election_dir", type=Path, metavar="ELECTION_DIR")
    b.add_argument("--at", required=True, metavar="TIME",
                   help="ISO date-time; the latest scheduled cut at or before it is built")
    b.add_argument("--keys", type=Path, required=True, metavar="KEYDIR")
    b.add_argument("--out", type=Path, required=True, metavar="PKG")
    b.add_argument("--previous", type=Path, metavar="PKG", help="the previous cut's package")
    b.add_argument("--difusores", type=Path, metavar="FILE", help="official difusores (JSON)")
    b.add_argument("--registry", type=Path, metavar="REGISTRY",
                   help="take the official difusores (activo, with logos) from this registry")
    b.add_argument("--built-at", metavar="TIME", help="built_at of the manifest (default: cut time)")
    b.add_argument("--not-before", metavar="TIME",
                   help="embargo: no difusor shows the cut before TIME (default: the cut's time); "
                        "a near-future TIME lets a drill rehearse activation at a real time")
    b.add_argument("--ejercicio", required=True, metavar="NAME",
                   help="prueba-N, simulacro-N or jornada, signed into the package (required: a "
                        "difusor that takes a jornada cut refuses every later drill)")
    b.set_defaults(handler=_build)

    v = cs.add_parser("verify", help="check a package: signatures, files, rollback, chain")
    v.add_argument("package", type=Path, metavar="PKG")
    v.add_argument("--trust", type=Path, required=True, metavar="ROOT_PUBKEY")
    v.add_argument("--last", metavar="CUT_OR_STATE",
                   help="the cut already shown: a number, a package directory or a manifest")
    v.add_argument("--allow-expired", action="store_true",
                   help="check an old package as of its own time: do not refuse it for having "
                        "expired (difusores refuse it all the same)")
    v.set_defaults(handler=_verify)

    d = cs.add_parser("diff", help="what a receiver holding OLD must fetch to have NEW")
    d.add_argument("old", type=Path, metavar="OLD")
    d.add_argument("new", type=Path, metavar="NEW")
    d.add_argument("--list", action="store_true", help="list every path to fetch")
    d.set_defaults(handler=_diff)


def _build(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        ejercicio = Ejercicio.parse(args.ejercicio).name
    except ValueError as exc:
        raise InputError(f"--ejercicio: {exc}") from None
    signer = load_signer(args.keys)
    if args.registry is not None and args.difusores is not None:
        raise InputError("give --difusores FILE or --registry REGISTRY, not both")
    difusores = read_difusores(args.difusores)
    if args.registry is not None:
        from prepcast.registry import load_registry, public_list

        difusores = public_list(load_registry(args.registry))
    if args.previous is not None and not args.previous.exists():
        raise InputError.at(args.previous, "no such package (--previous)")
    ed = open_election(args.election_dir)
    at = parse_time(args.at, ed.proceso)
    built_at = parse_time(args.built_at, ed.proceso) if args.built_at else None
    not_before = parse_time(args.not_before, ed.proceso) if args.not_before else None
    m = build_cut(ed, at, signer, args.out, previous=args.previous, difusores=difusores,
                  built_at=built_at, ejercicio=ejercicio, not_before=not_before)
    log.info("%s built in %.2f s", m.cut_id, time.perf_counter() - t0)
    print(f"{m.cut_id} ({m.built_at.isoformat()}): {len(m.files) + 3} files, "
          f"{m.total_size:,} bytes, manifest sha256 {m.digest}, signed by {m.keyid} → {args.out}")
    return 0


def _last(text: str | None) -> int | Path | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    path = Path(text)
    if not path.exists():
        raise InputError.at(path, "--last is neither a cut number nor an existing package or manifest")
    return path


def _verify(args: argparse.Namespace) -> int:
    trust = load_root_public(args.trust)
    if not args.package.exists():
        raise InputError.at(args.package, "no such package directory")
    now = None if args.allow_expired else datetime.now(UTC)
    try:
        m: Manifest = verify_package(args.package, trust, last=_last(args.last), now=now)
    except IntegrityError as exc:
        if any(": expired at " in f for f in exc.failures):
            raise IntegrityError([*exc.failures, "(every difusor refuses an expired package; "
                                  "--allow-expired checks the rest of an old one)"]) from None
        raise
    print(f"{args.package}: {m.cut_id} of {m.proceso} verified: {len(m.files) + 3} files, "
          f"{m.total_size:,} bytes, signed by {m.keyid}, not before {m.not_before.isoformat()}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    for p in (args.old, args.new):
        if not p.exists():
            raise InputError.at(p, "no such package")
    d = diff(args.old, args.new)
    print(f"cut {d.old_cut} → {d.new_cut}: fetch {d.count} files, {d.bytes:,} bytes "
          f"({d.share:.1%} of {d.total_bytes:,} bytes in {d.total_files} files); "
          f"{len(d.reused)} files reused, {len(d.removed)} dropped")
    if args.list:
        for path, size in sorted(d.fetch.items()):
            print(f"{size:>12,}  {path}")
    return 0
