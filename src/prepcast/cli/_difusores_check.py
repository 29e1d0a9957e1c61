"""``prepcast difusores check NAME|--all``: the compliance checks, their reports and exit status
(0 every difusor checked passed, 1 some failed; 2 bad registry or arguments)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prepcast.errors import InputError


def register(cmd: Callable[..., argparse.ArgumentParser]) -> None:
    c = cmd("check", "check difusores' servers against the call (SFTP, disk, speed, HTTPS, "
                     "Cache-Control, clock)", _check, name_arg=False)
    c.add_argument("name", nargs="?", metavar="NAME")
    c.add_argument("--all", action="store_true", help="every difusor not dropped or blocked")
    c.add_argument("--json", action="store_true", help="print the reports as JSON")
    c.add_argument("--out", type=Path, metavar="DIR",
                   help="write each report (HTML, PDF, JSON) here")
    c.add_argument("--no-pdf", action="store_true", help="with --out: HTML and JSON only")
    c.add_argument("--no-activate", action="store_true",
                   help="do not make a test package live (no Cache-Control or identity check)")
    c.add_argument("--by", help="who records the result (default: the login name)")
    c.add_argument("--trust", type=Path, metavar="ROOT_PUB",
                   help="the institute's root public key: the cut a difusor serves (checked "
                        "when no test package is made live) must carry the institute's signature")


def _check(args: argparse.Namespace) -> int:
    from prepcast.registry import load_registry
    from prepcast.registry.checks import check_all, record, write_reports

    if bool(args.name) == bool(args.all):
        raise InputError("give one difusor NAME or --all")
    vouch = None
    if args.trust is not None:
        from prepcast.files import read_bytes
        from prepcast.monitor.vouch import signed_by
        from prepcast.package.sign import parse_public_key

        vouch = signed_by(parse_public_key(read_bytes(args.trust, field="--trust"), str(args.trust)))
    reg = load_registry(args.registry)
    if args.all:
        targets = [d for d in reg.difusores if d.status not in ("baja", "bloqueado")]
    else:
        d = reg.get(args.name)
        if d is None:
            raise InputError.at(args.registry, f"no difusor named {args.name!r}")
        targets = [d]
    if args.out is not None:
        _report_folder(args.out)
    if not targets:
        print("no difusor to check: none is registered outside baja and bloqueado",
              file=sys.stderr if args.json else sys.stdout)
        if args.json:
            print("[]")
        return 0

    def done(r: Any) -> None:
        if not args.json:
            verdict = ("cumple" if r.complete else
                       f"cumple lo evaluado, {len(r.not_evaluated)} sin evaluar" if r.passed
                       else f"NO cumple ({len(r.failed)})")
            print(f"{r.difusor:<24} {verdict:<16} modo {r.modo or '-':<5} {r.seconds:6.1f} s",
                  flush=True)
            for f in r.failed:
                print(f"    ✘ {f.titulo}: {f.detalle}")
            if r.passed:
                for f in r.not_evaluated:
                    print(f"    ? {f.titulo}: {f.detalle}")

    reports = asyncio.run(check_all(targets, reg, activate=not args.no_activate, on_done=done,
                                    vouch=vouch))
    if args.out is not None:
        for r in reports:
            write_reports(r, args.out, pdf=not args.no_pdf)
    validated = record(reg, reports, args.by or "prepcast difusores check")
    if args.json:
        print(json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=2))
    else:
        for name in validated:
            print(f"{name}: validado")
    return 0 if all(r.passed for r in reports) else 1


def _report_folder(out: Path) -> None:
    """Make sure the reports can be written before any check runs (they take minutes)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.at(out, f"--out: cannot use this as the reports' folder "
                                 f"({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError.at(out, "--out: the reports' folder is not writable")
