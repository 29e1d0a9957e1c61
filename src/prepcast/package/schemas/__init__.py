"""The JSON Schemas of the package's own files, versioned by file name (``<kind>.v1.json``)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

KINDS = ("main", "manifest", "keyring", "difusores")


@cache
def schema(kind: str, version: int = 1) -> dict[str, Any]:
    if kind not in KINDS:
        raise KeyError(kind)
    text = files("prepcast.package").joinpath(f"schemas/{kind}.v{version}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_problems(kind: str, obj: Any) -> list[str]:
    """Every way ``obj`` breaks the schema of ``kind``, as ``path: message`` lines."""
    validator = Draft202012Validator(schema(kind))
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '$'}: {err.message}"
        for err in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate(kind: str, obj: Any) -> None:
    """Raise ValueError naming every problem when ``obj`` breaks the schema of ``kind``."""
    problems = schema_problems(kind, obj)
    if problems:
        raise ValueError(f"{kind}: " + "; ".join(problems))
