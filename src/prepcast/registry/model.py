"""What the registry holds: one :class:`Difusor` per ``[[difusor]]`` table, and the whole
:class:`Registry` with its top-level settings. Plain frozen values; reading and checking them is
:mod:`prepcast.registry.load`, their status over time is :mod:`prepcast.registry.history`.

The pusher reads only ``name, host, port, user, auth, key_file, password, host_key,
remote_root, mode, active`` (a stable surface); everything else is the call's form (IEEM's
Anexo 1, IEM's carta de intención) for the institute, the public list and the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Delivery modes: "sftp" builds releases/<cut>/ and switches the `current` symlink; "flat" (for
# gateways without symlinks or atomic rename) uploads immutable files first, then the two mutable
# ones; "daemon" drops one archive per cut into the difusor daemon's inbox.
MODES = ("sftp", "daemon", "flat")
AUTHS = ("key", "password")
STATUSES = ("aspirante", "validado", "activo", "bloqueado", "baja")
# Statuses the pusher still sends to (drills and tests go to aspirantes too); the public list
# shows only "activo".
PUSHED = ("aspirante", "validado", "activo")


@dataclass(frozen=True)
class Persona:
    """A person of the form: the legal representative, the technical contact, the staff list."""

    nombre: str = ""
    rol: str = ""
    telefono: str = ""
    extension: str = ""
    telefono_trabajo: str = ""
    email: str = ""


@dataclass(frozen=True)
class Servidor:
    """Anexo 1's "características del servidor del difusor"."""

    software: str = ""       # S.O., web server
    hardware: str = ""       # RAM, disk
    energia: str = ""        # infraestructura de alimentación eléctrica
    red: str = ""            # infraestructura de red y seguridad de acceso
    ancho_banda: str = ""
    tipo_internet: str = ""


@dataclass(frozen=True)
class Difusor:
    """One difusor: what the pusher needs first, then the call's form."""

    name: str
    host: str
    port: int
    user: str
    auth: str
    remote_root: str
    mode: str
    key_file: Path | None = None
    password: str | None = field(default=None, repr=False)   # from the secrets file only
    host_key: str | None = None
    active: bool = True
    line: int | None = None          # the line of its [[difusor]] header
    # the form (Anexo 1 / carta de intención a–h)
    nombre: str = ""                 # nombre del medio difusor / institución académica
    url: str = ""                    # official publication site (https://prep2024.medio.mx)
    url_prueba: str = ""             # test site
    http_url: str = ""               # plain-HTTP address for the redirect check (default port 80)
    entidad: str = ""
    razon_social: str = ""
    ip_registro: str = ""
    representante: Persona = Persona()
    contacto: Persona = Persona()    # responsable técnico
    servidor: Servidor = Servidor()
    personal: tuple[Persona, ...] = ()
    logo: Path | None = None         # SVG, sanitized before it is published
    diagrama: Path | None = None     # IEM: diagram of the service
    carta: Path | None = None        # carta de intención y compromiso (IEM) / Anexo 2 (IEEM)
    status: str = "aspirante"        # from the history; "aspirante" until a change is recorded

    @property
    def display_name(self) -> str:
        return self.nombre or self.name


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds of ``prepcast difusores check`` (the ``[checks]`` table)."""

    min_free_gb: float = 20.0                # IEM: 20 GB free
    min_speed_mb_s: float = 40.0             # IEM: 40 MB/s upload
    speed_test_mb: int = 100
    cache_control: str = "no-cache, no-store, must-revalidate"
    max_clock_skew_s: float = 5.0
    cert_min_days: int = 14
    ca_file: Path | None = None              # extra CA to trust (a test CA); system CAs otherwise
    concurrency: int = 8
    speed_concurrency: int = 1               # speed tests at the same time (they share the uplink)
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Registry:
    """The validated registry: every difusor, the pusher's limits, the institute's rules."""

    path: Path
    difusores: tuple[Difusor, ...]
    concurrency: int = 16
    keep_releases: int = 5
    known_hosts: Path | None = None
    secrets: Path | None = None
    history: Path | None = None
    url_host_pattern: str | None = None      # e.g. "prep2024.*" (IEEM)
    logo_max_bytes: int = 256 * 1024
    checks: CheckSettings = CheckSettings()

    def active(self) -> list[Difusor]:
        """The difusores to push to now: not paused (``active = false``), blocked or dropped."""
        return [d for d in self.difusores if d.active and d.status in PUSHED]

    def public(self) -> list[Difusor]:
        """The difusores on the public list: status ``activo`` only."""
        return [d for d in self.difusores if d.status == "activo"]

    def get(self, name: str) -> Difusor | None:
        for d in self.difusores:
            if d.name == name:
                return d
        return None
