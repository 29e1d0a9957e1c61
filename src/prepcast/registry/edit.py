"""Changing the registry file: add, edit, import from a registration form's CSV.

The file is edited with ``tomlkit`` (comments and layout kept), the result is checked as a
whole before it replaces the file (temporary name, then ``os.replace``), and passwords go to the
secrets file only. Values are given as ``KEY=VALUE``, sub-tables dotted (``contacto.email=…``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from prepcast.errors import InputError, Problem
from prepcast.files import check_target, write_atomic
from prepcast.registry import history as hist
from prepcast.registry._lines import locate
from prepcast.registry.load import (
    DIFUSOR_KEYS,
    FORM_TABLES,
    NAME,
    PERSONA_KEYS,
    SERVIDOR_KEYS,
    load_registry,
    parse_registry,
)
from prepcast.registry.model import Persona, Registry
from prepcast.registry.secrets import read_passwords, write_password

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


def _typed(key: str, value: str) -> Any:
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
            out[key] = _typed(key, value)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise InputError(found)
    return out


def _refuse(path: Path, doc: tomlkit.TOMLDocument, problems: Sequence[Problem],
            passwords: Mapping[str, str]) -> None:
    """Report ``problems`` together with what the registry itself would say; write nothing."""
    found = list(problems)
    try:
        parse_registry(tomlkit.dumps(doc), path)
    except InputError as exc:
        # the passwords are not written in a refused change: do not call them missing
        found += [p for p in exc.problems
                  if not any(p.message == f"no password for {n!r} in the secrets file"
                             for n in passwords)]
    raise InputError(found)


def _set(table: Table, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if "." in key:
            sub, _, leaf = key.partition(".")
            if sub not in table:
                table[sub] = tomlkit.table()
            if value == "":
                table[sub].pop(leaf, None)
            else:
                table[sub][leaf] = value
        elif value == "":
            table.pop(key, None)
        else:
            table[key] = value


def _personal(people: Sequence[Persona]) -> AoT:
    aot = tomlkit.aot()
    for p in people:
        t = tomlkit.table()
        for k in PERSONA_KEYS:
            if getattr(p, k):
                t[k] = getattr(p, k)
        aot.append(t)
    return aot


def _commit(path: Path, doc: tomlkit.TOMLDocument) -> Registry:
    """Check the new text as a whole, then replace the file; nothing changes if it is wrong."""
    text = tomlkit.dumps(doc)
    registry = parse_registry(text, path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    write_atomic(path, text.encode("utf-8"), mode=mode)
    return registry


def _document(path: Path) -> tomlkit.TOMLDocument:
    check_target(path)      # a registry in a missing folder, or a device: refused before any write
    if not path.exists():
        return tomlkit.document()
    load_registry(path)     # refuse to build on a registry that is already wrong
    return tomlkit.parse(path.read_text(encoding="utf-8"))


def _secrets_path(path: Path, doc: tomlkit.TOMLDocument) -> Path:
    if "secrets" not in doc:
        doc["secrets"] = "secrets.toml"
    return path.parent / str(doc["secrets"])


def add_difusores(path: Path, rows: Sequence[tuple[dict[str, Any], str | None, list[Persona]]],
                  by: str | None, why: str,
                  origins: Sequence[tuple[str, int]] | None = None,
                  problems: Sequence[Problem] = ()) -> Registry:
    """Append difusores (settings, password, staff); each starts as aspirante, recorded."""
    doc = _document(path)
    existing = {str(t.get("name")) for t in doc.get("difusor", [])}
    aot = doc.get("difusor")
    if aot is None:
        aot = tomlkit.aot()
        doc["difusor"] = aot
    passwords: dict[str, str] = {}
    for values, password, people in rows:
        name = str(values.get("name", ""))
        if name in existing:
            raise InputError.at(path, f"difusor {name!r} is already registered (use edit)")
        existing.add(name)
        t = tomlkit.table()
        t["name"] = name
        _set(t, {k: v for k, v in values.items() if k != "name"})
        if people:
            t["personal"] = _personal(people)
        aot.append(t)
        if password is not None:
            passwords[name] = password
    before = path.read_bytes() if path.exists() else None
    old_lines = len(before.splitlines()) if before is not None else 0
    if problems:
        try:
            _refuse(path, doc, problems, passwords)
        except InputError as exc:
            if origins is not None:
                raise
            raise InputError(_new_entries(exc.problems, path, old_lines)) from None
    secrets = _secrets_path(path, doc) if passwords else None
    previous = _stash(secrets, passwords)
    try:
        registry = _commit(path, doc)
    except InputError as exc:
        _restore(secrets, previous)
        if origins is None:
            raise InputError(_new_entries(exc.problems, path, old_lines)) from None
        raise InputError(_to_origins(exc.problems, tomlkit.dumps(doc), origins)) from None
    except BaseException:
        _restore(secrets, previous)
        raise
    now = datetime.now(UTC)
    assert registry.history is not None
    try:
        hist.append(registry.history, [hist.Event(now, str(v["name"]), "status", "aspirante",
                                                  hist.who(by), why) for v, _, _ in rows])
    except OSError as exc:  # the history is the record: without it, the registration is undone
        if before is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, before, mode=path.stat().st_mode & 0o777)
        _restore(secrets, previous)
        raise InputError.at(registry.history, f"cannot write the history ({exc.strerror or exc}); "
                            "nothing was registered", None, "history") from None
    return registry


def edit_difusor(path: Path, name: str, values: Mapping[str, Any], password: str | None,
                 people: Sequence[Persona] | None, problems: Sequence[Problem] = ()) -> Registry:
    doc = _document(path)
    for t in doc.get("difusor", []):
        if t.get("name") == name:
            _set(t, values)
            if people is not None:
                t.pop("personal", None)
                if people:
                    t["personal"] = _personal(people)
            break
    else:
        raise InputError.at(path, f"no difusor named {name!r}")
    if problems:
        _refuse(path, doc, problems, {name: password} if password is not None else {})
    secrets = _secrets_path(path, doc) if password is not None else None
    previous = _stash(secrets, {name: password} if password is not None else {})
    try:
        return _commit(path, doc)
    except BaseException:
        _restore(secrets, previous)
        raise


def _new_entries(problems: Sequence[Problem], path: Path, old_lines: int) -> list[Problem]:
    """A problem past the end of the file is in what the command line adds: name the option."""
    out = []
    for p in problems:
        if p.source == str(path) and p.line is not None and p.line > old_lines:
            out.append(Problem("NAME" if p.field == "name" else "--set", p.message, None, p.field))
        else:
            out.append(p)
    return out


def _to_origins(problems: Sequence[Problem], text: str,
                origins: Sequence[tuple[str, int]]) -> list[Problem]:
    """Point problems of the appended difusores at the rows they came from."""
    headers = locate(text).difusores[-len(origins):] if origins else []
    out = []
    for p in problems:
        k = max((i for i, h in enumerate(headers) if p.line is not None and h <= p.line),
                default=None)
        if k is None or p.source != str(Path(p.source)) or not headers:
            out.append(p)
        else:
            out.append(Problem(origins[k][0], p.message, origins[k][1], p.field))
    return out


def _stash(secrets: Path | None, passwords: Mapping[str, str]) -> dict[str, str | None]:
    """Write ``passwords``; return what each name had before (for a roll-back)."""
    if secrets is None:
        return {}
    old: dict[str, str] = {}
    if secrets.exists():
        problems: list[Problem] = []
        old = read_passwords(secrets, problems)
        if problems:
            raise InputError(problems)
    for n, p in passwords.items():
        write_password(secrets, n, p)
    return {n: old.get(n) for n in passwords}


def _restore(secrets: Path | None, previous: Mapping[str, str | None]) -> None:
    if secrets is not None:
        for n, p in previous.items():
            write_password(secrets, n, p)


def slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:63]


def read_form_csv(csv_path: Path, defaults: Mapping[str, Any]
                  ) -> list[tuple[dict[str, Any], str | None, list[Persona]]]:
    """Rows of a registration form export: one difusor each, every problem at once."""
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError.at(csv_path, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError.at(csv_path, "not UTF-8 (export the form as CSV UTF-8)") from None
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
                values[col] = _typed(col, cell)
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
