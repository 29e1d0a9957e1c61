"""Deliverables and deadlines of the call, from the ``[difusores]`` table of ``election.toml``.

::

    [difusores]
    registro = 2024-05-15          # the form (Anexo 1 / registration form)
    carta = 2024-05-15             # carta de intención y compromiso (Anexo 2), diagram, staff list
    logo = 2024-05-20
    validacion = 2024-05-21        # the server passes every check (status validado)
    pruebas = 2024-05-10           # connection tests with the institute
    simulacros = [2024-05-12, 2024-05-19, 2024-05-26]
    informe = 2024-06-15           # informe técnico (IEEM) / memoria técnica (IEM)

A deliverable without a date is not owed. What is done comes from the registry (the form's
fields, the files) and the history (status reached, deliverables recorded).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from prepcast.errors import InputError, Problem
from prepcast.files import read_text
from prepcast.registry.history import History
from prepcast.registry.logos import LogoError, clean_logo_file
from prepcast.registry.model import Difusor

ITEMS = ("registro", "carta", "logo", "validacion", "pruebas", "simulacros", "informe")
LABELS = {"registro": "formato de registro", "carta": "carta de intención y compromiso",
          "logo": "logotipo en SVG", "validacion": "validación del servidor",
          "pruebas": "pruebas de conexión", "informe": "informe o memoria técnica"}


@dataclass(frozen=True)
class Deliverable:
    key: str            # "logo", "simulacro-2", …
    label: str
    due: date


@dataclass(frozen=True)
class Owed:
    difusor: str
    item: Deliverable
    missing: str        # what exactly is missing
    overdue: bool


def read_plazos(election_toml: Path) -> list[Deliverable]:
    """The deliverables with their due dates; :class:`InputError` naming every bad date."""
    text = read_text(election_toml)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError.at(election_toml, f"not valid TOML: {exc}") from None
    table = doc.get("difusores")
    if not isinstance(table, dict):
        raise InputError.at(election_toml, "no [difusores] table with the call's dates "
                            "(registro, carta, logo, validacion, pruebas, simulacros, informe)")
    problems: list[Problem] = []
    out: list[Deliverable] = []
    src = str(election_toml)
    for key in sorted(set(table) - set(ITEMS)):
        problems.append(Problem(src, "unknown setting", None, f"difusores.{key}"))
    for key in ITEMS:
        if key not in table:
            continue
        values = table[key] if key == "simulacros" else [table[key]]
        if not isinstance(values, list):
            problems.append(Problem(src, "simulacros must be a list of dates", None,
                                    "difusores.simulacros"))
            continue
        for n, v in enumerate(values, 1):
            if isinstance(v, datetime):
                v = v.date()
            if not isinstance(v, date):
                problems.append(Problem(src, f"{key} must be a date like 2024-05-15", None,
                                        f"difusores.{key}"))
                continue
            if key == "simulacros":
                out.append(Deliverable(f"simulacro-{n}", f"simulacro {n}", v))
            else:
                out.append(Deliverable(key, LABELS[key], v))
    if problems:
        raise InputError(problems)
    return sorted(out, key=lambda d: (d.due, d.key))


def missing_form_fields(d: Difusor) -> list[str]:
    """The fields of the form (Anexo 1 / carta de intención) the difusor has not given yet."""
    need = {"nombre": d.nombre, "url": d.url, "url_prueba": d.url_prueba, "entidad": d.entidad,
            "contacto.nombre": d.contacto.nombre, "contacto.email": d.contacto.email,
            "contacto.telefono": d.contacto.telefono}
    return [k for k, v in need.items() if not v]


def owed(d: Difusor, plazos: list[Deliverable], history: History, today: date,
         logo_max_bytes: int) -> list[Owed]:
    """What ``d`` still owes, each with its due date."""
    delivered = history.delivered(d.name)
    out: list[Owed] = []
    for item in plazos:
        missing = _missing(d, item.key, delivered, history, logo_max_bytes)
        if missing:
            out.append(Owed(d.name, item, missing, item.due < today))
    return out


def _missing(d: Difusor, key: str, delivered: Mapping[str, object], history: History,
             logo_max_bytes: int) -> str:
    if key in delivered:
        return ""
    if key == "registro":
        fields = missing_form_fields(d)
        return f"faltan: {', '.join(fields)}" if fields else ""
    if key == "carta":
        lacking = [k for k, v in (("carta", d.carta), ("diagrama", d.diagrama)) if v is None]
        if not d.personal:
            lacking.append("personal")
        return f"faltan: {', '.join(lacking)}" if lacking else ""
    if key == "logo":
        if d.logo is None:
            return "sin logotipo"
        try:
            clean_logo_file(d.logo, logo_max_bytes)
        except LogoError as exc:
            return f"logotipo rechazado: {exc}"
        return ""
    if key == "validacion":
        ok = history.ever(d.name, "validado") or d.status in ("validado", "activo")
        return "" if ok else "el servidor aún no pasa las pruebas (prepcast difusores check)"
    return "no registrado (prepcast difusores deliver)"
