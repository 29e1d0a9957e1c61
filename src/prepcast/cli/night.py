"""``prepcast night``: the institute's night, unattended (``run``), who is behind (``status``),
and a refused login tried again on purpose (``retry-login``).

See ``docs/night.md``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from prepcast.errors import InputError, IntegrityError, TransportError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("night", help="run the night's cuts (build, verify, publish, push) and "
                       "show who is behind (docs/night.md)")
    ns = p.add_subparsers(dest="night_command", metavar="ACTION", parser_class=type(p))
    ns.required = True

    r = ns.add_parser("run", help="build, verify, publish and push every scheduled cut; "
                      "the same command resumes after a crash")
    r.add_argument("--election", required=True, type=Path, metavar="DIR")
    r.add_argument("--keys", required=True, type=Path, metavar="KEYDIR")
    r.add_argument("--state", required=True, type=Path, metavar="DIR",
                   help="the runner's state (one folder per ejercicio)")
    r.add_argument("--publish-root", required=True, type=Path, metavar="DIR",
                   help="the institute's own site: releases/ and current")
    r.add_argument("--registry", type=Path, metavar="FILE",
                   help="difusores to push to (read again before every push)")
    r.add_argument("--ejercicio", metavar="NAME",
                   help="prueba-N, simulacro-N or jornada (the default only at --speed 1 with "
                        "the clock checked; a drill names its ejercicio)")
    r.add_argument("--speed", default="1", metavar="N",
                   help="play the schedule N times faster (drills, tests); 'max': no waiting")
    r.add_argument("--until", metavar="TIME", help="stop after the cut at or before this time")
    r.add_argument("--difusores", type=Path, metavar="FILE",
                   help="official difusores the site lists (JSON, as for `cut build`; without it, the public list of --registry, read before every cut)")
    r.add_argument("--ntp", default="pool.ntp.org", metavar="HOST[:PORT]",
                   help="NTP server for the clock check at start; 'off' only for drills")
    r.add_argument("--max-clock-offset", type=float, default=1.0, metavar="SECONDS",
                   help="refuse to start when the clock is further off (default 1 s)")
    r.add_argument("--retry-every", type=float, default=60.0, metavar="SECONDS",
                   help="between cuts, push the last cut again to whoever failed it this often "
                        "(default 60)")
    r.add_argument("--drops", type=Path, metavar="DIR",
                   help="the PREP capture system's drop folder as the source: each cut's "
                        "database zips, recounted before they are published (docs/night.md)")
    r.add_argument("--settle", type=float, default=2.0, metavar="SECONDS",
                   help="with --drops: a zip without .sha256 is complete once unchanged this "
                        "long (default 2)")
    r.add_argument("--replace-same-cut", action="store_true",
                   help="a difusor that serves one of this run's cuts as another package (the "
                        "ejercicio run again with a new --state) has it replaced; without it, "
                        "that difusor is refused the cut (one cut, one package)")
    r.add_argument("--verify-reused", action="store_true",
                   help="read back and hash every file of the live release before it is reused in the "
                        "next one (sftp mode), so a file changed at the difusor is sent again; "
                        "costs reading back what was not sent (default: sizes only)")
    r.add_argument("--quiet", action="store_true", help="one line per cut, no progress")
    r.set_defaults(handler=_run)

    s = ns.add_parser("status", help="ejercicio, current and next cut, each difusor's lag")
    s.add_argument("--state", required=True, type=Path, metavar="DIR")
    s.add_argument("--json", action="store_true", help="machine-readable")
    s.set_defaults(handler=_status)

    t = ns.add_parser("retry-login", help="try a difusor whose server refused the login again at "
                      "the next cut, its registry entry unchanged (after its server was fixed)")
    t.add_argument("difusores", nargs="+", metavar="DIFUSOR")
    t.add_argument("--state", required=True, type=Path, metavar="PATH",
                   help="the runner's state folder, or a push's delivery state file")
    t.set_defaults(handler=_retry_login)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not speed > 0 or speed != speed or speed == float("inf"):
        raise InputError(f"--speed {text!r}: a positive number, or 'max'")
    return speed


def _ntp(text: str) -> tuple[str | None, int]:
    if text == "off":
        return None, 123
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "123")
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise InputError(f"--ntp {text!r}: HOST, HOST:PORT or off")
    return host, int(port)


def _check_publish_root(root: Path) -> None:
    """A new or empty folder, or one a night runner publishes in (``releases/``): never a folder
    holding something else (the election directory, a home folder) to publish into."""
    if root.exists() and not root.is_dir():
        raise InputError.at(root, "is a file; --publish-root names a folder")
    if root.is_dir() and not (root / "releases").is_dir() and any(root.iterdir()):
        raise InputError.at(root, "not a publish root (no releases/ folder) and not empty; give "
                                  "a new or empty folder, or the one the night runner publishes "
                                  "in (--publish-root)")


def _run(args: argparse.Namespace) -> int:
    from prepcast.election import load_election_dir
    from prepcast.election.catalog import read_proceso
    from prepcast.election.schedule import parse_time
    from prepcast.package import Ejercicio
    from prepcast.publish import read_difusores
    from prepcast.publish.drops import DropRunner
    from prepcast.publish.runner import CutDone, NightRunner, RunOptions

    speed = _speed(args.speed)
    server, port = _ntp(args.ntp)
    if not args.retry_every > 0:
        raise InputError("--retry-every must be a positive number of seconds")
    if not args.max_clock_offset > 0:
        raise InputError("--max-clock-offset must be a positive number of seconds")
    if server is None and speed == 1.0:
        raise InputError("--ntp off is for drills played faster (--speed); the real night "
                         "checks the clock")
    drill = speed != 1.0 or server is None
    if args.ejercicio is None and drill:
        raise InputError("--speed other than 1 or --ntp off is a drill: name its --ejercicio "
                         "(prueba-N or simulacro-N; --ejercicio jornada only on purpose)")
    try:
        ejercicio = Ejercicio.parse(args.ejercicio or "jornada").name
    except ValueError as exc:
        raise InputError(f"--ejercicio: {exc}") from None
    if ejercicio == "jornada" and drill:
        print("prepcast: warning: the jornada played as a drill (--speed "
              f"{args.speed}, --ntp {args.ntp}); the publish root will then refuse any drill",
              file=sys.stderr, flush=True)
    for name in ("keys", "election"):
        if not getattr(args, name).is_dir():
            raise InputError.at(getattr(args, name), f"no such folder (--{name})")
    if args.registry is not None and not args.registry.is_file():
        raise InputError.at(args.registry, "no such file (--registry)")
    if args.drops is not None and not args.drops.is_dir():
        raise InputError.at(args.drops, "is a file, not a folder (--drops)"
                            if args.drops.exists() else "no such folder (--drops)")
    _check_publish_root(args.publish_root)
    if not args.settle >= 0:
        raise InputError("--settle must be zero or a positive number of seconds")
    difusores = read_difusores(args.difusores)
    # a national night is read by the runner on columns (its preparation, timed): its feeds
    # read on rows here first would cost tens of seconds for nothing
    proceso = read_proceso(args.election / "election.toml")
    ed = (None if proceso.nacional and args.drops is None
          else load_election_dir(args.election, with_feeds=args.drops is None))
    until = parse_time(args.until, proceso, "--until") if args.until else None
    opts = RunOptions(election=args.election, keys=args.keys, state=args.state,
                      publish_root=args.publish_root, registry=args.registry,
                      ejercicio=ejercicio, speed=speed, until=until, ntp_server=server,
                      ntp_port=port, max_clock_offset=args.max_clock_offset,
                      difusores=tuple(difusores), retry_every=args.retry_every,
                      drops=args.drops, settle=args.settle,
                      replace_same_cut=args.replace_same_cut, verify_reused=args.verify_reused)

    def on_cut(c: CutDone) -> None:
        print(f"corte {c.number} ({ejercicio}): construido en {c.build_seconds:.2f} s, "
              f"verificado en {c.verify_seconds:.2f} s, publicado; envío iniciado", flush=True)

    kind = NightRunner if args.drops is None else DropRunner
    runner = kind(opts, on_cut=None if args.quiet else on_cut, ed=ed)

    signalled: list[str] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        signalled.append(signal.Signals(signum).name)
        print(f"prepcast: señal {signal.Signals(signum).name}: se detiene al terminar el paso "
              "en curso", file=sys.stderr, flush=True)
        runner.stop_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state = runner.run()
    published = state.published()
    print(f"{ejercicio}: último corte publicado {published or '—'}; estado en {args.state}")
    if signalled:  # a clean stop on a signal: interrupted, not done
        return 130
    alert = state.doc.get("alerta_vigente")
    if alert:
        raise IntegrityError(f"corte {alert['corte']} del sistema de captura rechazado; sigue "
                             f"vigente el corte {alert['vigente'] or '—'}:\n"
                             + "\n".join(alert["motivos"]))
    push = state.cut(published)["steps"].get("push", {}) if published else {}
    failed = [n for n in push.get("failed") or [] if n != "*"]
    if push.get("error") or failed:
        raise TransportError(f"corte {published}: el envío falló"
                             + (f" en {', '.join(failed)}" if failed else f": {push['error']}")
                             + f" (prepcast night status --state {args.state})")
    return 0


def _retry_login(args: argparse.Namespace) -> int:
    """Forget the refused logins of the named difusores, so the next push tries each once: for a
    server fixed on its side (an account unlocked, a key installed) while the registry entry
    stays as it was. It can run while the runner runs (the state is SQLite)."""
    from prepcast.cli.push import open_state
    from prepcast.publish.state import DELIVERIES

    path = args.state / DELIVERIES if args.state.is_dir() else args.state
    if not path.is_file():
        raise InputError.at(args.state, "no delivery state here (--state: the runner's state "
                                        "folder, or a push's --state file)")
    state = open_state(path)
    try:
        missing = [n for n in args.difusores if state.login_refused(n) is None]
        if missing:
            raise InputError(f"no refused login on record for {', '.join(missing)} in {path} "
                             "(prepcast night status shows who is held back)")
        for name in args.difusores:
            state.forget_login_refused(name)
            print(f"{name}: se intentará de nuevo en el próximo envío (una vez; si el servidor "
                  "vuelve a rechazar el acceso, queda retenido otra vez)")
    finally:
        state.close()
    return 0


def _status(args: argparse.Namespace) -> int:
    from prepcast.publish.status import night_status

    view = night_status(args.state)
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=1))
        return 0
    _print_status(view)
    return 0


def _when(text: str, cut_time: str | None) -> str:
    """A moment of the status as the line above says ``publicado``: ``30/11/2026 06:25:58
    (UTC-6)``, in the election's offset (that of its cut times); text that is no moment as is."""
    from datetime import datetime

    from prepcast.publish.status import local_time

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    try:
        zone = datetime.fromisoformat(cut_time).tzinfo if cut_time else None
    except ValueError:
        zone = None
    return local_time(when, zone)


