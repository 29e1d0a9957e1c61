"""Incidents entered by a person (``--incidents``, YAML).

A list (or ``incidentes:`` / ``incidents:`` list) of entries with ``fecha`` (YYYY-MM-DD),
``hora`` (HH:MM), ``duracion_min``, ``causa_raiz``, ``impacto``, ``medidas`` (English keys
``date``, ``time``, ``duration_min``, ``root_cause``, ``impact``, ``measures`` too).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from prepcast.analytics.incidents import Incident
from prepcast.errors import InputError, Problem

_KEYS = {
    "fecha": ("fecha", "date"),
    "hora": ("hora", "time"),
    "duracion_min": ("duracion_min", "duration_min"),
    "causa_raiz": ("causa_raiz", "root_cause", "cause"),
    "impacto": ("impacto", "impact"),
    "medidas": ("medidas", "measures"),
}


def read_incidents_yaml(path: Path, offset: timezone) -> list[Incident]:
    """Incidents entered by a person; times without offset are in the report's offset."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=_yaml_loader())  # nodes keep their lines
        data = yaml.load(text, Loader=_yaml_loader())  # a SafeLoader
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.at(path, f"cannot read incidents file ({exc})", field="--incidents") from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError.at(path, "not valid YAML", line=line + 1 if line is not None else None) from exc
    except ValueError as exc:  # an explicit !!timestamp that is no date
        raise InputError.at(path, f"not a valid value ({exc})", field="--incidents") from exc
    if isinstance(data, dict):
        data = data.get("incidents", data.get("incidentes"))
        root = next((v for k, v in getattr(root, "value", [])
                     if getattr(k, "value", None) in ("incidents", "incidentes")), None)
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError.at(path, "expected a list of incidents", field="incidents")
    nodes = list(getattr(root, "value", []))
    found: list[Incident] = []
    problems: list[Problem] = []
    for i, entry in enumerate(data, start=1):
        where = f"incidente {i}"
        node = nodes[i - 1] if i <= len(nodes) else None

        def bad(message: str, key: str | None = None, node: Any = node, where: str = where) -> None:
            line = _line_of(node, _KEYS[key] if key else ())
            problems.append(Problem(str(path), message, line, f"{where}: {key}" if key else where))

        if not isinstance(entry, dict):
            bad("expected a mapping")
            continue
        values = {k: next((entry[a] for a in names if a in entry), None) for k, names in _KEYS.items()}
        day = values["fecha"]
        try:
            day = date.fromisoformat(str(day)) if day is not None else None
        except ValueError:
            day = None
        if not isinstance(day, date):
            bad(f"needs fecha as a date YYYY-MM-DD (not {values['fecha']!r})", "fecha")
            continue
        hour = values["hora"]
        if isinstance(hour, int):  # YAML reads 22:40 as sexagesimal minutes
            hour = f"{hour // 60:02d}:{hour % 60:02d}"
        try:
            at = time.fromisoformat(str(hour))
        except ValueError:
            bad(f"needs hora as a time HH:MM (not {hour!r})", "hora")
            continue
        duration = values["duracion_min"]
        if duration is not None and not isinstance(duration, int | float):
            bad("duracion_min must be a number", "duracion_min")
            continue
        for key in ("causa_raiz", "impacto"):
            if not values[key]:
                bad(f"needs {key}", key)
        start = datetime.combine(day, at, tzinfo=at.tzinfo or offset)
        found.append(
            Incident(
                start,
                float(duration) * 60 if duration is not None else None,
                str(values["causa_raiz"] or ""),
                str(values["impacto"] or ""),
                str(values["medidas"] or "Sin medidas registradas."),
                "registro manual",
            )
        )
    if problems:
        raise InputError(problems)
    return found


def _yaml_loader() -> Any:
    """PyYAML's safe loader without its timestamp rule: a date stays text (checked here, with
    its line), so an impossible date such as 2024-13-02 is a message, not a ValueError."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag != "tag:yaml.org,2002:timestamp"]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def _line_of(node: Any, keys: tuple[str, ...]) -> int | None:
    """The line (from 1) of the value of the first of ``keys`` in a mapping node, or of the node."""
    if node is None:
        return None
    pairs = node.value if isinstance(node.value, list) else []
    for key, value in (p for p in pairs if isinstance(p, tuple)):
        if getattr(key, "value", None) in keys:
            return int(value.start_mark.line) + 1
    return int(node.start_mark.line) + 1
