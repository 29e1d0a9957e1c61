"""`prepcast simulacro`: a whole election night on this machine (what `make simulacro` runs)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prepcast.election.rules import DEFAULT_PROFILE
from prepcast.election.rules import PROFILES as RULES
from prepcast.election.synthetic import PROFILES
from prepcast.election.synthetic_national import NATIONAL_PROFILES
from prepcast.errors import InputError, PrepcastError
from prepcast.package import Ejercicio
from prepcast.simulacro import CutRecord, NightResult, cut_label, run_night
from prepcast.simulacro.night import MARKER, NIGHT_STAGE, NightOptions
from prepcast.simulacro.registro import recheck_summary, summary
from prepcast.simulacro.replay import ReplaySource
from prepcast.simulacro.watch import LABELS, WatchReport


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulacro", help="play a whole election night on this machine")
    p.add_argument("--profile", choices=sorted([*PROFILES, *NATIONAL_PROFILES]), default="edomex-2024")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", type=Path, default=Path("simulacro"),
                   help="the folder of the drill (default ./simulacro); a folder holding an "
                        "earlier simulacro is refused unless --replace")
    p.add_argument("--replace", action="store_true",
                   help="replace the earlier simulacro in --out (its informe, registry, history "
                        "and monitor evidence); its election is kept for the same profile and "
                        "seed")
    p.add_argument("--cuts", type=int, default=None,
                   help="stop after this many cuts (with --from-database: the whole night in at "
                        "most this many cuts, the last the published one)")
    p.add_argument("--pace", type=float, default=0.0, metavar="SECONDS",
                   help="wait between cuts (0: as fast as the machine goes)")
    p.add_argument("--sftp-only", type=int, default=2, metavar="N",
                   help="local difusores that only give SFTP access (default 2)")
    p.add_argument("--daemons", type=int, default=1, metavar="N",
                   help="local difusores running the difusor daemon (default 1)")
    p.add_argument("--no-readers", action="store_true", help="no simulated readers")
    p.add_argument("--no-report", action="store_true", help="skip the informe técnico")
    p.add_argument("--no-monitor", action="store_true",
                   help="no monitor over the local difusores (and no misbehaving one midway)")
    p.add_argument("--ejercicio", default="simulacro-1", metavar="NAME",
                   help="prueba-N or simulacro-N (default simulacro-1); never the jornada: "
                        "its data are synthetic or a past night's")
    r = p.add_argument_group("a real night replayed (instead of --profile)")
    r.add_argument("--from-database", type=Path, metavar="FILE",
                   help="a published PREP database (INE layout or a variant): its night replayed, "
                        "each acta arriving at its capture time")
    r.add_argument("--rules", choices=sorted(RULES), default=DEFAULT_PROFILE,
                   help="counting-rules profile of its institute (default %(default)s)")
    r.add_argument("--candidaturas", type=Path, metavar="FILE", help="its candidaturas CSV")
    p.set_defaults(handler=run)


def prepcast_command() -> str:
    """How to run prepcast again from a shell: ``prepcast`` when that is the one on the PATH,
    else the one beside this Python (``.venv/bin/prepcast`` after ``make``), so a hint runs."""
    found = shutil.which("prepcast")
    beside = Path(sys.executable).parent / "prepcast"
    if found is not None and (not beside.exists() or Path(found).resolve() == beside.resolve()):
        return "prepcast"
    if beside.exists():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m prepcast"


def _pct(preamble: dict[str, str], name: str) -> str:
    return preamble.get(name, "")


def figures_table(result: NightResult) -> Table:
    elections = [e.id for e in result.election.proceso.elections]
    t = Table(title=f"Cortes del simulacro ({result.election.proceso.entidad})", show_lines=False)
    t.add_column("corte", justify="right")
    t.add_column("fecha y hora", no_wrap=True)
    for eid in elections:
        t.add_column(f"{eid}\ncapturadas", justify="right")
        t.add_column(f"{eid}\ncontabilizadas", justify="right")
        t.add_column(f"{eid}\nparticipación", justify="right")
    t.add_column("archivos", justify="right")
    t.add_column("MB", justify="right")
    for rec in result.cuts:
        row = [str(rec.number), cut_label(rec)]
        by_election = _by_election(rec, elections)
        for eid in elections:
            pre = by_election.get(eid, {})
            row += [_pct(pre, "PORCENTAJE_ACTAS_CAPTURADAS"),
                    _pct(pre, "PORCENTAJE_ACTAS_CONTABILIZADAS"),
                    _pct(pre, "PORCENTAJE_PARTICIPACION_CIUDADANA")]
        row += [str(rec.files), f"{rec.bytes / 1e6:.1f}"]
        t.add_row(*row)
    return t


def _by_election(rec: CutRecord, elections: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for zname, pre in rec.preambles.items():
        for eid in elections:
            if zname.endswith(f"_PREP_{eid}.zip"):
                out[eid] = pre
    return out


def run(args: argparse.Namespace) -> int:
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    if args.sftp_only < 1 or args.daemons < 0:
        raise InputError("--sftp-only must be at least 1 and --daemons at least 0")
    if args.cuts is not None and args.cuts < 1:
        raise InputError("--cuts must be at least 1 (the monitor's drill needs 2)")
    try:
        ejercicio = Ejercicio.parse(args.ejercicio).name
    except ValueError as exc:
        raise InputError(f"--ejercicio: {exc}") from None
    if ejercicio == "jornada":  # no SIMULACRO banner, and a difusor would refuse every drill after
        raise InputError("--ejercicio jornada: a simulacro plays synthetic or past data and is "
                         "never the jornada; give prueba-N or simulacro-N")
    replay = None
    if args.from_database is not None:
        replay = ReplaySource(args.from_database, args.rules, args.candidaturas, args.cuts)
        replay.check_rules()
    elif args.candidaturas is not None:
        raise InputError("--candidaturas goes with --from-database")
    opts = NightOptions(cuts=args.cuts, pace=args.pace, sftp_only=args.sftp_only,
                        daemons=args.daemons, readers=not args.no_readers,
                        report=not args.no_report, ejercicio=ejercicio, replay=replay,
                        monitor=not args.no_monitor, replace=args.replace)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("preparando", total=None)

        def on_stage(text: str) -> None:
            progress.update(task, description=text)

        def on_ready(result: NightResult) -> None:
            # ?poll=5: the page looks for a new cut every 5 s (60 s by default), as cuts come fast
            progress.console.print(f"Sitio del instituto (corte vigente, imágenes de actas): "
                                   f"{result.institute_url}/?poll=5")
            if result.difusor_url:
                progress.console.print(f"Sitio del difusor local 01: {result.difusor_url}/?poll=5")
            if result.registro is not None:  # HTTPS from the drill's CA (the README says more)
                progress.console.print("Difusores revisados (prepcast difusores check; CA del "
                                       f"simulacro: {result.out / 'ca' / 'ca.pem'}):")
                for line in summary(result.registro):
                    progress.console.print("  " + line, soft_wrap=True)

        def on_cut(rec: CutRecord, total: int) -> None:
            live = sum(1 for c in rec.live.values() if c == rec.number)
            progress.update(task, total=total, completed=rec.number,
                            description=f"corte {rec.number} · {cut_label(rec)} · "
                                        f"{live}/{len(rec.live)} difusores al día")

        fresh = not args.out.exists()
        try:
            result = run_night(args.profile, args.seed, args.out, opts, on_cut=on_cut,
                               on_stage=on_stage, on_ready=on_ready)
        except PrepcastError:  # refused before anything was made: no folder with a marker only
            if fresh and args.out.is_dir() and [p.name for p in args.out.iterdir()] == [MARKER]:
                (args.out / MARKER).unlink()
                args.out.rmdir()
            raise
    console.print(figures_table(result))
    last = result.cuts[-1]
    played = next((sec for text, sec in result.stages if text == NIGHT_STAGE), None)
    night = f" en {played:.1f} s" if played is not None else ""
    console.print(f"{len(result.cuts)} cortes{night} (simulacro completo: {result.seconds:.1f} s). "
                  f"Paquete del último corte: {last.package} ({last.files} archivos, "
                  f"{last.bytes / 1e6:.1f} MB), verificado y recontado.")
    console.print(difusores_table(last))
    if result.registro is not None and result.registro.rechecked:
        console.print("Difusores revisados de nuevo en la noche (prepcast difusores check):")
        for line in recheck_summary(result.registro):
            console.print("  " + line, soft_wrap=True)
    console.print("Tiempos: " + " · ".join(f"{text} {sec:.1f} s" for text, sec in result.stages),
                  soft_wrap=True)
    if result.report is not None:
        console.print(f"Informe técnico del difusor local 01 ({result.reader_requests} solicitudes "
                      f"de lectores simulados): {result.report / 'informe.html'}")
    first = next(iter(result.difusor_roots.values()), None)
    if first is not None:
        console.print("Para seguir viendo el último corte como lo sirve un difusor:\n"
                      f"  {prepcast_command()} difusor serve --root {first} --port 8080"
                      "   →  http://127.0.0.1:8080/")
    failed = False
    if result.watch is not None:
        console.print(monitor_table(result.watch))
        missed = [d.kind for d in result.watch.drill if d.caught is None]
        if missed:  # shown; a large cut may need more rounds to sample the changed file
            console.print(f"[red]el monitor no detectó a tiempo: {', '.join(missed)}[/red]")
        if result.watch.honest_flagged:  # a false alarm fails the drill
            console.print("[red]difusores honestos marcados: "
                          f"{'; '.join(result.watch.honest_flagged)}[/red]")
            failed = True
    stale = [n for n, c in last.live.items() if c != last.number]
    if stale:
        console.print(f"[red]difusores sin el último corte: {', '.join(stale)}[/red]")
        return 1
    return 1 if failed else 0


def monitor_table(w: WatchReport) -> Table:
    honest = "ninguno marcado" if not w.honest_flagged else f"{len(w.honest_flagged)} marcados"
    what = (f"{w.victim} falla a propósito" if w.drill
            else "sin fallas a propósito (hacen falta 2 cortes o más)")
    took = sorted(w.round_seconds)
    rounds = (f"{w.rounds} rondas de {took[len(took) // 2]:.1f} s en mediana, "
              f"{took[-1]:.1f} s la más larga" if took else f"{w.rounds} rondas")
    t = Table(title=f"Monitor: {what} ({rounds}; difusores honestos: {honest}; "
                    f"estado en {w.state})")
    for col in ("falla", "inicio", "detectada", "rondas", "cerrada"):
        t.add_column(col, justify="right" if col == "rondas" else "left")

    def hhmmss(t: datetime | None) -> str:
        return "—" if t is None else t.astimezone().strftime("%H:%M:%S.%f")[:-4]

    for d in w.drill:
        t.add_row(LABELS[d.kind], hhmmss(d.started), hhmmss(d.caught),
                  str(d.rounds) if d.caught else f"no ({d.rounds})", hhmmss(d.closed))
    return t


def difusores_table(rec: CutRecord) -> Table:
    t = Table(title="Difusores locales")
    t.add_column("difusor")
    t.add_column("corte vigente", justify="right")
    for name, cut in rec.live.items():
        t.add_row(name, "—" if cut is None else str(cut))
    return t
