"""What every web server configuration of a difusor shares: the site it serves
(:class:`WebConf`), the security headers, what is compressed and what an error may be cached as.
nginx and Apache: :mod:`prepcast.difusor.webconf`; IIS: :mod:`prepcast.difusor.webconf_iis`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prepcast.difusor.layout import CURRENT

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
