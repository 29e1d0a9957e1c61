"""``prepcast difusor run|check|webconf|serve``: the difusor side."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path

from prepcast.errors import InputError, PrepcastError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("difusor", help="the difusor side: daemon, web server configs, embedded server")
    dsub = p.add_subparsers(dest="difusor_command", metavar="ACTION")
    dsub.required = True

    r = dsub.add_parser("run", help="receive, verify and activate cuts (see docs/difusor-setup.md)")
    r.add_argument("--config", required=True, type=Path, help="daemon configuration (TOML)")
    r.add_argument("--allow-root", action="store_true",
                   help="run even as root (refused otherwise: the daemon unpacks archives that "
                        "come from the network; run it as its own user)")
    r.set_defaults(handler=_run)

    c = dsub.add_parser("check", help="check this difusor's setup before the tests with the "
                                      "institute (in Spanish, one line per problem)")
    which = c.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", type=Path, help="daemon mode: the daemon's configuration (TOML)")
    which.add_argument("--root", type=Path, help="SFTP only: the folder the institute writes (www)")
    c.add_argument("--web-user", default="www-data",
                   help="with --root: the web server's user (default www-data; RHEL: nginx, apache)")
    c.add_argument("--daemon-user", help="the daemon's user (default: the owner of root)")
    c.add_argument("--sftp-user", help="the institute's SFTP user (default: the inbox's owner)")
    c.add_argument("--url", help="this difusor's public URL: check the web server's headers")
    c.add_argument("--insecure", action="store_true",
                   help="with --url: accept a certificate that does not verify (tests only)")
    c.add_argument("--no-ntp", action="store_true", help="do not ask the NTP server")
    c.set_defaults(handler=_check)

    w = dsub.add_parser("webconf", help="write an nginx, Apache 2.4 or IIS site configuration")
    w.add_argument("server", choices=("nginx", "apache", "iis"))
    w.add_argument("--layout", choices=("debian", "rhel"), default="debian",
                   help="debian (Debian, Ubuntu) or rhel (RHEL, CentOS, Fedora): log folders and "
                        "workers' user (default debian)")
    w.add_argument("--root", required=True, type=Path, help="difusor root (holds current/)")
    w.add_argument("--server-name", required=True, help="public host name, e.g. prep.elsol.mx")
    w.add_argument("--https-listen", default="443", help="address:port or port (default 443)")
    w.add_argument("--http-listen", default="80", help="address:port or port (default 80)")
    w.add_argument("--cert", type=Path, default=Path("/etc/ssl/certs/prep.pem"))
    w.add_argument("--key", type=Path, default=Path("/etc/ssl/private/prep.key"))
    w.add_argument("--access-log", type=Path,
                   help="default: prep.access.log in the server's log folder of the layout")
    w.add_argument("--error-log", type=Path, help="default: prep.error.log beside it")
    w.add_argument("--standalone", action="store_true",
                   help="a whole main configuration (nginx -c / apache2 -f), not a site file")
    w.add_argument("--state-dir", type=Path, help="with --standalone: pid and temporary files")
    w.add_argument("--user", help="with --standalone: the workers' user (default: the layout's)")
    w.add_argument("--out", type=Path, help="write here (default: standard output)")
    w.set_defaults(handler=_webconf)

    s = dsub.add_parser("serve", help="serve the live cut from memory (laptops, simulacro)")
    s.add_argument("--root", required=True, type=Path,
                   help="difusor root (holds current/) or a package folder")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=port_number, default=8080, help="0-65535 (default 8080)")
    s.add_argument("--access-log", type=Path, help="combined format plus request time")
    s.add_argument("--cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    s.add_argument("--key", type=Path, help="private key of --cert")
    s.add_argument("--trust-proxy", action="append", default=[], metavar="CIDR",
                   help="a CDN or proxy in front: the access log takes the reader's address "
                        "from X-Forwarded-For of requests from CIDR (repeatable)")
    s.set_defaults(handler=_serve)


def _run(args: argparse.Namespace) -> int:
    import logging

    from prepcast.difusor.check import start_problems, start_warnings
    from prepcast.difusor.config import load_config
    from prepcast.difusor.daemon import run_daemon

    config = load_config(args.config)
    if os.geteuid() == 0 and not args.allow_root:
        raise InputError("refusing to run as root: the daemon unpacks archives that come from the "
                         "network; run it as its own user (docs/difusor-setup.md §3: User= in its "
                         "systemd unit), or pass --allow-root")
    problems = start_problems(config)
    if problems:
        raise InputError(problems)
    for warning in start_warnings(config):
        logging.getLogger("prepcast.difusor").warning("%s", warning)
    try:
        signum = run_daemon(config)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise
        raise InputError.at(args.config, f"cannot listen on {config.sftp_listen}:"
                                         f"{config.sftp_port}: {os.strerror(exc.errno)}",
                            field="sftp.port") from None
    if signum == signal.SIGINT:  # Ctrl-C: interrupted, as every command; SIGTERM is a clean stop
        print("prepcast: interrupted", file=sys.stderr)
        return 130
    return 0


def _check(args: argparse.Namespace) -> int:
    """Exit 0: nothing to fix (warnings aside); 1: something to fix; 2: a bad configuration."""
    from prepcast.difusor.check import check_setup, check_sftp_only, check_site
    from prepcast.difusor.config import load_config

    if args.url is not None:
        import httpx

        try:
            url: httpx.URL | None = httpx.URL(args.url)
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise InputError(f"--url {args.url[:120]!r}: not an http:// or https:// URL "
                             "(e.g. https://prep.example.mx)")
    if args.root is not None:
        if not args.sftp_user:
            raise InputError("--root (SFTP only) needs --sftp-user, the institute's account")
        root = args.root
        findings = check_sftp_only(root, sftp_user=args.sftp_user, web_user=args.web_user)
    else:
        config = load_config(args.config)
        root = config.root
        findings = check_setup(config, daemon_user=args.daemon_user, sftp_user=args.sftp_user,
                               ntp=not args.no_ntp)
    if args.url:
        findings += check_site(args.url, root, insecure=args.insecure)
    for finding in findings:
        print(finding)
    errors = sum(f.level == "error" for f in findings)
    if errors:
        print(f"{errors} problema(s) por corregir antes de las pruebas con el instituto.")
        return 1
    print("Listo: nada que corregir" + (" (revise los avisos)." if findings else "."))
    return 0


def _webconf(args: argparse.Namespace) -> int:
    from prepcast.difusor.webconf import WebConf, render
    from prepcast.difusor.webconf_base import webconf_problems

    if args.server != "iis" and not args.root.is_absolute():
        raise InputError.at(args.root, "--root must be an absolute path (the web server needs it)")
    if args.standalone and args.server == "iis":
        raise InputError("--standalone is for nginx and Apache; IIS takes the web.config as it is")
    conf = WebConf(root=args.root, server_name=args.server_name, https_listen=args.https_listen,
                   http_listen=args.http_listen, cert=args.cert, key=args.key,
                   access_log=args.access_log, error_log=args.error_log,
                   state_dir=args.state_dir, run_user=args.user, layout=args.layout)
    problems = webconf_problems(conf, args.server)
    if problems:
        raise InputError(problems)
    text = render(args.server, conf, standalone=args.standalone)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    # what the configuration needs on disk: its state folder and the folders of its logs
    needed = [args.state_dir] if args.standalone and args.state_dir else []
    needed += [p.parent for p in (args.access_log, args.error_log) if p is not None]
    for folder in needed:
        if "$" not in str(folder) and not folder.is_dir():
            try:
                folder.mkdir(mode=0o755, parents=True)
            except OSError as exc:
                raise InputError.at(folder, f"cannot create: {exc.strerror}") from None
            print(f"prepcast: created {folder}", file=sys.stderr)
    if args.out.is_dir():
        raise InputError.at(args.out, "is a directory; give a file name", field="--out")
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.out)
    except OSError as exc:
        raise PrepcastError(f"{args.out}: cannot write: {exc.strerror}") from None
    return 0


def port_number(text: str) -> int:
    """A TCP port (argparse type): a bad one is a usage error, exit 2."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535)")
    return port


