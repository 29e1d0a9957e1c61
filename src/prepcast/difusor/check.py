"""A difusor checks its own setup (``prepcast difusor check``) and the daemon checks its start.

:func:`check_setup` looks at what the tests with the institute will look at, as the daemon's
user and the institute's SFTP user would see it: owners and permissions of ``www``, the inbox,
the event log, the keys; the inbox writable by the SFTP user and ``www`` not; NTP; syslog; disk
space against the calls' 20 GB; and, given the site's URL, the headers the web server sends.
Each finding is one line in Spanish saying what to fix.

:func:`start_problems` is the daemon's own check at start, as the user it runs as: one line per
problem, naming the file and the user, instead of a traceback later.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prepcast.difusor.config import DaemonConfig
from prepcast.errors import PrepcastError, Problem

MIN_FREE_BYTES = 20 * 10**9  # the calls ask difusores for at least 20 GB free
SYSLOG_SOCKET = Path("/dev/log")


@dataclass(frozen=True)
class Finding:
    """One thing to fix (``error``) or to know (``aviso``), in Spanish."""

    level: str
    message: str

    def __str__(self) -> str:
        return f"{'ERROR' if self.level == 'error' else 'AVISO'}: {self.message}"


@dataclass(frozen=True)
class Account:
    """A local user as the kernel sees it: uid and every group."""

    name: str
    uid: int
    gids: frozenset[int]

    @classmethod
    def named(cls, name: str) -> Account:
        entry = pwd.getpwnam(name)
        groups = {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
        return cls(name, entry.pw_uid, frozenset({entry.pw_gid, *groups}))

    @classmethod
    def owner_of(cls, path: Path) -> Account:
        uid = path.stat().st_uid
        try:
            return cls.named(pwd.getpwuid(uid).pw_name)
        except KeyError:
            return cls(str(uid), uid, frozenset())


def may(account: Account, path: Path, want: str) -> bool:
    """Whether ``account`` may ``r``/``w``/``x`` ``path`` (and reach it through its parents)."""
    if account.uid == 0:
        return True
    for parent in reversed(path.absolute().parents):
        if not _bits(account, parent, "x"):
            return False
    return _bits(account, path, want)


def _bits(account: Account, path: Path, want: str) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    shift = 6 if st.st_uid == account.uid else 3 if st.st_gid in account.gids else 0
    mask = {"r": stat.S_IROTH, "w": stat.S_IWOTH, "x": stat.S_IXOTH}
    return all(st.st_mode & (mask[w] << shift) for w in want)


# --- the daemon at start -------------------------------------------------------------------------


def start_problems(config: DaemonConfig) -> list[Problem]:
    """What would stop the daemon, as the user it runs as: one line per file, naming the user.

    Never asks ``Path.exists()`` (it raises inside a folder the user cannot enter, such as the
    guide's 0750 ``/etc/prepcast`` seen by another user): :func:`_state` answers instead."""
    account = running_account()
    problems: list[Problem] = []

    def need(path: Path | None, want: int, what: str, *, create: bool = False) -> None:
        if path is None:
            return
        state = _state(path)
        if state == "missing" and create:  # the daemon makes it: its folder must let it
            path, state = path.parent, _state(path.parent)
        if state == "missing":
            problems.append(Problem(str(path), f"{what}: not found (the daemon runs as "
                                               f"{account.name})"))
        elif state == "closed":
            problems.append(Problem(str(path), f"{what}: user {account.name} cannot reach it (a "
                                               "folder above it is closed to that user)"))
        elif not os.access(path, want):
            verb = "write" if want & os.W_OK else "read"
            problems.append(Problem(str(path), f"{what}: user {account.name} cannot {verb} it"))

    need(config.root, os.W_OK | os.X_OK, "root (releases/ and current)", create=True)
    need(config.inbox, os.W_OK | os.X_OK, "inbox", create=True)
    need(config.trusted_root, os.R_OK, "trusted_root")
    need(config.event_log, os.W_OK, "event_log", create=True)
    need(config.sftp_host_key, os.R_OK, "sftp.host_key")
    need(config.sftp_authorized_keys, os.R_OK, "sftp.authorized_keys")
    return problems


def running_account() -> Account:
    """This process's user as the kernel sees it (effective uid, every group it holds)."""
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return Account(name, uid, frozenset({os.getegid(), *os.getgroups()}))


def _state(path: Path) -> str:
    """``present``, ``missing`` or ``closed`` (a folder on the way cannot be entered)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"
    except PermissionError:
        return "closed"
    return "present"


def start_warnings(config: DaemonConfig) -> list[str]:
    """What the daemon can run without but should say at start: no syslog, no reachable NTP."""
    from prepcast.difusor.clock import clock_offset

    warnings = []
    if config.syslog and not SYSLOG_SOCKET.exists():
        warnings.append(f"syslog = true but {SYSLOG_SOCKET} does not exist: events go only to "
                        f"{config.event_log or 'standard error'}")
    if config.ntp_server:
        try:
            offset = clock_offset(config.ntp_server, config.ntp_port)
        except PrepcastError as exc:
            warnings.append(f"{exc}: no cut will be activated until it answers")
        else:
            if abs(offset) > config.max_clock_offset:
                warnings.append(f"this clock is {offset:+.3f} s off {config.ntp_server} (at most "
                                f"{config.max_clock_offset} s): no cut will be activated until "
                                "it is set right")
    return warnings


# --- prepcast difusor check ------------------------------------------------------------------


def check_setup(config: DaemonConfig, *, daemon_user: str | None = None,
                sftp_user: str | None = None, ntp: bool = True) -> list[Finding]:
    """Every problem of this difusor's setup, one line each (see the module's docstring)."""
    out: list[Finding] = []

    def error(message: str) -> None:
        out.append(Finding("error", message))

    def aviso(message: str) -> None:
        out.append(Finding("aviso", message))

    www, inbox = config.root, config.inbox
    for path, name in ((www, "root (www)"), (inbox, "inbox")):
        if not path.is_dir():
            error(f"{path}: no existe la carpeta {name}; créela como dice docs/difusor-setup.md §1")
    if out:
        return out
    try:
        daemon = Account.named(daemon_user) if daemon_user else Account.owner_of(www)
    except KeyError:
        return [Finding("error", f"no existe el usuario {daemon_user}: créelo (useradd --system …)")]
    try:
        sftp = Account.named(sftp_user) if sftp_user else Account.owner_of(inbox)
    except KeyError:
        return [Finding("error", f"no existe el usuario SFTP {sftp_user}")]

    # the daemon's own folders and files
    for path, want, what in ((www, "rwx", "escribir allí las versiones (releases/ y current)"),
                             (inbox, "rwx", "leer ni vaciar la bandeja"),
                             (config.trusted_root, "r", "leer la llave raíz del instituto")):
        if not may(daemon, path, want):
            error(f"{path}: el usuario del daemon ({daemon.name}) no puede {what}; revise dueño y "
                  "permisos (docs/difusor-setup.md §1 y §3)")
    if config.event_log is not None:
        folder = config.event_log.parent
        if not folder.is_dir():
            error(f"{folder}: no existe la carpeta del registro de eventos; créela: install -d -o "
                  f"{daemon.name} -g {daemon.name} -m 0750 {folder}")
        elif not may(daemon, config.event_log if config.event_log.exists() else folder, "w"):
            error(f"{config.event_log}: el usuario del daemon ({daemon.name}) no puede escribir el "
                  f"registro de eventos; corrija: chown {daemon.name}: {folder}")
    for key in (config.sftp_host_key, config.sftp_authorized_keys):
        if key is not None and not may(daemon, key, "r"):
            error(f"{key}: el usuario del daemon ({daemon.name}) no puede leerlo")
    if may(daemon, config.trusted_root, "w") and daemon.uid != 0:
        aviso(f"{config.trusted_root}: el daemon podría reescribir la llave raíz en la que confía; "
              f"déjela de root: chown root:{daemon.name} y chmod 0640")

    # the institute's SFTP account: the inbox and nothing else
    if sftp.uid != daemon.uid:
        if not may(sftp, inbox, "wx"):
            error(f"{inbox}: el usuario SFTP del instituto ({sftp.name}) no puede escribir en la "
                  f"bandeja; corrija: chown {sftp.name}:{daemon.name} y chmod 2770")
        for path in _tree(www, limit=2000):
            if may(sftp, path, "w"):
                error(f"{path}: el usuario SFTP ({sftp.name}) puede escribir en lo que se sirve y "
                      "saltarse la verificación del daemon; www debe ser del usuario del daemon, "
                      "fuera del chroot (docs/difusor-setup.md §1)")
                break
    elif config.sftp_listen is None:
        error(f"el daemon y la cuenta SFTP son el mismo usuario ({daemon.name}): quien tenga la "
              "credencial del instituto puede escribir en www sin verificación; use dos usuarios "
              "(docs/difusor-setup.md §1)")

    out.extend(_system(config, ntp=ntp))
    return out


def _tree(top: Path, limit: int) -> Iterable[Path]:
    yield top
    n = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in (*dirnames, *filenames):
            n += 1
            if n > limit:
                return
            yield Path(dirpath) / name


def _system(config: DaemonConfig, *, ntp: bool) -> list[Finding]:
    from prepcast.difusor.clock import clock_offset

    out: list[Finding] = []
    free = shutil.disk_usage(config.root).free
    if free < MIN_FREE_BYTES:
        out.append(Finding("error", f"{config.root}: quedan {free / 1e9:.1f} GB libres; las "
                                    "convocatorias piden al menos 20 GB"))
    if config.syslog and not SYSLOG_SOCKET.exists():
        out.append(Finding("aviso", f"syslog = true pero no existe {SYSLOG_SOCKET}: los eventos "
                                    "solo irán al registro de eventos; instale rsyslog o "
                                    "systemd-journald"))
    if not config.ntp_server:
        out.append(Finding("aviso", "sin [clock] ntp_server: el daemon no comprueba la hora antes "
                                    "de activar un corte; configure un servidor NTP"))
    elif ntp:
        try:
            offset = clock_offset(config.ntp_server, config.ntp_port)
        except PrepcastError as exc:
            out.append(Finding("error", f"{exc}: sin respuesta NTP no se activa ningún corte; "
                                        "abra UDP 123 de salida o use otro servidor"))
        else:
            if abs(offset) > config.max_clock_offset:
                out.append(Finding("error", f"el reloj difiere {offset:+.3f} s de "
                                            f"{config.ntp_server} (máximo {config.max_clock_offset} s); "
                                            "sincronícelo (chrony, systemd-timesyncd)"))
    return out


# --- the web server, from outside -------------------------------------------------------------


def check_site(url: str, root: Path, *, insecure: bool = False) -> list[Finding]:
    """The headers this difusor's own web server sends, as a reader (or the institute) gets them."""
    import httpx

    from prepcast.difusor.layout import CURRENT
    from prepcast.difusor.webconf_base import CACHE_CONTROL_ERROR
    from prepcast.package.layout import CACHE_CONTROL_IMMUTABLE, CACHE_CONTROL_MUTABLE

    base = url.rstrip("/")
    out: list[Finding] = []
    live = root / CURRENT
    asset = next((p.relative_to(live).as_posix() for p in sorted(live.glob("assets/*"))
                  if p.is_file()), None) if live.is_dir() else None
    wants = [("/json/main.json", 200, CACHE_CONTROL_MUTABLE), ("/", 200, CACHE_CONTROL_MUTABLE),
             ("/db/9999/prepcast-check-no-existe.zip", 404, CACHE_CONTROL_ERROR)]
    if asset:
        wants.append((f"/{asset}", 200, CACHE_CONTROL_IMMUTABLE))
    try:
        with httpx.Client(verify=not insecure, timeout=10, follow_redirects=False) as client:
            for path, status, cache in wants:
                r = client.get(base + path)
                if r.status_code != status:
                    out.append(Finding("error", f"{base}{path}: responde {r.status_code}, se "
                                                f"esperaba {status}"))
                    continue
                got = r.headers.get("cache-control", "")
                if got != cache:
                    out.append(Finding("error", f"{base}{path}: Cache-Control «{got}», debe ser "
                                                f"«{cache}»; regenere la configuración con "
                                                "prepcast difusor webconf"))
                if "x-frame-options" in r.headers:
                    out.append(Finding("error", f"{base}{path}: envía X-Frame-Options, que impide "
                                                "insertar el PREP en otros sitios; quítelo"))
    except httpx.HTTPError as exc:
        out.append(Finding("error", f"{base}: no responde ({exc or type(exc).__name__}); revise el "
                                    "servidor web, el certificado y el cortafuegos"))
    return out


