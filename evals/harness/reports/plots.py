"""Inline SVG plots for the HTML report: no JavaScript, no external assets, no plotting library."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2f6fdf", "#e0533d", "#8a8f98", "#2aa876", "#c58b00", "#8e44ad")
_WIDTH, _HEIGHT, _PAD = 640, 220, 40
_LEGEND = 170  # right-hand strip kept free of bars for the legend


def bar_chart(items: Sequence[tuple[str, float]], *, title: str) -> str:
    """Horizontal bars, one per (label, share in [0, 1])."""
    row = 26
    height = 30 + row * max(len(items), 1)
    parts = [_open(height, title), _text(10, 18, title, weight="bold")]
    for i, (label, share) in enumerate(items):
        y = 30 + i * row
        width = max(1.0, share * (_WIDTH - 200))
        colour = PALETTE[i % len(PALETTE)]
        parts.append(_text(10, y + 16, label))
        parts.append(f'<rect x="120" y="{y + 4}" width="{width:.1f}" height="16" fill="{colour}"/>')
        parts.append(_text(126 + width, y + 16, f"{share:.1%}"))
    return "".join(parts) + "</svg>"


def histogram(
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    unit: str = "",
    bins: int = 20,
    low: float | None = None,
    high: float | None = None,
) -> str:
    """Overlaid histograms of each named series (counts), on a shared axis."""
    values = [v for vs in series.values() for v in vs]
    if not values:
        return _open(40, title) + _text(10, 24, f"{title}: no data") + "</svg>"
    low = min(values) if low is None else low
    high = max(values) if high is None else high
    span = (high - low) or 1.0
    counts = {name: _bin(vs, low, span, bins) for name, vs in series.items()}
    peak = max(max(c) for c in counts.values()) or 1
    plot_w, plot_h = _WIDTH - 2 * _PAD - _LEGEND, _HEIGHT - 2 * _PAD
    bar_w = plot_w / bins
    parts = [_open(_HEIGHT, title), _text(10, 18, title, weight="bold")]
    for index, (name, column) in enumerate(counts.items()):
        colour = PALETTE[index % len(PALETTE)]
        for b, count in enumerate(column):
            if count:
                h = plot_h * count / peak
                x, y = _PAD + b * bar_w, _HEIGHT - _PAD - h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                    f'fill="{colour}" fill-opacity="0.55"><title>{escape(name)}: {count}</title>'
                    "</rect>"
                )
        label = f"{name} (n={len(series[name])})"
        parts.append(_legend(_WIDTH - _LEGEND + 10, 30 + 16 * index, colour, label))
    parts.append(_axis(low, high, unit, peak))
    return "".join(parts) + "</svg>"


def _bin(values: Sequence[float], low: float, span: float, bins: int) -> list[int]:
    column = [0] * bins
    for value in values:
        position = int((value - low) / span * bins)
        column[min(max(position, 0), bins - 1)] += 1
    return column


def _axis(low: float, high: float, unit: str, peak: int) -> str:
    base, right = _HEIGHT - _PAD, _WIDTH - _PAD - _LEGEND
    return (
        f'<line x1="{_PAD}" y1="{base}" x2="{right}" y2="{base}" stroke="#333"/>'
        + _text(_PAD, base + 16, f"{low:g}{unit}")
        + _text(right - 40, base + 16, f"{high:g}{unit}")
        + _text(4, _PAD + 4, str(peak))
    )


def _legend(x: float, y: float, colour: str, label: str) -> str:
    return f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill="{colour}"/>' + _text(
        x + 14, y, label
    )


def _open(height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{escape(title)}">'
    )


def _text(x: float, y: float, text: str, *, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" font-family="sans-serif" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )
