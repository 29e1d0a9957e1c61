"""The site's data files against their schemas with a compiled validator, for the large profiles.

:func:`prepcast.site.validate` (the ``jsonschema`` package, pure Python) takes seconds on the
megabytes of data of ``michoacan-2024`` or ``edomex-2024``; ``jsonschema-rs`` checks the same
schemas (draft 2020-12) compiled, in a fraction of that. A file it refuses is validated again
with :func:`prepcast.site.validate`, whose messages name the path and the rule broken.
``tests/site/test_site_schemas.py`` keeps both validators agreeing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

from prepcast.site import validate
from prepcast.site.validation import KINDS


@cache
def _compiled(kind: str) -> Any:
    text = resources.files("prepcast.site").joinpath("schemas", KINDS[kind]).read_text("utf-8")
    return jsonschema_rs.Draft202012Validator(json.loads(text))


def fast_problems(obj: Any) -> list[str]:
    """What :func:`prepcast.site.validate` says of ``obj``, [] at once when the compiled
    validator accepts it."""
    kind = obj.get("schema") if isinstance(obj, dict) else None
    if kind in KINDS and _compiled(kind).is_valid(obj):
        return []
    return validate(obj) or [f"{kind}: refused by the compiled validator only"]


def site_data_problems(files: Mapping[str, bytes]) -> dict[str, list[str]]:
    """The problems of every JSON data file among ``files`` (path -> bytes); {} when all valid."""
    found = {path: fast_problems(json.loads(data)) for path, data in files.items()
             if path.endswith(".json")}
    return {path: problems for path, problems in found.items() if problems}
