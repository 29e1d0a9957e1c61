"""The HTML pieces the informe's sections are made of: tables, figures with their captions, and a
chart's time series and hour labels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any

from prepcast.analytics.analysis import n
from prepcast.analytics.metrics import Table


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, int):
        return n(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value if value is not None else "—")


def cell(value: Any) -> str:
    num = isinstance(value, int | float) and not isinstance(value, bool)
    return f"<td class='num'>{_text(value)}</td>" if num else f"<td>{escape(_text(value))}</td>"


def colgroup(weights: Sequence[float]) -> str:
    """Column widths (in proportion to ``weights``) for a table laid out with
    ``table-layout: fixed``: the PDF engine then sizes columns from these instead of measuring
    every cell's text twice (its automatic layout), about a fifth of the PDF's time."""
    total = sum(weights) or 1.0
    return "<colgroup>" + "".join(f"<col style='width:{100 * w / total:.1f}%'>" for w in weights) + "</colgroup>"


def column_weights(labels: Sequence[str], rows: Sequence[Sequence[str]], cap: int = 36) -> list[float]:
    """How wide each column wants to be, as the automatic layout would size it: its longest text
    (at most ``cap`` characters, beyond which it wraps anyway), and at least its label's longest
    word (a label wraps between words), plus room for the cell's padding."""
    out = []
    for i, label in enumerate(labels):
        longest = max((len(r[i]) for r in rows), default=0)
        word = max((len(w) for w in label.split()), default=0)
        out.append(max(min(max(longest, len(label) * 0.6), cap), word, 3) + 1.5)
    return out


def html_table(table: Table, limit: int | None = None) -> str:
    rows = table.rows[:limit] if limit else table.rows
    labels = [label for _, label in table.columns]
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    values = [[r.get(key) for key, _ in table.columns] for r in rows]
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in values)
    if not rows:
        body = f"<tr><td colspan='{len(table.columns)}'>Sin registros en el periodo.</td></tr>"
    more = ""
    if limit and len(table.rows) > limit:
        more = f"<p class='note'>Se muestran {limit} de {n(len(table.rows))} filas; el archivo tablas/{table.name}.csv tiene todas.</p>"
    cols = colgroup(column_weights(labels, [[_text(v) for v in row] for row in values]))
    return f"<table class='fixed'>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def series(table: Table, key_time: str, key_value: str, tz: timezone) -> list[tuple[float, float]]:
    fmt = "%Y-%m-%d %H:%M"
    return [
        (datetime.strptime(str(r[key_time]), fmt).replace(tzinfo=tz).timestamp(), float(r[key_value]))
        for r in table.rows
    ]


def hour_labels(points: Sequence[tuple[float, float]], tz: timezone) -> list[tuple[float, str]]:
    if not points:
        return []
    start, end = points[0][0], points[-1][0]
    span_h = (end - start) / 3600
    step = 1 if span_h <= 12 else 2 if span_h <= 24 else 4 if span_h <= 48 else 12
    t = datetime.fromtimestamp(start, tz).replace(minute=0, second=0) + timedelta(hours=1)
    labels = []
    while t.timestamp() <= end:
        if t.hour % step == 0:
            labels.append((t.timestamp(), t.strftime("%H:%M") if t.hour else t.strftime("%d/%m")))
        t += timedelta(hours=1)
    return labels
