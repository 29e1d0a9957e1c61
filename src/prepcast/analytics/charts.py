"""Charts as inline SVG (the PDF engine runs no JavaScript): a time series and horizontal bars."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_FONT = "font-family='DejaVu Sans, sans-serif'"


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def time_series(
    points: Sequence[tuple[float, float]],
    *,
    labels: Sequence[tuple[float, str]] = (),
    marks: Sequence[float] = (),
    title: str = "",
    width: int = 760,
    height: int = 240,
    color: str = "#7a1f5c",
) -> str:
    """A line chart of (x, y) points; ``labels`` are x-axis ticks, ``marks`` vertical lines."""
    if not points:
        return f"<p class='empty'>Sin datos para «{escape(title)}».</p>"
    left, right, top, bottom = 56, 10, 10, 36
    xs = [p[0] for p in points]
    x0, x1 = min(xs), max(xs)
    y1 = max(p[1] for p in points) or 1.0
    span = (x1 - x0) or 1.0

    def px(x: float) -> float:
        return left + (x - x0) / span * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - y / y1) * (height - top - bottom)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='{escape(title)}' {_FONT} font-size='10'>",
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        y = py(y1 * frac)
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>")
        parts.append(f"<text x='{left - 4}' y='{y + 3:.1f}' text-anchor='end'>{_fmt(y1 * frac)}</text>")
    for m in marks:
        if x0 <= m <= x1:
            parts.append(
                f"<line x1='{px(m):.1f}' x2='{px(m):.1f}' y1='{top}' y2='{height - bottom}' "
                "stroke='#1f6f7a' stroke-width='0.6' stroke-dasharray='2,2' opacity='0.7'/>"
            )
    path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points))
    parts.append(f"<path d='{path}' fill='none' stroke='{color}' stroke-width='1.2'/>")
    for x, text in labels:
        if x0 <= x <= x1:
            parts.append(
                f"<text x='{px(x):.1f}' y='{height - bottom + 14}' text-anchor='middle'>{escape(text)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def bars(items: Sequence[tuple[str, float]], *, title: str = "", width: int = 760, color: str = "#7a1f5c") -> str:
    """Horizontal bars, one per (label, value), largest scale first as given."""
    if not items:
        return f"<p class='empty'>Sin datos para «{escape(title)}».</p>"
    row, label_w = 18, 260
    height = row * len(items) + 6
    vmax = max(v for _, v in items) or 1.0
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='{escape(title)}' {_FONT} font-size='10'>",
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 3 + i * row
        w = (width - label_w - 80) * value / vmax
        parts.append(f"<text x='{label_w - 6}' y='{y + 12}' text-anchor='end'>{escape(label[:48])}</text>")
        parts.append(f"<rect x='{label_w}' y='{y + 2}' width='{w:.1f}' height='{row - 6}' fill='{color}'/>")
        parts.append(f"<text x='{label_w + w + 4:.1f}' y='{y + 12}'>{_fmt(value)}</text>")
    parts.append("</svg>")
    return "".join(parts)
