"""Charts of the analysis report as inline SVG, drawn here: the PDF renderer runs no JavaScript, so the
report cannot use the ECharts of the pages. Plain values in, SVG text out."""

from __future__ import annotations

from decimal import Decimal
from html import escape

RED, BLUE, GREY, TEXT = "#b91c1c", "#1d4ed8", "#d1d5db", "#374151"


def _num(v) -> float:
    return float(v) if isinstance(v, (int, float, Decimal)) else 0.0


def line_chart(labels: list[str], series: list[tuple[str, list], ], *, width=640, height=240, unit="%",
               y_max: float | None = None) -> str:
    """One line per (name, values); missing values (None) leave a gap."""
    left, right, top, bottom = 44, 12, 26, 34
    w, h = width - left - right, height - top - bottom
    values = [_num(v) for _, vs in series for v in vs if v is not None]
    top_value = y_max if y_max is not None else max([1.0, *values]) * 1.1
    n = max(len(labels), 2)

    def x(i):
        return left + w * i / (n - 1)

    def y(v):
        return top + h - h * _num(v) / top_value

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="11" fill="{TEXT}">']
    for k in range(5):
        v = top_value * k / 4
        yy = y(v)
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="{GREY}" '
                     f'stroke-width="0.5"/><text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end">{v:.0f}{unit}</text>')
    step = max(1, len(labels) // 7)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="middle">{escape(label)}</text>')
    for s, (name, vs) in enumerate(series):
        color = (RED, BLUE, "#047857")[s % 3]
        segment = []
        for i, v in enumerate(vs):
            if v is None:
                if len(segment) > 1:
                    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(segment)}"/>')
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2" fill="{color}"/>')
        if len(segment) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(segment)}"/>')
        parts.append(f'<rect x="{left + 120 * s}" y="6" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + 14 + 120 * s}" y="15">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: list[str], values: list, *, width=640, height=260, unit="%", reference=None,
              reference_label: str = "") -> str:
    """Vertical bars with their value on top; an optional dashed reference line (the city's figure)."""
    left, right, top, bottom = 44, 12, 20, 58
    w, h = width - left - right, height - top - bottom
    nums = [_num(v) for v in values]
    top_value = max([1.0, *nums, _num(reference)]) * 1.1
    n = max(len(labels), 1)
    slot = w / n
    bar = min(36.0, slot * 0.7)

    def y(v):
        return top + h - h * v / top_value

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10" fill="{TEXT}">',
             f'<line x1="{left}" y1="{top + h}" x2="{width - right}" y2="{top + h}" stroke="{TEXT}" stroke-width="0.6"/>']
    for i, (label, v) in enumerate(zip(labels, nums)):
        cx = left + slot * i + slot / 2
        parts.append(f'<rect x="{cx - bar / 2:.1f}" y="{y(v):.1f}" width="{bar:.1f}" height="{top + h - y(v):.1f}" '
                     f'fill="{RED if reference is None or v >= _num(reference) else BLUE}"/>')
        parts.append(f'<text x="{cx:.1f}" y="{y(v) - 3:.1f}" text-anchor="middle">{v:.1f}</text>')
        parts.append(f'<text x="{cx:.1f}" y="{top + h + 14}" text-anchor="end" '
                     f'transform="rotate(-35 {cx:.1f} {top + h + 14})">{escape(label)}</text>')
    if reference is not None:
        ry = y(_num(reference))
        parts.append(f'<line x1="{left}" y1="{ry:.1f}" x2="{width - right}" y2="{ry:.1f}" stroke="{TEXT}" '
                     f'stroke-dasharray="4 3"/><text x="{width - right}" y="{ry - 4:.1f}" text-anchor="end">'
                     f'{escape(reference_label)} {_num(reference):.1f}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)
