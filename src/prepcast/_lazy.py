"""Public surfaces loaded on first use (PEP 562): a package's ``__init__`` names each member and
the module of the package that defines it, and imports that module only when the member is first
used. A command that needs one module of a part (``night status``, the runner's pushing process,
``difusor activate``) then does not load the rest of it (SSH, HTTP, JSON Schema, the engine).

In the package's ``__init__``::

    import typing as _typing

    from prepcast._lazy import members as _members

    if _typing.TYPE_CHECKING:             # what mypy and readers see
        from prepcast.part.mod import Name

    __all__ = ["Name"]
    __getattr__, __dir__ = _members(__name__, {"Name": "mod"})

``tests/test_public_surface.py`` resolves every name of every surface and checks that the
``__init__`` imports the same names from the same modules for mypy as it maps at run time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


def members(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], object],
                                                             Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose member ``name`` is defined in its
    module ``where[name]``; a member once loaded is kept in the package's namespace."""
    table = dict(where)

    def __getattr__(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
