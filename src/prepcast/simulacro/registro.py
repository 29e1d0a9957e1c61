"""The drill's local difusores registered through the registry, as an institute would: the form,
a logo, aspirante → validado → activo with the reasons recorded; the public list of every cut
comes from that registry (``public_list``), logos included."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prepcast.registry import add_difusores, load_registry, public_list, set_status

_LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 48" role="img">'
         '<rect width="200" height="48" rx="6" fill="{color}"/>'
         '<text x="100" y="31" font-family="sans-serif" font-size="20" fill="#fff" '
         'text-anchor="middle">{text}</text></svg>')


def register_local(workdir: Path, difusores: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Register ``(name, nombre, url)`` difusores in ``workdir/registry.toml`` (anew) and return
    the public list the cuts carry."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    registry = workdir / "registry.toml"
    rows: list[tuple[dict[str, Any], str | None, list[Any]]] = []
    for i, (name, nombre, url) in enumerate(difusores):
        (workdir / f"{name}.svg").write_text(
            _LOGO.format(color=("#00507a", "#7a3b00", "#2f6b00")[i % 3], text=nombre),
            encoding="utf-8")
        rows.append(({"name": name, "host": "127.0.0.1", "user": "simulacro", "auth": "password",
                      "nombre": nombre, "url": url, "logo": f"{name}.svg",
                      "entidad": "simulacro"}, "simulacro", []))
    add_difusores(registry, rows, "simulacro", "registro del simulacro")
    for name, _, _ in difusores:
        set_status(str(registry), name, "validado", "servidor local del simulacro", "simulacro")
        set_status(str(registry), name, "activo", "difusor oficial del simulacro", "simulacro")
    return public_list(load_registry(registry))
