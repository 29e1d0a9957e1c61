"""The HTML pieces the informe's sections are made of: tables, figures with their captions, and a
chart's time series and hour labels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any

from prepcast.analytics.analysis import n
from prepcast.analytics.metrics import Table


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "<td>sí</td>" if value else "<td>no</td>"
    if isinstance(value, int):
        return f"<td class='num'>{n(value)}</td>"
    if isinstance(value, float):
        return f"<td class='num'>{value:,.2f}</td>"
    return f"<td>{escape(str(value if value is not None else '—'))}</td>"


def html_table(table: Table, limit: int | None = None) -> str:
    rows = table.rows[:limit] if limit else table.rows
    head = "".join(f"<th>{escape(label)}</th>" for _, label in table.columns)
    body = "".join(
        "<tr>" + "".join(cell(r.get(key)) for key, _ in table.columns) + "</tr>" for r in rows
    )
    if not rows:
        body = f"<tr><td colspan='{len(table.columns)}'>Sin registros en el periodo.</td></tr>"
    more = ""
    if limit and len(table.rows) > limit:
        more = f"<p class='note'>Se muestran {limit} de {n(len(table.rows))} filas; el archivo tablas/{table.name}.csv tiene todas.</p>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


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