def _print_status(view: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    runner = view["ejecutor"]
    cur, nxt = view["corte_actual"], view["corte_siguiente"]
    console.print(f"Ejercicio: [bold]{view['ejercicio']}[/bold] ({view['proceso']}) · ejecutor "
                  f"{'en marcha' if runner['en_marcha'] else 'detenido'} (pid {runner['pid']})")
    console.print("Corte actual: " + (f"{cur['numero']} ({cur['hora_del_corte']}), publicado "
                                      f"{cur['publicado']}" if cur else "ninguno publicado aún"))
    console.print("Corte siguiente: " + (
        f"{nxt['numero']} ({nxt['hora_del_corte']})"
        + (f", se construye {_when(nxt['se_construye'], nxt['hora_del_corte'])}"
           if nxt.get("se_construye") else "")
        + (f" ({nxt['detenido']})" if nxt.get("detenido") else "")
        if nxt else "ninguno: la noche terminó"))
    prep = view.get("preparacion")
    if prep:
        from prepcast.publish.state import preparation_es

        console.print(f"Preparación: {preparation_es(prep)} "
                      f"({_when(prep['at'], (cur or nxt or {}).get('hora_del_corte'))})",
                      highlight=False)
    if view.get("fuente"):
        console.print(f"Fuente: carpeta del sistema de captura {view['fuente']}")
    alert = view.get("alerta_vigente")
    if alert:
        console.print(f"[bold red]ALERTA[/bold red]: corte {alert['corte']} del sistema de "
                      f"captura rechazado el {alert['hora']}; sigue vigente el corte "
                      f"{alert['vigente'] or '—'}", highlight=False)
        for reason in alert["motivos"]:
            console.print(f"  · {reason}", highlight=False, markup=False)
    unreadable = view.get("registro_ilegible")
    if unreadable:
        from rich.markup import escape

        console.print(f"[bold red]AVISO[/bold red]: el registro {escape(unreadable['archivo'])} "
                      f"no se puede leer desde el corte {unreadable['desde_corte']} (último "
                      f"intento: corte {unreadable['corte']}); se envía con el último registro "
                      f"válido: {escape(unreadable['error'])}", highlight=False)
    if view["omitidos"]:
        console.print(f"Cortes omitidos (su hora pasó durante otro): {view['omitidos']}")
    t = Table(title="Difusores")
    for col in ("difusor", "estado", "corte vigente", "corte preparado", "atraso (cortes)",
                "atraso (s)", "último error", "último rechazo"):
        t.add_column(col)
    for d in view["difusores"]:
        t.add_row(d["difusor"], d["estado"], d["corte_vigente"] or "—",
                  d["corte_preparado"] or "—", _dash(d["atraso_cortes"]),
                  _dash(d["atraso_segundos"]), _event(d["ultimo_error"]),
                  _event(d["ultimo_rechazo"]))
    console.print(t)


def _dash(v: object) -> str:
    return "—" if v is None else str(v)


def _event(e: dict[str, Any] | None) -> str:
    if e is None:
        return "—"
    return f"corte {e['corte']} ({e['fase']}, {e['cuando']}): {e['error'] or ''}"