def _serve(args: argparse.Namespace) -> int:
    from prepcast.difusor.serve import EmbeddedServer, serving_problem

    problem = serving_problem(args.root)
    if problem:
        raise InputError.at(args.root, problem)
    if (args.cert is None) != (args.key is None):
        raise InputError("--cert and --key go together")
    for flag, path in (("--cert", args.cert), ("--key", args.key)):
        if path is not None and not path.is_file():
            raise InputError.at(path, "not found" if not path.exists() else "not a file",
                                field=flag)
    if args.access_log is not None:
        log = args.access_log
        if log.is_dir():
            raise InputError.at(log, "is a directory; give a file name", field="--access-log")
        if not log.parent.is_dir():
            raise InputError.at(log.parent, "directory not found", field="--access-log")
        if not os.access(log if log.exists() else log.parent, os.W_OK):
            raise InputError.at(log, "not writable", field="--access-log")
    import ipaddress

    for cidr in args.trust_proxy:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise InputError(f"--trust-proxy {cidr!r} is not an address or network") from None
    server = EmbeddedServer(args.root, host=args.host, port=args.port,
                            access_log=args.access_log, cert=args.cert, key=args.key,
                            trusted_proxies=args.trust_proxy)
    port = server.bind().getsockname()[1]  # the port given, or the one port 0 got
    scheme = "https" if args.cert else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"prepcast: serving {args.root} on {scheme}://{host}:{port}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    server.run()
    return 0
