"""The public surface of prepcast.analytics, and its independence from the rest of prepcast."""

from __future__ import annotations

import ast
from pathlib import Path

import prepcast.analytics as analytics


def test_all_names_exist_and_are_public() -> None:
    assert sorted(analytics.__all__) == sorted(set(analytics.__all__))
    for name in analytics.__all__:
        assert hasattr(analytics, name), name
    assert callable(analytics.write_report)


def test_analytics_imports_only_itself_errors_and_events_from_prepcast() -> None:
    package = Path(analytics.__file__).parent
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("prepcast") and name != "prepcast":
                    assert name.startswith(
                        ("prepcast.analytics", "prepcast.errors", "prepcast.events")
                    ), (source, name)


def test_modules_stay_small() -> None:
    package = Path(analytics.__file__).parent
    for source in package.glob("*.py"):
        assert len(source.read_text(encoding="utf-8").splitlines()) <= 420, source.name


def test_the_event_vocabulary_stands_alone() -> None:
    import prepcast.events as events

    tree = ast.parse(Path(events.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith("prepcast"), node.module
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("prepcast") for a in node.names)
