from __future__ import annotations

from types import ModuleType

import prepcast.difusor
import prepcast.distribution


def test_public_surfaces_are_exactly_all() -> None:
    """Every name of ``__all__`` resolves (each is loaded on first use), and once all of them are
    loaded the package holds no other public name than its submodules."""
    for module in (prepcast.distribution, prepcast.difusor):
        exported = set(module.__all__)
        for name in sorted(exported):
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
        assert exported <= set(dir(module))
        members = {n for n, v in vars(module).items()
                   if not n.startswith("_") and not isinstance(v, ModuleType)}
        assert members == exported, members ^ exported
