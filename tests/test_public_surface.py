"""Each part's public surface is what its ``__init__`` exports, and all of it imports.

A surface may load its members on first use (:mod:`prepcast._lazy`): its ``__init__`` then
imports them for mypy only, under ``TYPE_CHECKING``, and maps each name to its module for the
run time; the tests below hold both views to the same objects.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import pkgutil
import subprocess
import sys

import pytest

SURFACES = ["prepcast.election", "prepcast.formats", "prepcast.package", "prepcast.site",
            "prepcast.publish", "prepcast.distribution", "prepcast.difusor", "prepcast.analytics",
            "prepcast.simulacro", "prepcast.registry", "prepcast.registry.checks"]


@pytest.mark.parametrize("module", SURFACES)
def test_exported_names_exist(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    assert names, f"{module} declares no public surface"
    assert sorted(names) == sorted(set(names))
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


@pytest.mark.parametrize("module", SURFACES)
def test_dir_lists_every_exported_name_before_it_is_loaded(module: str) -> None:
    """``dir()`` of a surface lists its whole ``__all__``, members loaded on first use too (a
    surface with its own ``__getattr__`` and no ``__dir__`` left them out until used)."""
    code = (f"import {module} as m; "
            "print(' '.join(sorted(set(m.__all__) - set(dir(m)))))")  # a fresh interpreter
    missing = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
    assert not missing, f"{module}: dir() leaves out {missing}"


def _imports(init: pathlib.Path) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """Each name the ``__init__`` imports from a module (for mypy or at run time), with that
    module and the name there; and the names it imports for mypy only (loaded on first use)."""
    found: dict[str, tuple[str, str]] = {}
    checking_only: set[str] = set()
    for top in ast.parse(init.read_text(encoding="utf-8")).body:
        guarded = isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
        for node in ast.walk(top):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = {alias.asname or alias.name: (node.module, alias.name)
                         for alias in node.names}
                found.update(names)
                if guarded:
                    checking_only.update(names)
    return found, checking_only


@pytest.mark.parametrize("module", SURFACES)
def test_each_name_is_the_one_mypy_sees(module: str) -> None:
    """Each name of a surface is, at run time, the very object its ``__init__`` imports for mypy
    from the module it names, whether loaded with the package or on first use; and no name
    loaded on first use is also a submodule's name (importing that submodule would put the
    module in the name's place)."""
    mod = importlib.import_module(module)
    init = pathlib.Path(mod.__file__)  # type: ignore[arg-type]
    imported, checking_only = _imports(init)
    for name in mod.__all__:
        assert name in imported, f"{module}.{name}: not imported by its __init__"
        where, original = imported[name]
        assert getattr(mod, name) is getattr(importlib.import_module(where), original), name
    submodules = {m.name for m in pkgutil.iter_modules([str(init.parent)])}
    assert not checking_only & submodules, f"{module}: {sorted(checking_only & submodules)}"


def test_core_knows_nothing_of_the_edges() -> None:
    """election/ and formats/ import no transport, web or command-line code."""
    root = pathlib.Path(importlib.import_module("prepcast").__file__).parent  # type: ignore[arg-type]
    for part in ("election", "formats"):
        for path in (root / part).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            for edge in ("asyncssh", "httpx", "prepcast.cli", "prepcast.distribution",
                         "prepcast.difusor", "prepcast.package", "prepcast.site"):
                assert f"import {edge}" not in text and f"from {edge}" not in text, (path, edge)
