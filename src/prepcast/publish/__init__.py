"""The institute's side of a night: composing each cut and publishing it.

A cut is composed from the layers below (tally → PREP databases → site data → the signed
package of :mod:`prepcast.package`); the night runner builds every scheduled cut, verifies it,
publishes it in the institute's own root and pushes it to the difusores — or, fed by the
capture system's drop folder (:mod:`prepcast.publish.drops`), each cut it drops once it
recounts to its preamble. ``package/`` keeps
only the signed container, so the difusor side never loads the results engine or the site.
"""

import typing as _typing

from prepcast._lazy import members as _members

if _typing.TYPE_CHECKING:
    from prepcast.publish.cut import (
        EXPIRES_AFTER_END,
        CutBuilder,
        CutFiles,
        build_cut,
        cut_files,
        night_engine,
        open_election,
        prepare_night,
        proceso_id,
        read_difusores,
    )

__all__ = [
    "EXPIRES_AFTER_END",
    "CutBuilder",
    "CutFiles",
    "build_cut",
    "cut_files",
    "night_engine",
    "open_election",
    "prepare_night",
    "proceso_id",
    "read_difusores",
]

__getattr__, __dir__ = _members(__name__, {
    "EXPIRES_AFTER_END": "cut", "CutBuilder": "cut", "CutFiles": "cut", "build_cut": "cut",
    "cut_files": "cut", "night_engine": "cut", "open_election": "cut", "prepare_night": "cut",
    "proceso_id": "cut",
    "read_difusores": "cut",
})
