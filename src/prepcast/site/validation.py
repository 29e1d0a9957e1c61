"""JSON Schemas (draft 2020-12) of the site's data files, versioned by file name, in
``prepcast/site/schemas/``: ``<kind>.v<N>.json`` (``actas.v2.json``: the segments with their
fields named once, ``campos_acta``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

# Schema id in a file's "schema" field -> schema file.
KINDS = {
    "prepcast.site/2": "main_fields.v2.json",
    "prepcast.site.proceso/1": "proceso.v1.json",
    "prepcast.site.catalogo/1": "catalogo.v1.json",
    "prepcast.site.entidad/1": "entidad.v1.json",
    "prepcast.site.ambito/1": "ambito.v1.json",
    "prepcast.site.actas/2": "actas.v2.json",
    "prepcast.site.bases/1": "bases.v1.json",
    "prepcast.site.difusores/1": "difusores.v1.json",
    "prepcast.site.historial/1": "historial.v1.json",
    "prepcast.site.secciones/1": "secciones.v1.json",
}


@cache
def _validator(kind: str) -> Draft202012Validator:
    text = resources.files("prepcast.site").joinpath("schemas", KINDS[kind]).read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(obj: Any) -> list[str]:
    """Every problem of a data file against the schema its ``schema`` field names ([] if valid)."""
    kind = obj.get("schema") if isinstance(obj, dict) else None
    if kind not in KINDS:
        return [f"unknown schema {kind!r}"]
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in _validator(kind).iter_errors(obj)
    ]
