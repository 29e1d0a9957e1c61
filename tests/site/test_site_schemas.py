"""The compiled validator the large profiles' tests use (``tests/site/site_schemas.py``) agrees
with :func:`prepcast.site.validate` on every data file of a cut, valid and damaged."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from prepcast.election import ElectionDir
from prepcast.site import validate
from tests.site.site_package import build_cut
from tests.site.site_schemas import _compiled, fast_problems, site_data_problems


def _first_list(obj: Any) -> list[Any] | None:
    """The first non-empty list inside ``obj`` (depth first), to damage an item of it."""
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    if isinstance(obj, list) and obj:
        return obj
    for value in values:
        found = _first_list(value)
        if found is not None:
            return found
    return None


def _damaged(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    keys = [k for k in obj if k != "schema"]
    for what in ("missing", "wrong type", "extra", "item"):
        bad = copy.deepcopy(obj)
        if what == "missing" and keys:
            del bad[keys[0]]
        elif what == "wrong type" and keys:
            bad[keys[-1]] = {"not": "this"}
        elif what == "extra":
            bad["campo_ajeno"] = 1
        elif what == "item" and (items := _first_list(bad)) is not None:
            items[0] = "texto" if not isinstance(items[0], str) else -1
        else:
            continue
        yield what, bad


def test_both_validators_agree_on_every_file_valid_and_damaged(election: ElectionDir) -> None:
    _cut, site = build_cut(election, 10)
    assert site_data_problems(site.files) == {}
    checked = refused = 0
    kinds: set[str] = set()
    for path, data in site.files.items():
        if not path.endswith(".json"):
            continue
        obj = json.loads(data)
        kind = obj["schema"]
        assert _compiled(kind).is_valid(obj) and validate(obj) == [], path
        if kind in kinds:
            continue
        kinds.add(kind)  # each kind damaged in its first file
        for what, bad in _damaged(obj):
            full = validate(bad)
            assert _compiled(kind).is_valid(bad) == (full == []), (path, what, full)
            assert fast_problems(bad) == full
            checked += 1
            refused += full != []
    assert len(kinds) >= 8 and checked >= 30
    assert refused >= checked // 2  # the damage is mostly seen, by both


def test_a_file_of_no_known_schema_is_reported_as_the_site_does() -> None:
    assert fast_problems({"schema": "nope"}) == ["unknown schema 'nope'"]
    assert site_data_problems({"data/x.json": b"[1]", "index.html": b"<p>"}) == {
        "data/x.json": ["unknown schema None"]}
