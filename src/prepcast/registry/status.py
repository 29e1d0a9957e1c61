"""Status changes and deliverables, recorded in the history (who, when, why).

``set_status`` is what ``prepcast difusores validate|activate|block|unblock|drop`` call; a change
is refused when the move is not allowed (``baja`` is final) or when the difusor is not ready for
it (``activo`` needs the official url and a logo that passes the check).
"""

from __future__ import annotations

from datetime import UTC, datetime

from prepcast.errors import InputError
from prepcast.registry import history as hist
from prepcast.registry.load import load_registry
from prepcast.registry.logos import LogoError, clean_logo_file
from prepcast.registry.model import Registry

DELIVERABLE_PREFIXES = ("registro", "carta", "logo", "validacion", "pruebas", "simulacro-",
                        "informe")


def _registry_and_history(registry: Registry | str, name: str) -> tuple[Registry, hist.History]:
    reg = registry if isinstance(registry, Registry) else load_registry(registry)
    if reg.get(name) is None:
        raise InputError.at(reg.path, f"no difusor named {name!r}")
    return reg, hist.read_history(reg.history)


def set_status(registry: Registry | str, name: str, new: str, why: str,
               by: str | None = None, *, unblock: bool = False) -> hist.Event:
    """Move ``name`` to status ``new`` and record it; return the recorded event."""
    reg, history = _registry_and_history(registry, name)
    d = reg.get(name)
    assert d is not None and reg.history is not None
    event = hist.status_event(history, name, new, by, why, str(reg.path), unblock=unblock)
    if new == "activo":
        if not d.url:
            raise InputError.at(reg.path, f"{name} has no url: the public list links to it",
                                d.line, "url")
        if d.logo is None:
            raise InputError.at(reg.path, f"{name} has no logo: the public list shows it",
                                d.line, "logo")
        try:
            clean_logo_file(d.logo, reg.logo_max_bytes)
        except LogoError as exc:
            raise InputError.at(d.logo, f"logo refused: {exc}") from None
    hist.append(reg.history, [event])
    return event


def block(registry: Registry | str, name: str, why: str, by: str | None = None) -> hist.Event:
    return set_status(registry, name, "bloqueado", why, by)


def unblock(registry: Registry | str, name: str, why: str, by: str | None = None) -> hist.Event:
    """Return a blocked difusor to the status it had before the block."""
    reg, history = _registry_and_history(registry, name)
    if history.status_of(name) != "bloqueado":
        raise InputError.at(reg.path, f"{name} is not blocked (it is {history.status_of(name)})")
    return set_status(reg, name, history.before_block(name), why, by, unblock=True)


def deliver(registry: Registry | str, name: str, item: str, why: str,
            by: str | None = None) -> hist.Event:
    """Record that ``name`` delivered ``item`` (``pruebas``, ``simulacro-2``, ``informe``, …)."""
    reg, _ = _registry_and_history(registry, name)
    if not item.startswith(DELIVERABLE_PREFIXES):
        raise InputError.at(reg.path, f"unknown deliverable {item!r} (registro, carta, logo, "
                            "validacion, pruebas, simulacro-N, informe)")
    assert reg.history is not None
    event = hist.Event(datetime.now(UTC), name, "entrega", item, hist.who(by), why)
    hist.append(reg.history, [event])
    return event
