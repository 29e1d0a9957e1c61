"""A registration form's CSV export, one difusor per row (``prepcast difusores import``), and the
``KEY=VALUE`` settings of ``add`` and ``edit``: every problem of every row at once, with the
CSV's line and the setting."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prepcast.errors import InputError, Problem
from prepcast.files import read_text
from prepcast.registry.load import DIFUSOR_KEYS, FORM_TABLES, NAME, PERSONA_KEYS, SERVIDOR_KEYS
from prepcast.registry.model import Persona

SETTABLE = tuple(k for k in DIFUSOR_KEYS if k not in FORM_TABLES) + tuple(
    f"{t}.{k}" for t, keys in (("representante", PERSONA_KEYS), ("contacto", PERSONA_KEYS),
                               ("servidor", SERVIDOR_KEYS)) for k in keys)
# Column titles a registration form may use, normalized (lowercase, no accents, "_"), -> setting.
ALIASES = {
    "nombre_del_medio_difusor": "nombre", "medio": "nombre", "medio_difusor": "nombre",
    "nombre_del_medio_de_comunicacion_o_institucion_academica": "nombre",
    "direccion_del_sitio_web_del_difusor_url": "url", "sitio_oficial": "url",
    "sitio_de_publicacion_oficial": "url", "sitio_de_prueba": "url_prueba",
    "sitio_de_publicacion_de_prueba": "url_prueba", "razon_social": "razon_social",
    "direccion_ip_de_registro": "ip_registro", "ip_de_registro": "ip_registro",
    "ip_o_dominio_de_cuenta_sftp": "host", "ip_o_dominio_de_cuenta_sftp_ssh": "host",
    "usuario_sftp": "user", "usuario": "user", "contrasena": "password",
    "contrasena_sftp": "password", "nombre_del_contacto": "contacto.nombre",
    "correo_electronico_del_contacto": "contacto.email", "telefono_del_contacto": "contacto.telefono",
    "telefono_de_trabajo": "contacto.telefono_trabajo", "extension": "contacto.extension",
    "software_del_servidor_web": "servidor.software", "caracteristicas_de_hardware":
    "servidor.hardware", "infraestructura_de_alimentacion_electrica": "servidor.energia",
    "infraestructura_de_red_y_seguridad_de_acceso": "servidor.red",
    "ancho_de_banda": "servidor.ancho_banda", "tipo_de_servicio_de_internet": "servidor.tipo_internet",
    "representante_legal": "representante.nombre",
}


def _norm(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9.]+", "_", text).strip("_")


def typed(key: str, value: str) -> Any:
    if key == "port":
        try:
            return int(value)
        except ValueError:
            return value        # the check names it
    if key == "active":
        return {"true": True, "false": False, "si": True, "sí": True, "no": False}.get(
            value.strip().lower(), value)
    return value


def parse_assignments(items: Sequence[str], source: str,
                      problems: list[Problem] | None = None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs. Bad ones (unknown key, no ``=``) are raised together, or added to
    ``problems`` when given (so they are reported with the registry's own, at once)."""
    out: dict[str, Any] = {}
    found: list[Problem] = []
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            found.append(Problem(source, f"{item!r}: expected KEY=VALUE"))
        elif key == "password":
            found.append(Problem(source, "a password is never given on the command line: "
                                    "use --password-stdin"))
        elif key not in SETTABLE:
            found.append(Problem(source, f"unknown setting {key!r}", None, key))
        else:
            out[key] = typed(key, value)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise InputError(found)
    return out



def slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:63]


def read_form_csv(csv_path: Path, defaults: Mapping[str, Any]
                  ) -> list[tuple[dict[str, Any], str | None, list[Persona]]]:
    """Rows of a registration form export: one difusor each, every problem at once."""
    text = read_text(csv_path, encoding="utf-8-sig",
                     not_text="not UTF-8 (export the form as CSV UTF-8)")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InputError.at(csv_path, "empty file")
    problems: list[Problem] = []
    columns: list[str | None] = []
    for title in header:
        key = _norm(title)
        key = ALIASES.get(key, key)
        if key in SETTABLE or key in ("password", "personal"):
            columns.append(key)
        else:
            problems.append(Problem(str(csv_path), f"unknown column {title!r}", 1, title))
            columns.append(None)
    rows: list[tuple[dict[str, Any], str | None, list[Persona]]] = []
    for cells in reader:
        n = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        values: dict[str, Any] = dict(defaults)
        password: str | None = None
        people: list[Persona] = []
        for col, cell in zip(columns, cells, strict=False):
            cell = cell.strip()
            if col is None or not cell:
                continue
            if col == "password":
                password = cell
            elif col == "personal":
                people = _people(cell, csv_path, n, problems)
            else:
                values[col] = typed(col, cell)
        if "name" not in values:
            values["name"] = slug(str(values.get("nombre", "")))
        if not NAME.match(str(values["name"])):
            problems.append(Problem(str(csv_path), "no usable name (give a name or nombre column)",
                                    n, "name"))
        if password is not None:
            values.setdefault("auth", "password")
        rows.append((values, password, people))
    if problems:
        raise InputError(problems)
    return rows


def _people(cell: str, path: Path, line: int, problems: list[Problem]) -> list[Persona]:
    """``nombre|rol|telefono|email; …`` (the staff list in one cell)."""
    out = []
    for part in cell.split(";"):
        bits = [b.strip() for b in part.split("|")]
        if not bits[0]:
            continue
        if len(bits) != 4:
            problems.append(Problem(str(path), "write 'nombre|rol|telefono|email; …'",
                                    line, "personal"))
            continue
        out.append(Persona(nombre=bits[0], rol=bits[1], telefono=bits[2], email=bits[3]))
    return out


def parse_people(items: Sequence[str], source: str) -> list[Persona]:
    problems: list[Problem] = []
    people = _people(";".join(items), Path(source), 0, problems)
    if problems:
        raise InputError([Problem(source, p.message) for p in problems])
    return people
