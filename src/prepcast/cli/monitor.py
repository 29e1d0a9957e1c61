"""``prepcast monitor``: watch every difusor's public site against the institute's cuts."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from prepcast.errors import InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "monitor", help="watch every difusor's public site: integrity, lag, availability",
        description="The institute's monitor of its difusores (see docs/monitor.md).")
    sub = parser.add_subparsers(dest="monitor_command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="probe every active difusor of the registry every round",
        description="Every round (default 30 s), for every active difusor of the registry: "
        "json/main.json and its signature, ejercicio, cut and lag behind --reference, the "
        "exact Cache-Control, index.html, JS and CSS byte for byte, a rotating sample of data "
        "files (a full sweep per cut interval), TLS, answer time, up or down. Incidents, "
        "alerts and probe events go to --state.")
    run.add_argument("--registry", type=Path, required=True, metavar="FILE",
                     help="the registry of difusores (difusores.toml)")
    run.add_argument("--trust", type=Path, required=True, metavar="ROOT_PUB",
                     help="the institute's root public key")
    run.add_argument("--reference", type=Path, required=True, metavar="DIR",
                     help="the institute's publish root (releases/ and current)")
    run.add_argument("--state", type=Path, default=Path("monitor-state"), metavar="DIR",
                     help="status, incidents and probe events (default ./monitor-state)")
    run.add_argument("--once", action="store_true",
                     help="one round, then exit (1 if a difusor is down, has a finding or lags)")
    run.add_argument("--json", action="store_true", help="print each round as JSON")
    run.add_argument("--round", type=float, default=30.0, metavar="SECONDS",
                     help="seconds between rounds (default 30)")
    run.add_argument("--sample", type=int, default=50, metavar="N",
                     help="data files checked per round at least (default 50)")
    run.add_argument("--lag-bound", type=float, default=300.0, metavar="SECONDS",
                     help="seconds behind the institute before a lag incident (default 300)")
    run.add_argument("--slow", type=float, default=3000.0, metavar="MS",
                     help="answer time of json/main.json counted slow (default 3000 ms)")
    run.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="per request (default 10)")
    run.add_argument("--webhook", metavar="URL", help="POST every incident's opening and closing")
    run.add_argument("--smtp", metavar="HOST[:PORT]", help="mail server for alerts")
    run.add_argument("--mail-from", default="monitor-prep@localhost", metavar="ADDRESS")
    run.add_argument("--mail-to", action="append", default=[], metavar="ADDRESS",
                     help="who gets alert emails (repeat)")
    run.add_argument("--mail-contact", action="store_true",
                     help="also email the difusor's technical contact")
    run.set_defaults(handler=_run)
    av = sub.add_parser("availability", help="availability per difusor from the probe events",
                        description="Share of time each difusor's site answered with the PREP, "
                        "from --state/events.jsonl (IEM asks 99.9 %% a month).")
    av.add_argument("--state", type=Path, default=Path("monitor-state"), metavar="DIR")
    av.add_argument("--month", metavar="YYYY-MM", help="one month (default: every probe)")
    av.add_argument("--json", action="store_true")
    av.set_defaults(handler=_availability)
    dash = sub.add_parser("dashboard", help="the UIE's dashboard (login, live state, block, "
                          "JSON API, /metrics)",
                          description="Serve the dashboard of what `monitor run` writes in "
                          "--state: every difusor's live state behind a login, a block button "
                          "(the registry's block with its reason), /api/estado and /metrics.")
    dash.add_argument("--state", type=Path, default=Path("monitor-state"), metavar="DIR")
    dash.add_argument("--registry", type=Path, required=True, metavar="FILE")
    dash.add_argument("--users", type=Path, required=True, metavar="FILE",
                      help="users and scrypt hashes (made by `prepcast monitor password`)")
    dash.add_argument("--listen", default="127.0.0.1:8088", metavar="HOST:PORT")
    dash.add_argument("--cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate")
    dash.add_argument("--key", type=Path, metavar="PEM", help="its private key")
    dash.set_defaults(handler=_dashboard)
    pw = sub.add_parser("password", help="add or change a dashboard user (password on stdin)",
                        description="Read a password from standard input and store its scrypt "
                        "hash for --user in --users (created 0600 if missing).")
    pw.add_argument("--users", type=Path, required=True, metavar="FILE")
    pw.add_argument("--user", required=True)
    pw.set_defaults(handler=_password)


def _positive(value: float, flag: str) -> None:
    if not value > 0:
        raise InputError(f"{flag} must be more than 0, not {value:g}")


def _check_url(text: str, flag: str) -> None:
    import httpx

    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InputError(f"{flag} {text[:120]!r}: not an http:// or https:// URL")


def _run(args: argparse.Namespace) -> int:
    from prepcast.monitor.alerts import AlertSettings
    from prepcast.monitor.run import MonitorOptions, run
    from prepcast.monitor.settings import ProbeSettings

    for value, flag in ((args.round, "--round"), (args.timeout, "--timeout"),
                        (args.slow, "--slow"), (args.sample, "--sample")):
        _positive(value, flag)
    if args.lag_bound < 0:
        raise InputError(f"--lag-bound must be 0 or more, not {args.lag_bound:g}")
    for path, flag, what in ((args.registry, "--registry", "the registry file (difusores.toml)"),
                             (args.trust, "--trust", "the root public key (root.pub)")):
        if path.is_dir():
            raise InputError.at(path, f"{flag}: a folder, not a file: give {what}")
        if not path.is_file():
            raise InputError.at(path, f"{flag}: no such file")
    if not args.reference.is_dir():
        raise InputError.at(args.reference, "--reference: no such folder")
    if args.webhook is not None:
        _check_url(args.webhook, "--webhook")
    host, port = None, 25
    if args.smtp:
        host, _, p = args.smtp.partition(":")
        if p and not (p.isascii() and p.isdigit()):
            raise InputError(f"--smtp: port must be a number, not {p!r}")
        port = int(p or 25)
    opts = MonitorOptions(
        registry=args.registry, trust=args.trust, reference=args.reference, state=args.state,
        probe=ProbeSettings(round_s=args.round, sample=args.sample, timeout_s=args.timeout,
                            slow_ms=args.slow, lag_bound_s=args.lag_bound),
        alerts=AlertSettings(webhook=args.webhook, smtp_host=host, smtp_port=port,
                             mail_from=args.mail_from, mail_to=tuple(args.mail_to),
                             contact_too=args.mail_contact))

    def show(mon: object, results: list[object]) -> None:
        from prepcast.monitor.run import Monitor

        assert isinstance(mon, Monitor)
        if args.json:
            print(json.dumps(mon.table(mon.last), ensure_ascii=False), flush=True)
        else:
            _print_table(mon.table(mon.last))

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops as Ctrl-C does
    try:
        results = asyncio.run(run(opts, once=args.once, on_round=show))
    except KeyboardInterrupt:
        return 130  # stopped by Ctrl-C (or SIGTERM, turned into it): interrupted
    from prepcast.monitor.run import troubled

    return 1 if args.once and troubled(results, opts.probe) else 0


def _print_table(doc: dict[str, object]) -> None:
    rows = doc["difusores"]
    assert isinstance(rows, list)
    for r in rows:
        integ = r["integrity"]
        state = "arriba" if r["up"] else "CAÍDO"
        lag = "" if r["lag_cuts"] is None else f"atraso {r['lag_cuts']} cortes/{r['lag_s']} s"
        if r.get("institute_ejercicio"):  # another ejercicio's data: out of place, not late
            lag = f"OTRO EJERCICIO: {r['ejercicio']}"
        cut = "sin corte" if r["cut"] is None else f"corte {r['cut']}"
        # a site down was not evaluated: never said to be intact
        verdict = ("íntegro" if integ == "ok" else "sin evaluar" if integ is None
                   else f"{len(integ)} hallazgo(s)")
        print(f"{r['name']:<24} {state:<7} {cut:<11} {lag:<26} {verdict}")
        findings = integ if isinstance(integ, list) else []
        for f in ([r["https"]] if r.get("https") else []) + findings[:10]:
            print(f"    {f}")
    sys.stdout.flush()


def _availability(args: argparse.Namespace) -> int:
    from prepcast.monitor.availability import availability, month_bounds

    start = end = None
    if args.month:
        try:
            start, end = month_bounds(args.month)
        except ValueError as exc:
            raise InputError(f"--month: {exc}") from None
    if not (args.state / "events.jsonl").is_file():
        raise InputError.at(args.state, "not a monitor state (no events.jsonl; give the --state "
                                        "of `prepcast monitor run`)")
    found = availability(args.state / "events.jsonl", start=start, end=end)
    if args.json:
        print(json.dumps({"month": args.month, "difusores": found}, ensure_ascii=False))
        return 0
    for name, a in found.items():
        pct = "—" if a["availability"] is None else f"{a['availability']:.3f} %"
        print(f"{name:<24} {pct:>10}  caído {a['down_s']:.0f} s  ({a['probes']} sondeos)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    import uvicorn

    from prepcast.monitor.auth import read_users
    from prepcast.monitor.dashboard import Dashboard, app

    users = read_users(args.users)
    if args.registry.is_dir():
        raise InputError.at(args.registry, "--registry: a folder, not a file: give the registry "
                                           "file (difusores.toml)")
    if not args.registry.is_file():
        raise InputError.at(args.registry, "--registry: no such file")
    host, _, port = args.listen.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()):
        raise InputError(f"--listen must be HOST:PORT, not {args.listen!r}")
    if (args.cert is None) != (args.key is None):
        raise InputError("--cert and --key go together")
    _check_listen(host, int(port), args.listen)
    args.state.mkdir(parents=True, exist_ok=True)
    dash = Dashboard(args.state, args.registry, users, secure=args.cert is not None)
    uvicorn.run(app(dash), host=host, port=int(port), log_level="warning",
                ssl_certfile=str(args.cert) if args.cert else None,
                ssl_keyfile=str(args.key) if args.key else None)
    return 0


def _check_listen(host: str, port: int, given: str) -> None:
    """One clear line (exit 2) for an address that cannot be listened on (a port taken), before
    the web server would print its own and exit 3."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
    except OSError as exc:
        raise InputError(f"--listen {given}: cannot listen: {exc.strerror or exc}") from None


def _password(args: argparse.Namespace) -> int:
    from prepcast.monitor.auth import set_password

    password = sys.stdin.readline().rstrip("\n")
    set_password(args.users, args.user, password)
    print(f"{args.user}: password stored in {args.users}")
    return 0
