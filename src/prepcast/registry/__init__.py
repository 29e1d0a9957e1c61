"""The registry of difusores: one file from the call's form to the public list.

See ``docs/registry.md``. The public surface::

    load_registry(path) -> Registry       .active() (what the pusher sends to, read before every
                                          push), .public() (the public list), .get(name)
    Difusor, Persona, Servidor, CheckSettings, MODES, STATUSES
    read_history(path) -> History         status_of(name), of(name), delivered(name)
    set_status / block / unblock / deliver      recorded with who, when and why
    add_difusores / edit_difusor / read_form_csv
    clean_logo / clean_logo_file -> CleanLogo   LogoError
    public_list(registry) -> list of {id, nombre, url, logo}
    read_plazos(election_toml), owed(...)       deliverables and deadlines
"""

from prepcast.registry.deadlines import Deliverable, Owed, owed, read_plazos
from prepcast.registry.edit import add_difusores, edit_difusor
from prepcast.registry.form import read_form_csv
from prepcast.registry.history import Event, History, read_history
from prepcast.registry.load import load_registry, parse_registry
from prepcast.registry.logos import CleanLogo, LogoError, clean_logo, clean_logo_file
from prepcast.registry.model import (
    MODES,
    STATUSES,
    CheckSettings,
    Difusor,
    Persona,
    Registry,
    Servidor,
)
from prepcast.registry.public import public_list
from prepcast.registry.status import block, deliver, set_status, unblock

__all__ = [
    "MODES",
    "STATUSES",
    "CheckSettings",
    "CleanLogo",
    "Deliverable",
    "Difusor",
    "Event",
    "History",
    "LogoError",
    "Owed",
    "Persona",
    "Registry",
    "Servidor",
    "add_difusores",
    "block",
    "clean_logo",
    "clean_logo_file",
    "deliver",
    "edit_difusor",
    "load_registry",
    "owed",
    "parse_registry",
    "public_list",
    "read_form_csv",
    "read_history",
    "read_plazos",
    "set_status",
    "unblock",
]
