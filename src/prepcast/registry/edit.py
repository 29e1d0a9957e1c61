"""Changing the registry file: add, edit, import from a registration form's CSV.

The file is edited with ``tomlkit`` (comments and layout kept). The result is checked as a whole
— the registry's own checks (:func:`parse_registry`, with the passwords about to be written),
and what :mod:`.vet` refuses of the difusores added or edited (an SFTP account or a site another
difusor has, a logo the public list would refuse) — and every problem is reported at once
before anything is written. Only then do the secrets file and the registry change (temporary
name, then ``os.replace``), and a history that cannot be written undoes both.
"""

from __future__ import annotations

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
from prepcast.registry.form import parse_assignments, parse_people, read_form_csv
from prepcast.registry.load import PERSONA_KEYS, load_registry, parse_registry
from prepcast.registry.model import Persona, Registry
from prepcast.registry.secrets import read_passwords, write_password
from prepcast.registry.vet import vet

__all__ = ["add_difusores", "edit_difusor", "parse_assignments", "parse_people", "read_form_csv"]

Row = tuple[dict[str, Any], str | None, list[Persona]]


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


def _checked(path: Path, doc: tomlkit.TOMLDocument, touched: Sequence[str],
             passwords: Mapping[str, str], found: list[Problem]) -> tuple[str, Registry | None]:
    """The new text and the registry it makes; its problems (the registry's own and those of
    :func:`vet` for ``touched``) are added to ``found``. Nothing is written."""
    text = tomlkit.dumps(doc)
    try:
        registry = parse_registry(text, path, pending=passwords)
    except InputError as exc:
        found += exc.problems
        return text, None
    found += vet(registry, touched)
    return text, registry


def _write(path: Path, text: str, secrets: Path | None, passwords: Mapping[str, str]
           ) -> tuple[bytes | None, tuple[bool, dict[str, str | None]]]:
    """Write the passwords, then the registry; return what was there before (for :func:`_undo`)."""
    before = path.read_bytes() if path.exists() else None
    previous = _stash(secrets, passwords)
    try:
        mode = path.stat().st_mode & 0o777 if before is not None else 0o644
        write_atomic(path, text.encode("utf-8"), mode=mode)
    except BaseException:
        _restore(secrets, previous)
        raise
    return before, previous


def _undo(path: Path, before: bytes | None, secrets: Path | None,
          previous: tuple[bool, dict[str, str | None]]) -> None:
    if before is None:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, before, mode=path.stat().st_mode & 0o777)
    _restore(secrets, previous)


def add_difusores(path: Path, rows: Sequence[Row], by: str | None, why: str,
                  origins: Sequence[tuple[str, int]] | None = None,
                  problems: Sequence[Problem] = ()) -> Registry:
    """Append difusores (settings, password, staff); each starts as aspirante, recorded.

    ``origins`` (file, line) of each row, for an import: problems are told at the row's line.
    Every problem of every row at once, and then nothing is written."""
    doc = _document(path)
    registered = {str(t.get("name")) for t in doc.get("difusor", [])}
    old_lines = len(path.read_bytes().splitlines()) if path.exists() else 0
    aot = doc.get("difusor")
    if aot is None:
        aot = tomlkit.aot()
        doc["difusor"] = aot
    found = list(problems)
    passwords: dict[str, str] = {}
    first: dict[str, int | None] = {}
    added: list[tuple[str, int]] = []
    for k, (values, password, people) in enumerate(rows):
        name = str(values.get("name", ""))
        source, line = origins[k] if origins is not None else ("NAME", None)
        if name in registered or name in first:
            again = (f"difusor {name!r} is already registered (use edit)" if name in registered
                     else f"difusor {name!r} is twice in the file (line {first[name]} too)")
            found.append(Problem(source, again, line, "name"))
            continue
        first[name] = line
        t = tomlkit.table()
        t["name"] = name
        _set(t, {k: v for k, v in values.items() if k != "name"})
        if people:
            t["personal"] = _personal(people)
        aot.append(t)
        added.append((source, line or 0))
        if password is not None:
            passwords[name] = password
    secrets = _secrets_path(path, doc) if passwords else None
    here: list[Problem] = []
    text, registry = _checked(path, doc, list(first), passwords, here)
    found += (_to_origins(here, text, added) if origins is not None
              else _new_entries(here, path, old_lines))
    if found:   # row by row, in the order of the file they came from
        raise InputError(sorted(found, key=lambda p: (p.source != str(path), p.line or 0)))
    assert registry is not None and registry.history is not None
    before, previous = _write(path, text, secrets, passwords)
    now = datetime.now(UTC)
    try:
        hist.append(registry.history, [hist.Event(now, name, "status", "aspirante",
                                                  hist.who(by), why) for name in first])
    except OSError as exc:  # the history is the record: without it, the registration is undone
        _undo(path, before, secrets, previous)
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
    passwords = {name: password} if password is not None else {}
    secrets = _secrets_path(path, doc) if password is not None else None
    found = list(problems)
    text, registry = _checked(path, doc, [name], passwords, found)
    if found:
        raise InputError(found)
    assert registry is not None
    _write(path, text, secrets, passwords)
    return registry


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


def _stash(secrets: Path | None, passwords: Mapping[str, str]
           ) -> tuple[bool, dict[str, str | None]]:
    """Write ``passwords``; return whether the file was there and what each name had before."""
    if secrets is None or not passwords:
        return True, {}
    existed = secrets.exists()
    old: dict[str, str] = {}
    if existed:
        problems: list[Problem] = []
        old = read_passwords(secrets, problems)
        if problems:
            raise InputError(problems)
    for n, p in passwords.items():
        write_password(secrets, n, p)
    return existed, {n: old.get(n) for n in passwords}


def _restore(secrets: Path | None, previous: tuple[bool, dict[str, str | None]]) -> None:
    existed, old = previous
    if secrets is None or not old:
        return
    if not existed:
        secrets.unlink(missing_ok=True)
        return
    for n, p in old.items():
        write_password(secrets, n, p)
