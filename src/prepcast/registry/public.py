"""The public list of official difusores, as the package's "Difusores oficiales" view reads it.

Every difusor whose status is ``activo`` appears with its name, its official site and its logo
(cleaned SVG as a ``data:`` URI, which the site's CSP allows for images); blocked and dropped
difusores are not in it, so they disappear from the next cut.
"""

from __future__ import annotations

import base64
from typing import Any

from prepcast.errors import InputError, Problem
from prepcast.registry.logos import LogoError, clean_logo_file
from prepcast.registry.model import Difusor, Registry


def public_entry(d: Difusor, max_bytes: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": d.name, "nombre": d.display_name, "url": d.url}
    if d.logo is not None:
        clean = clean_logo_file(d.logo, max_bytes)
        entry["logo"] = "data:image/svg+xml;base64," + base64.b64encode(clean.svg).decode()
    return entry


def public_list(registry: Registry) -> list[dict[str, Any]]:
    """The list for ``cut build``: every active difusor with its site and logo."""
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for d in registry.public():
        if not d.url:
            problems.append(Problem(str(registry.path), f"{d.name} is activo but has no url",
                                    d.line, "url"))
            continue
        try:
            out.append(public_entry(d, registry.logo_max_bytes))
        except LogoError as exc:
            problems.append(Problem(str(d.logo), f"logo of {d.name} refused: {exc}", None, "logo"))
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda e: str(e["nombre"]).casefold())
