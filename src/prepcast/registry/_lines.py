"""Where each setting of a registry file is: line numbers for messages (tomllib gives none)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


@dataclass
class Lines:
    """Line of every top-level key, of every ``[[difusor]]`` header and of the keys under it."""

    top: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)          # "checks" -> header line
    table_keys: dict[str, dict[str, int]] = field(default_factory=dict)
    difusores: list[int] = field(default_factory=list)
    keys: list[dict[str, int]] = field(default_factory=list)      # per difusor: "contacto.email"

    def top_line(self, key: str) -> int | None:
        return self.top.get(key)

    def of(self, index: int, key: str | None = None) -> int | None:
        """The line of difusor ``index``'s ``key`` (dotted for sub-tables), else its header."""
        if index >= len(self.difusores):
            return None
        if key is not None and key in self.keys[index]:
            return self.keys[index][key]
        return self.difusores[index]


def locate(text: str) -> Lines:
    lines = Lines()
    where = ""          # "" top level, "table:NAME", "difusor", "difusor.SUB"
    for n, raw in enumerate(text.splitlines(), 1):
        h = _HEADER.match(raw)
        if h and not _KEY.match(raw):
            name = h.group(2).replace(" ", "").replace('"', "").replace("'", "")
            if name == "difusor":
                lines.difusores.append(n)
                lines.keys.append({})
                where = "difusor"
            elif name.startswith("difusor.") and lines.difusores:
                sub = name.split(".", 1)[1]
                where = f"difusor.{sub}"
                lines.keys[-1].setdefault(sub, n)
            else:
                where = f"table:{name}"
                lines.tables.setdefault(name, n)
                lines.table_keys.setdefault(name, {})
            continue
        k = _KEY.match(raw)
        if not k:
            continue
        key = k.group(1).strip("\"'")
        if where == "":
            lines.top.setdefault(key, n)
        elif where == "difusor":
            lines.keys[-1].setdefault(key, n)
        elif where.startswith("difusor."):
            lines.keys[-1].setdefault(f"{where.split('.', 1)[1]}.{key}", n)
        else:
            lines.table_keys[where[6:]].setdefault(key, n)
    return lines
