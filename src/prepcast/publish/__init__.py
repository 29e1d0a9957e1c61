"""The institute's side of a night: composing each cut and publishing it.

A cut is composed from the layers below (tally → PREP databases → site data → the signed
package of :mod:`prepcast.package`); the night runner builds every scheduled cut, verifies it,
publishes it in the institute's own root and pushes it to the difusores — or, fed by the
capture system's drop folder (:mod:`prepcast.publish.drops`), each cut it drops once it
recounts to its preamble. ``package/`` keeps
only the signed container, so the difusor side never loads the results engine or the site.
"""

from prepcast.publish.cut import (
    EXPIRES_AFTER_END,
    CutBuilder,
    CutFiles,
    build_cut,
    cut_files,
    night_engine,
    open_election,
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
    "proceso_id",
    "read_difusores",
]
