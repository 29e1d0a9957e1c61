"""The test tree itself: every folder a package, every helper imported one way.

Helpers live beside the tests of their area (`tests/<area>/<module>.py`) and are imported
as `from tests.<area>.<module> import …` everywhere, benchmarks included; nothing in the
tree edits `sys.path` to reach them by a bare name.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
BENCHMARKS = TESTS.parent / "benchmarks"


def _folders() -> list[Path]:
    return sorted(p.parent for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _tree_modules() -> set[str]:
    """Bare names of every module under tests/ (what a sys.path hack would reach)."""
    return {p.stem for p in TESTS.rglob("*.py") if p.stem != "__init__"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_every_test_folder_is_a_package() -> None:
    missing = [str(d.relative_to(TESTS.parent)) for d in set(_folders())
               if not (d / "__init__.py").is_file()]
    assert not missing, f"test folders without __init__.py: {sorted(missing)}"


def test_helpers_are_imported_from_tests_only() -> None:
    bare = _tree_modules()
    sources = [p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts]
    sources += sorted(BENCHMARKS.glob("*.py"))
    wrong = [f"{p.relative_to(TESTS.parent)}:{line}: {module}"
             for p in sources for line, module in _imports(p)
             if module.split(".")[0] in bare]
    assert not wrong, "helpers imported by bare name (use tests.<area>.<module>):\n" + "\n".join(wrong)


def test_no_test_module_edits_sys_path() -> None:
    edits = [str(p.relative_to(TESTS.parent)) for p in TESTS.rglob("*.py")
             if "__pycache__" not in p.parts and p != Path(__file__).resolve()
             and "sys.path.insert" in p.read_text(encoding="utf-8")]
    assert not edits, f"sys.path edited in: {edits}"
