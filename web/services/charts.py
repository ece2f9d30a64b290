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


FONT = 14  # px in the drawing; the SVG is drawn at most 1.25x narrower than this, so >= 11 px


def wrap_label(text: str, per_line: int, lines: int = 2) -> list[str]:
    """``text`` on at most ``lines`` lines of about ``per_line`` characters, cut between words;
    the last line ends with "…" only when the text does not fit (the full text is the title)."""
    words, out, cur = text.split(), [], ""
    for w in words:
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= per_line:
            cur += " " + w
        else:
            out.append(cur)
            cur = w
    if cur:
        out.append(cur)
    out = [line if len(line) <= per_line else line[: per_line - 1] + "…" for line in out] or [""]
    if len(out) > lines:
        last = " ".join(out[lines - 1:])
        out = out[: lines - 1] + [last[: per_line - 1].rstrip() + "…"]
    return out


def bar_chart(
    rows: Sequence[tuple[str, float]],
    title: str,
    *,
    target: float | None = None,
    max_value: float | None = None,
    unit: str = "",
    width: int = 400,
    label_width: int = 190,
) -> Markup:
    """Horizontal bars, one per ``(label, value)`` row, with an optional target line.

    Labels wrap onto two lines (the full text in a ``<title>``) instead of being cut, in
    :data:`FONT` px; ``max_value`` fixes the scale (e.g. 100 for percentages); otherwise the
    largest of the values and the target. Returns safe markup to embed in a page.
    """
    gap = 6
    top = 4
    per_line = max(8, int(label_width / (FONT * 0.62)))  # a wide-ish average glyph: never cut
    wrapped = [wrap_label(str(label), per_line) for label, _ in rows]
    bar_height = FONT + 8 if all(len(w) == 1 for w in wrapped) else 2 * FONT + 8
    n = max(1, len(rows))
    height = top + n * (bar_height + gap) + 20
    scale_max = max_value or max([v for _, v in rows] + [target or 0, 1])
    plot = width - label_width - 64
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" class="bars">',
        f"<title>{escape(title)}</title>",
    ]
    for i, ((label, value), lines) in enumerate(zip(rows, wrapped)):
        y = top + i * (bar_height + gap)
        w = 0 if scale_max <= 0 else max(0.0, min(1.0, value / scale_max)) * plot
        first = y + (bar_height - len(lines) * FONT) / 2 + FONT * 0.85
        spans = "".join(
            f'<tspan x="{label_width - 6}" y="{first + k * FONT:.1f}">{escape(line)}</tspan>' for k, line in enumerate(lines))
        parts.append(f'<text text-anchor="end" font-size="{FONT}" fill="{TEXT}"><title>{escape(str(label))}</title>{spans}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="{GRID}"/>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{BAR}"/>')
        parts.append(
            f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height / 2 + FONT * 0.35:.1f}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    if not rows:
        parts.append(f'<text x="{label_width}" y="{top + FONT}" font-size="{FONT}" fill="{TEXT}">—</text>')
    if target is not None and scale_max > 0:
        x = label_width + min(1.0, target / scale_max) * plot
        bottom = top + n * (bar_height + gap)
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{bottom}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="{FONT}" fill="{TARGET}">'
            f"{escape(_fmt(target))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def month_rows(counts: dict[str, float], start, end) -> list[tuple[str, float]]:
    """One row per calendar month from ``start`` to ``end`` (``MM/YYYY``), zero where nothing
    happened: a month without orders is a fact the chart must show."""
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        key = f"{y:04d}-{m:02d}"
        out.append((f"{m:02d}/{y:04d}", counts.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
