"""The night's history of each election: one row per cut (actas and participación), for the
entidad view's chart. ``data/historial.<h>.json`` (``prepcast.site.historial/1``).

A cut's history is the previous cut's history plus this cut's row, so it depends only on the
cut and the package it follows (as the manifest's chain does): the same cut built after the
same previous package gives the same bytes. Without a previous package it holds one row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prepcast.election.tally import CutResults

SCHEMA = "prepcast.site.historial/1"
FIELDS = (
    "corte",
    "hora",  # the cut's scheduled time, ISO 8601 with the proceso's offset
    "esperadas",
    "capturadas",
    "contabilizadas",
    "votos_participacion",  # total votes (without casillas especiales before the last cut)
    "lista_nominal_contabilizadas",
)
MAIN_PATH = "json/main.json"
# The key of the history file's path in main.json's signed.data.
MAIN_FIELD = "historial"
Json = dict[str, Any]


def history_json(previous: Mapping[str, Any] | None, cut: CutResults) -> Json:
    """``previous`` (a history document, or None) with this cut's row per election appended;
    rows of ``previous`` at or after this cut are dropped."""
    old = previous.get("elecciones", {}) if isinstance(previous, Mapping) else {}
    at = cut.at.astimezone(cut.proceso.tz).isoformat()
    elecciones: dict[str, list[list[Any]]] = {}
    for eid, results in cut.elections.items():
        rows = [list(r) for r in old.get(eid, ()) if _row_ok(r) and r[0] < cut.number]
        t = results.entidad
        votos = t.total_votos if cut.last else t.total_votos_sin_especiales
        rows.append([cut.number, at, t.esperadas, t.capturadas, t.contabilizadas, votos,
                     t.lista_nominal_contabilizadas])
        elecciones[eid] = rows
    return {"schema": SCHEMA, "campos": list(FIELDS), "elecciones": elecciones}


def _row_ok(row: Any) -> bool:
    return (isinstance(row, list) and len(row) == len(FIELDS) and isinstance(row[0], int)
            and isinstance(row[1], str) and all(isinstance(v, int) for v in row[2:]))


def read_history(pkg_dir: Path) -> Json | None:
    """The history a package carries (None when it has none or it cannot be read)."""
    try:
        main = json.loads((pkg_dir / MAIN_PATH).read_bytes())
        rel = main["signed"]["data"][MAIN_FIELD]
        if not isinstance(rel, str) or ".." in rel or rel.startswith("/"):
            return None
        doc = json.loads((pkg_dir / rel).read_bytes())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == SCHEMA else None
