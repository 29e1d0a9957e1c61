"""Invariants of canonical JSON and of the paths a package may hold (property tests)."""

from __future__ import annotations

import json
import posixpath

from hypothesis import given
from hypothesis import strategies as st

from prepcast.package import canonical_json, content_name, path_problem

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_round_trips_and_is_stable(value: object) -> None:
    data = canonical_json(value)
    assert canonical_json(json.loads(data)) == data


@given(st.text(alphabet="ab./\\\x00_-", max_size=20))
def test_safe_paths_stay_inside(path: str) -> None:
    if path_problem(path) is None:
        norm = posixpath.normpath(path)
        assert norm == path
        assert not norm.startswith(("/", "..")) and "\\" not in path and "\x00" not in path
        assert not any(seg.startswith(".") for seg in path.split("/"))


@given(st.binary(max_size=64))
def test_content_names_differ_with_content(data: bytes) -> None:
    name = content_name("data/x.json", data)
    assert name.startswith("data/x.") and name.endswith(".json")
    assert path_problem(name) is None
    assert (content_name("data/x.json", data + b"!") == name) is False
