from __future__ import annotations

import prepcast.difusor
import prepcast.distribution


def test_public_surfaces_are_exactly_all() -> None:
    for module in (prepcast.distribution, prepcast.difusor):
        exported = set(module.__all__)
        assert exported == {n for n in exported if hasattr(module, n)}
        members = {n for n in dir(module) if not n.startswith("_")
                   and not isinstance(getattr(module, n), type(prepcast))}
        assert members == exported, members ^ exported
