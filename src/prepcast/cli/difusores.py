"""``prepcast difusores``: register, check, block and list the official difusores (docs/registry.md).

Registration: ``add``, ``edit``, ``import`` (a registration form's CSV), ``list``, ``show``.
Status: ``status`` (any allowed move), ``block``, ``unblock``, ``history``, ``deliver``,
``pending``. Publication: ``logo`` (check and clean one SVG), ``public`` (the list for
``cut build``). Servers: ``check`` (in :mod:`prepcast.cli._difusores_check`).
Passwords are read from standard input only (``--password-stdin``) and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from prepcast.errors import InputError, PrepcastError, Problem

REGISTRY_HELP = "registry of difusores (TOML; default registry.toml)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from prepcast.cli import _difusores_check

    p = sub.add_parser("difusores", help="register, check, block and list difusores "
                                         "(docs/registry.md)")
    ds = p.add_subparsers(dest="difusores_command", metavar="ACTION", parser_class=type(p))
    ds.required = True

    def cmd(name: str, help_text: str, handler: Any, *, name_arg: bool = True
            ) -> argparse.ArgumentParser:
        c = ds.add_parser(name, help=help_text)
        if name_arg:
            c.add_argument("name", metavar="NAME")
        c.add_argument("--registry", type=Path, default=Path("registry.toml"), help=REGISTRY_HELP)
        c.set_defaults(handler=handler)
        return c

    for name, help_text, handler in (("add", "register a new difusor (as aspirante)", _add),
                                     ("edit", "change settings of a difusor", _edit)):
        c = cmd(name, help_text, handler)
        c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a setting (sub-tables dotted: contacto.email=…); empty VALUE removes it")
        c.add_argument("--personal", action="append", metavar="NOMBRE|ROL|TELEFONO|EMAIL",
                       help="one person of the staff list (repeat; replaces the list)")
        c.add_argument("--password-stdin", action="store_true",
                       help="read the SFTP password from standard input into the secrets file")
        c.add_argument("--by", help="who records the change (default: the login name)")
    i = cmd("import", "register every difusor of a registration form's CSV", _import,
            name_arg=False)
    i.add_argument("csv", type=Path, metavar="CSV")
    i.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a default for every row (e.g. remote_root=/www)")
    i.add_argument("--by", help="who records the registration")
    ls = cmd("list", "one line per difusor: status, site, mode", _list, name_arg=False)
    ls.add_argument("--json", action="store_true")
    sh = cmd("show", "every setting of a difusor (never its password) and its history", _show)
    sh.add_argument("--json", action="store_true")
    st = cmd("status", "move a difusor to another status, recorded with who and why", _status)
    st.add_argument("new", choices=("aspirante", "validado", "activo", "bloqueado", "baja"))
    st.add_argument("--reason", required=True, metavar="TEXT")
    st.add_argument("--by")
    for name, help_text, handler in (
            ("block", "stop pushes to it at once and drop it from the next public list", _block),
            ("unblock", "give a blocked difusor back the status it had", _unblock)):
        c = cmd(name, help_text, handler)
        c.add_argument("--reason", required=True, metavar="TEXT")
        c.add_argument("--by")
    cmd("history", "every recorded change of a difusor", _history)
    dl = cmd("deliver", "record a deliverable (pruebas, simulacro-N, informe, …)", _deliver)
    dl.add_argument("item", metavar="ITEM")
    dl.add_argument("--note", default="", metavar="TEXT")
    dl.add_argument("--by")
    pe = cmd("pending", "what each difusor still owes, with its deadline", _pending,
             name_arg=False)
    pe.add_argument("--election", required=True, type=Path, metavar="ELECTION_DIR",
                    help="the election (its election.toml [difusores] holds the dates)")
    pe.add_argument("--today", type=date.fromisoformat, default=date.today(), metavar="DATE")
    pe.add_argument("--json", action="store_true")
    lg = ds.add_parser("logo", help="check a logo (SVG only) and write it cleaned")
    lg.add_argument("file", type=Path, metavar="FILE")
    lg.add_argument("--out", type=Path, metavar="CLEAN.svg", help="write the cleaned SVG here")
    lg.add_argument("--max-bytes", type=_positive_int, default=256 * 1024, metavar="BYTES")
    lg.set_defaults(handler=_logo)
    pu = cmd("public", "write the public list (JSON) for cut build --difusores", _public,
             name_arg=False)
    pu.add_argument("--out", type=Path, required=True, metavar="FILE")
    _difusores_check.register(cmd)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of bytes, not {value}")
    return value


def _read_password(args: argparse.Namespace) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InputError("--password-stdin: no password on standard input")
    return password


def _add(args: argparse.Namespace) -> int:
    from prepcast.registry.edit import add_difusores
    from prepcast.registry.form import parse_assignments, parse_people

    problems: list[Problem] = []
    values = {"name": args.name, **parse_assignments(args.set, "--set", problems)}
    password = _read_password(args)
    if password is not None:
        values.setdefault("auth", "password")
    people = parse_people(args.personal or [], "--personal")
    add_difusores(args.registry, [(values, password, people)], args.by, "registro",
                  problems=problems)
    print(f"{args.name}: registered as aspirante in {args.registry}")
    return 0


def _edit(args: argparse.Namespace) -> int:
    from prepcast.registry.edit import edit_difusor
    from prepcast.registry.form import parse_assignments, parse_people

    problems: list[Problem] = []
    values = parse_assignments(args.set, "--set", problems)
    people = parse_people(args.personal, "--personal") if args.personal is not None else None
    password = _read_password(args)
    if not values and not problems and people is None and password is None:
        raise InputError("nothing to change: give --set, --personal or --password-stdin")
    edit_difusor(args.registry, args.name, values, password, people, problems)
    print(f"{args.name}: updated")
    return 0


def _import(args: argparse.Namespace) -> int:
    from prepcast.registry.edit import add_difusores
    from prepcast.registry.form import parse_assignments, read_form_csv

    rows = read_form_csv(args.csv, parse_assignments(args.set, "--set"))
    if not rows:
        raise InputError.at(args.csv, "no difusores in the file")
    origins = [(str(args.csv), n) for n in _row_lines(args.csv, len(rows))]
    add_difusores(args.registry, rows, args.by, f"registro importado de {args.csv.name}", origins)
    print(f"{len(rows)} difusores registered as aspirantes from {args.csv}")
    return 0


def _row_lines(csv_path: Path, count: int) -> list[int]:
    import csv as csvmod

    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        reader = csvmod.reader(f)
        next(reader, None)
        lines = []
        for cells in reader:
            if any(c.strip() for c in cells):
                lines.append(reader.line_num)
    return lines[:count]


def _summary(d: Any) -> dict[str, Any]:
    return {"name": d.name, "nombre": d.display_name, "status": d.status, "active": d.active,
            "url": d.url, "mode": d.mode, "host": d.host, "port": d.port}


def _list(args: argparse.Namespace) -> int:
    from prepcast.registry import load_registry

    reg = load_registry(args.registry)
    if args.json:
        print(json.dumps([_summary(d) for d in reg.difusores], ensure_ascii=False, indent=2))
        return 0
    for d in reg.difusores:
        paused = "" if d.active else " (pausado)"
        print(f"{d.name:<24} {d.status + paused:<20} {d.mode:<7} {d.url or '-'}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from prepcast.registry import load_registry, read_history

    reg = load_registry(args.registry)
    d = reg.get(args.name)
    if d is None:
        raise InputError.at(args.registry, f"no difusor named {args.name!r}")
    data = {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(d).items()}
    data.pop("password")
    data.pop("line")
    if d.auth == "password":
        data["password"] = f"(en {reg.secrets})"
    history = [e.as_json() for e in read_history(reg.history).of(d.name)]
    if args.json:
        print(json.dumps({**data, "history": history}, ensure_ascii=False, indent=2, default=str))
        return 0
    for k, v in data.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items() if b) or "-"
        elif isinstance(v, list):
            v = "; ".join(" | ".join(x for x in p.values() if x) for p in v) or "-"
        print(f"{k:<16} {v if v not in ('', None) else '-'}")
    for e in history:
        print(f"  {e['at']}  {e.get('status') or e.get('entrega')}  {e['by']}: {e['why']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from prepcast.registry import set_status

    e = set_status(str(args.registry), args.name, args.new, args.reason, args.by)
    print(f"{args.name}: {e.value} ({e.by}, {e.at:%Y-%m-%d %H:%M} UTC)")
    return 0


def _block(args: argparse.Namespace) -> int:
    from prepcast.registry import block

    e = block(str(args.registry), args.name, args.reason, args.by)
    print(f"{args.name}: bloqueado ({e.by}, {e.at:%Y-%m-%d %H:%M} UTC); no more pushes, "
          "and it leaves the public list at the next cut")
    return 0


def _unblock(args: argparse.Namespace) -> int:
    from prepcast.registry import unblock

    e = unblock(str(args.registry), args.name, args.reason, args.by)
    print(f"{args.name}: {e.value} again ({e.by}, {e.at:%Y-%m-%d %H:%M} UTC)")
    return 0


def _history(args: argparse.Namespace) -> int:
    from prepcast.registry import load_registry, read_history

    reg = load_registry(args.registry)
    if reg.get(args.name) is None:
        raise InputError.at(args.registry, f"no difusor named {args.name!r}")
    for e in read_history(reg.history).of(args.name):
        print(f"{e.at.isoformat()}  {e.kind:<7} {e.value:<12} {e.by}: {e.why}")
    return 0


def _deliver(args: argparse.Namespace) -> int:
    from prepcast.registry import deliver

    e = deliver(str(args.registry), args.name, args.item, args.note, args.by)
    print(f"{args.name}: {e.value} recorded")
    return 0


def _pending(args: argparse.Namespace) -> int:
    from prepcast.registry import load_registry, owed, read_history, read_plazos

    reg = load_registry(args.registry)
    plazos = read_plazos(args.election / "election.toml")
    history = read_history(reg.history)
    rows = [o for d in reg.difusores if d.status != "baja"
            for o in owed(d, plazos, history, args.today, reg.logo_max_bytes)]
    if args.json:
        print(json.dumps([{"difusor": o.difusor, "entregable": o.item.key,
                           "plazo": o.item.due.isoformat(), "vencido": o.overdue,
                           "falta": o.missing} for o in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("nothing pending")
    for o in rows:
        late = "VENCIDO " if o.overdue else ""
        print(f"{o.difusor:<24} {o.item.label:<34} {late}{o.item.due:%d/%m/%Y}  {o.missing}")
    return 0


def _logo(args: argparse.Namespace) -> int:
    from prepcast.files import check_target
    from prepcast.registry.logos import LogoError, clean_logo_file

    if args.out is not None:
        check_target(args.out)
    try:
        clean = clean_logo_file(args.file, args.max_bytes)
    except LogoError as exc:
        raise InputError.at(args.file, f"logo refused: {exc}") from None
    if args.out is not None:
        _write_out(args.out, clean.svg)
    dropped = f" (removed: {', '.join(sorted(set(clean.dropped)))})" if clean.dropped else ""
    print(f"{args.file}: accepted{dropped}" + (f"; clean SVG in {args.out}" if args.out else ""))
    return 0


def _public(args: argparse.Namespace) -> int:
    from prepcast.files import check_target
    from prepcast.registry import load_registry, public_list

    check_target(args.out)
    items = public_list(load_registry(args.registry))
    _write_out(args.out, (json.dumps({"difusores": items}, ensure_ascii=False, indent=1)
                          + "\n").encode("utf-8"))
    print(f"{len(items)} difusores activos in {args.out}")
    return 0


def _write_out(out: Path, data: bytes) -> None:
    """Write an --out file; the system refusing it is a bad --out (exit 2), named as given."""
    from prepcast.files import write_atomic

    try:
        write_atomic(out, data)
    except OSError as exc:
        raise PrepcastError(f"{out}: --out: cannot write ({exc.strerror or exc})") from None