def check_sftp_only(root: Path, *, sftp_user: str, web_user: str = "www-data") -> list[Finding]:
    """An SFTP-only difusor (no daemon): the institute's account writes ``root`` through its
    chroot, the web server's user reads what it writes, and there is room for the night."""
    out: list[Finding] = []
    if not root.is_dir():
        return [Finding("error", f"{root}: no existe; créela como dice docs/difusor-setup.md §1")]
    try:
        sftp = Account.named(sftp_user)
    except KeyError:
        return [Finding("error", f"no existe el usuario SFTP {sftp_user}")]
    try:
        web = Account.named(web_user)
    except KeyError:
        return [Finding("error", f"no existe el usuario del servidor web {web_user} (--web-user)")]
    for parent in root.absolute().parents:
        st = parent.stat()
        if st.st_mode & stat.S_ISVTX and st.st_mode & 0o002:  # /tmp and the like: shared
            out.append(Finding("error", f"{parent}: OpenSSH exige que cada carpeta del chroot sea "
                                        "de root y no escribible por grupo ni otros, y esta es "
                                        "una carpeta compartida del sistema: no cambie sus "
                                        "permisos; ponga la raíz bajo una carpeta de root, p. ej. "
                                        "/srv/prep/sftp/www (docs/difusor-setup.md §1)"))
        elif st.st_uid != 0 or st.st_mode & 0o022:
            out.append(Finding("error", f"{parent}: OpenSSH exige que cada carpeta del chroot sea "
                                        "de root y no escribible por grupo ni otros; corrija: "
                                        f"chown root:root {parent} && chmod 0755 {parent}"))
    if not may(sftp, root, "rwx"):
        out.append(Finding("error", f"{root}: el usuario SFTP del instituto ({sftp.name}) no puede "
                                    f"escribir aquí; corrija: chown {sftp.name}: {root}"))
    live = root / "current"
    probe = live / "json" / "main.json" if live.is_dir() else root
    if not may(web, probe, "r" if probe != root else "rx"):
        out.append(Finding("error", f"{probe}: el servidor web ({web.name}) no puede leerlo; en "
                                    "sshd use ForceCommand internal-sftp -u 0022"))
    free = shutil.disk_usage(root).free
    if free < MIN_FREE_BYTES:
        out.append(Finding("error", f"{root}: quedan {free / 1e9:.1f} GB libres; las "
                                    "convocatorias piden al menos 20 GB"))
    return out
