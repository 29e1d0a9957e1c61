"""What every web server configuration of a difusor shares: the site it serves
(:class:`WebConf`), the security headers, what is compressed and what an error may be cached as.
nginx and Apache: :mod:`prepcast.difusor.webconf`; IIS: :mod:`prepcast.difusor.webconf_iis`."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from prepcast.difusor.layout import CURRENT
from prepcast.errors import Problem

SECURITY_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", "frame-ancestors *"),
)
GZIP_TYPES = ("application/json", "text/css", "application/javascript", "text/javascript",
              "image/svg+xml", "text/plain", "text/csv")
CACHE_CONTROL_ERROR = "no-store"
# statuses whose response is the file itself (or a revalidation of it): only these are cacheable
CACHEABLE_STATUSES = ("200", "206", "304")


@dataclass(frozen=True)
class WebConf:
    root: Path
    server_name: str
    https_listen: str = "443"           # "443", "127.0.0.1:8443"
    http_listen: str = "80"
    cert: Path = Path("/etc/ssl/certs/prep.pem")
    key: Path = Path("/etc/ssl/private/prep.key")
    access_log: Path | None = None      # None: prep.access.log in the distribution's log folder
    error_log: Path | None = None       # None: prep.error.log beside it
    state_dir: Path | None = None       # standalone only: pid, temp files
    run_user: str | None = None         # standalone only: the workers' user (None: the layout's)
    layout: str = "debian"              # "debian" or "rhel"

    @property
    def docroot(self) -> Path:
        return self.root / CURRENT

    @property
    def https_port(self) -> str:
        return self.https_listen.rsplit(":", 1)[-1]

    def redirect_target(self) -> str:
        port = "" if self.https_port == "443" else f":{self.https_port}"
        return f"https://{self.server_name}{port}"


_HOST = re.compile(r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                   r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_LISTEN = re.compile(r"^((\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_UNSAFE_IN_PATH = re.compile(r"[\s;{}\"'#<>\\$`]|[\x00-\x1f\x7f]")
_APACHE_LOG_DIR = "${APACHE_LOG_DIR}/"  # Debian's Apache defines it; a path may start with it


def webconf_problems(c: WebConf, kind: str = "nginx") -> list[Problem]:
    """What in ``c`` a web server would misread or take as its own syntax (a space in a path, a
    ``;`` in the host name): each one named, so nothing is written that nginx or Apache refuses
    or that carries directives of someone else's."""
    out: list[Problem] = []
    if len(c.server_name) > 253 or not _HOST.match(c.server_name):
        out.append(Problem("--server-name", f"{c.server_name[:80]!r} is not a host name "
                                            "(letters, digits, '-' and '.', e.g. prep.elsol.mx)"))
    for name in ("https_listen", "http_listen"):
        value = getattr(c, name)
        if not _LISTEN.match(value) or not 0 < int(value.rsplit(":", 1)[-1]) < 65536:
            out.append(Problem(f"--{name.replace('_', '-')}",
                               f"{value[:80]!r} is not a port or address:port"))
    if c.run_user is not None and not _USER.match(c.run_user):
        out.append(Problem("--user", f"{c.run_user[:40]!r} is not a user name"))
    for f in fields(c):
        value = getattr(c, f.name)
        if not isinstance(value, Path):
            continue
        if kind == "iis":  # web.config names no path: IIS's site settings hold them
            break
        if _UNSAFE_IN_PATH.search(str(value).removeprefix(_APACHE_LOG_DIR)):
            flag = "--" + f.name.replace("_", "-")
            out.append(Problem(flag, f"{str(value)[:120]!r}: a path the web server would misread "
                                     "(spaces, quotes, ; { } # $ < > \\ or control characters); "
                                     "choose one without them"))
    return out
