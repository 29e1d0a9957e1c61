"""``prepcast difusores check``: every requirement of the calls against each difusor's servers.

Per difusor: the SFTP checks (:mod:`.sftp`), the certificate and the site (:mod:`.http`); with
``activate`` a small test package is made live the way the fitting delivery mode would, read
back over HTTPS, and the difusor's site put back as it was. Without it (an activo difusor,
``--no-activate``, a daemon), ``Cache-Control`` and byte-identity are checked on the cut the
difusor already serves. At most
``[checks] concurrency`` difusores at once. A difusor that passes everything and was an
aspirante becomes validado (recorded in the history).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncssh

from prepcast.registry import history as hist
from prepcast.registry.checks import http, sftp
from prepcast.registry.checks.activate import CannotRestore, Undo, restore
from prepcast.registry.checks.findings import CheckReport, not_run
from prepcast.registry.model import Difusor, Registry


def test_package(token: str) -> dict[str, bytes]:
    """The small package the check makes live: two mutable files and content-addressed ones."""
    script = os.urandom(48 * 1024)
    style = f"/* prueba {token} */\nbody {{ font-family: sans-serif; }}\n".encode()
    files = {f"prueba/{hashlib.sha256(script).hexdigest()[:12]}.bin": script,
             f"prueba/{hashlib.sha256(style).hexdigest()[:12]}.css": style}
    files["index.html"] = (f'<!doctype html><html lang="es"><meta charset="utf-8">'
                           f"<title>Prueba de difusión {token}</title></html>\n").encode()
    files["json/main.json"] = json.dumps({"prueba": token, "archivos": sorted(files)}).encode()
    return files


async def check_difusor(d: Difusor, registry: Registry, *, activate: bool = True,
                        speed_lock: asyncio.Semaphore | None = None,
                        vouch: http.Vouch | None = None) -> CheckReport:
    """Run every check against ``d``; never raises for the difusor's faults (they are findings).
    ``vouch``: the cut a difusor serves (checked when no test package is made live) must be
    signed by the institute (see :data:`prepcast.registry.checks.http.Vouch`)."""
    settings = registry.checks
    report = CheckReport(d.name, d.display_name, datetime.now(UTC))
    start = time.perf_counter()
    token = secrets.token_hex(6)
    live = activate and d.mode != "daemon"
    files = test_package(token) if live else None
    conn, undo = await sftp.run_sftp(d, settings, registry.known_hosts, report, files, token,
                                     speed_lock)
    # no test package made live: Cache-Control and byte-identity are checked on the cut the
    # difusor serves (a daemon's status.json names it; an sftp/flat folder holds it live)
    served = None if conn is None or live else (
        await sftp.daemon_live(conn, d.remote_root, settings.timeout_s) if d.mode == "daemon"
        else await sftp.site_live(conn, d.remote_root, d.mode, settings.timeout_s))
    try:
        if await http.check_certificate(d, settings, report):
            activated = any(f.key == "package.activate" and f.ok for f in report.findings)
            await http.check_site(d, settings, report, files if activated else None,
                                  served[1] if served is not None else None,
                                  SOURCE_DAEMON if d.mode == "daemon" else SOURCE_FOLDER,
                                  vouch)
        if d.mode == "daemon":
            _daemon_activation(report, served, conn is not None)
        elif not live:
            skipped = ("omitida: el difusor está activo (sirve al público), su sitio no se "
                       "cambia por un paquete de prueba" if d.status == "activo"
                       else "omitida (--no-activate)")
            report.add("package.activate", None, ACTIVATE, skipped + (
                f"; se revisa el corte que sirve, {served[0]}" if served is not None else
                "; no sirve ningún corte del instituto que revisar en su lugar"
                if conn is not None else ""))
    finally:
        if conn is not None:
            await _restore(conn, d, undo, token, settings.timeout_s, report)
            conn.close()
    not_run(report, settings.min_free_gb, settings.min_speed_mb_s, settings.cert_min_days,
            settings.cache_control)
    report.seconds = time.perf_counter() - start
    return report


ACTIVATE = "Activar un paquete de prueba"
SOURCE_DAEMON = "el demonio dice servir"
SOURCE_FOLDER = "la carpeta del difusor tiene en vivo (leído por SFTP)"


def _daemon_activation(report: CheckReport, daemon: tuple[str, str] | None, login: bool) -> None:
    """A daemon activates only signed packages: the cut it serves (from the connection tests,
    ``prepcast push``) stands for the test package, and is what Cache-Control and the
    byte-identical serving are checked on. Serving none yet, they wait for it (and the difusor
    is not validated until they are evaluated)."""
    if daemon is not None:
        report.add("package.activate", True, ACTIVATE,
                   f"modo daemon: el demonio verificó y activó {daemon[0]}, el corte que sirve "
                   "(se revisa ese corte)")
        return
    why = ("modo daemon: el demonio aún no sirve ningún corte (su status.json no nombra uno); "
           "envíele el corte de una prueba de conexión (prepcast push) y vuelva a revisarlo"
           if login else "modo daemon: sin acceso SFTP a su buzón no se sabe qué corte sirve")
    report.add("package.activate", None, ACTIVATE, why)


async def _restore(conn: asyncssh.SSHClientConnection, d: Difusor, undo: Undo, token: str,
                   timeout: float, report: CheckReport) -> None:
    """Put the site back as it was; a site that could not be put back fails the check loudly
    (it is the difusor's live site, and the institute must go and fix it now)."""
    if undo.release is None and not undo.files and not undo.uploaded:
        return
    title = "Dejar el sitio como estaba"
    try:
        said = await asyncio.wait_for(restore(conn, d.remote_root, undo, token), 2 * timeout)
    except (OSError, asyncssh.Error, TimeoutError, CannotRestore) as exc:
        was = (f"current debía apuntar a {undo.link}" if undo.link is not None else
               "current no existía" if undo.release is not None else
               "index.html y json/main.json debían quedar como estaban")
        report.add("package.restore", False, title,
                   f"el sitio NO quedó como estaba ({was}): {sftp.why(exc)}",
                   "Vuelva a poner el sitio del difusor como estaba de inmediato "
                   f"({was}) y avise al difusor.")
        return
    report.add("package.restore", True, title, f"el sitio quedó como estaba ({said})")


async def check_all(difusores: Sequence[Difusor], registry: Registry, *, activate: bool = True,
                    on_done: Callable[[CheckReport], None] | None = None,
                    vouch: http.Vouch | None = None) -> list[CheckReport]:
    sem = asyncio.Semaphore(registry.checks.concurrency)
    # speed tests share the institute's uplink: measured a few at a time, each difusor's own
    speed_lock = asyncio.Semaphore(registry.checks.speed_concurrency)

    async def one(d: Difusor) -> CheckReport:
        async with sem:
            # an active difusor serves the public: never swap its site for a test package
            r = await check_difusor(d, registry, activate=activate and d.status != "activo",
                                    speed_lock=speed_lock, vouch=vouch)
        if on_done is not None:
            on_done(r)
        return r

    return list(await asyncio.gather(*(one(d) for d in difusores)))


def record(registry: Registry, reports: Sequence[CheckReport], by: str | None) -> list[str]:
    """Make every aspirante that passed with every requirement evaluated validado (one with a
    requirement not evaluated is not, whatever kept it from being evaluated); return them."""
    assert registry.history is not None
    history = hist.read_history(registry.history)
    events = []
    for r in reports:
        if r.complete and history.status_of(r.difusor) == "aspirante":
            events.append(hist.Event(datetime.now(UTC), r.difusor, "status", "validado",
                                     hist.who(by), "pasó todas las pruebas de cumplimiento "
                                     f"({r.at:%Y-%m-%d %H:%M} UTC)"))
    if events:
        hist.append(registry.history, events)
    return [e.difusor for e in events]
