"""A tiny server-side bar chart in SVG (no JavaScript, no library, no CDN).

Only presentation attributes are used (``fill``, ``x``, ``width`` ...), never ``style``, so the
charts pass the Content-Security-Policy. Every chart on a page is paired with a table of its
numbers; the SVG is decoration plus a ``<title>`` for screen readers.
"""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

BAR = "#1d4ed8"
TARGET = "#b45309"
GRID = "#e5e7eb"
TEXT = "#111827"


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def bar_chart(
    rows: Sequence[tuple[str, float]],
    title: str,
    *,
    target: float | None = None,
    max_value: float | None = None,
    unit: str = "",
    width: int = 480,
    bar_height: int = 18,
    label_width: int = 160,
) -> Markup:
    """Horizontal bars, one per ``(label, value)`` row, with an optional target line.

    ``max_value`` fixes the scale (e.g. 100 for percentages); otherwise the largest of the
    values and the target. Returns safe markup to embed in a page.
    """
    gap = 6
    top = 4
    n = max(1, len(rows))
    height = top + n * (bar_height + gap) + 18
    scale_max = max_value or max([v for _, v in rows] + [target or 0, 1])
    plot = width - label_width - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_height + gap)
        w = 0 if scale_max <= 0 else max(0.0, min(1.0, value / scale_max)) * plot
        text = str(label)
        short = text if len(text) <= 24 else text[:23] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.75:.1f}" text-anchor="end" font-size="12" fill="{TEXT}">'
            f"<title>{escape(text)}</title>{escape(short)}</text>"
        )
        parts.append(f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="{GRID}"/>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{BAR}"/>')
        parts.append(
            f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height * 0.75:.1f}" font-size="12" fill="{TEXT}">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    if not rows:
        parts.append(f'<text x="{label_width}" y="{top + bar_height * 0.75}" font-size="12" fill="{TEXT}">—</text>')
    if target is not None and scale_max > 0:
        x = label_width + min(1.0, target / scale_max) * plot
        bottom = top + n * (bar_height + gap)
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{bottom}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" font-size="11" fill="{TARGET}">'
            f"{escape(_fmt(target))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
