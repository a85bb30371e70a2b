"""The benchmark chart of the HTML report: each benchmark's ratio with its interval, inline SVG.

One row per benchmark: a dot at the ratio (candidate time over baseline time) on a log scale
centred on 1, a whisker over its confidence interval, the band of the minimum effect shaded, the
row coloured by verdict; beside the chart, the conditions both sides ran under. No script, no
external asset: the page's Content-Security-Policy allows neither. Every text is escaped here.
"""

from __future__ import annotations

import html
import math
from typing import List, Optional, Sequence

from ..model import BenchmarkComparison

# Colour per verdict: slower red, faster green, same grey, the undecided ones amber/blue.
COLOURS = {
    "slower": "#cf222e",
    "faster": "#1a7f37",
    "same": "#57606a",
    "inconclusive": "#bf8700",
    "unstable": "#8250df",
}
_ROW = 22
_LABEL_W = 190
_PLOT_W = 420
_TEXT_W = 330
_TOP = 28


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _finite(x: Optional[float]) -> bool:
    return x is not None and x > 0 and math.isfinite(x)


def _span(rows: Sequence[BenchmarkComparison]) -> float:
    """Half-width of the log2 axis: covers every interval, at least 0.5 (0.71x-1.41x)."""
    reach = 0.5
    for c in rows:
        for x in (c.ratio, c.ci_low, c.ci_high):
            if _finite(x):
                assert x is not None
                reach = max(reach, abs(math.log2(x)))
    return min(math.ceil(reach * 2) / 2, 6.0)


SVG_NS = "http://www.w3.org/2000/svg"


def render_chart(comparisons: Sequence[BenchmarkComparison]) -> str:
    """An ``<svg>`` element (plus a conditions table) for the comparisons that have a ratio;
    an empty string when none has."""
    rows = [c for c in comparisons if _finite(c.ratio)]
    if not rows:
        return ""
    first = rows[0]
    return "\n".join(
        [
            _svg(rows),
            '<table class="bench-conditions">',
            "<tr><th>side</th><th>conditions the benchmarks ran under</th></tr>",
            f"<tr><td>baseline</td><td>{_e(first.baseline_conditions or 'not recorded')}</td></tr>",
            f"<tr><td>candidate</td><td>{_e(first.candidate_conditions or 'not recorded')}"
            "</td></tr>",
            "</table>",
        ]
    )


def standalone_chart(comparisons: Sequence[BenchmarkComparison]) -> Optional[str]:
    """The chart as an SVG file of its own (XML declaration, ``xmlns``, a white background),
    which a browser, an image viewer or a wiki opens as it is; None when no comparison has a
    ratio."""
    rows = [c for c in comparisons if _finite(c.ratio)]
    if not rows:
        return None
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _svg(rows, standalone=True) + "\n"


def _svg(rows: Sequence[BenchmarkComparison], *, standalone: bool = False) -> str:
    # Inline in the HTML page the namespace is implied (and the page holds no URL at all); a file
    # of its own needs it, or no viewer renders it as SVG.
    span = _span(rows)
    x0 = _LABEL_W

    def x(ratio: float) -> float:
        t = max(-span, min(span, math.log2(ratio)))
        return round(x0 + (t + span) / (2 * span) * _PLOT_W, 1)

    height = _TOP + _ROW * len(rows) + 24
    width = _LABEL_W + _PLOT_W + _TEXT_W
    effect = rows[0].min_effect
    namespace = f' xmlns="{SVG_NS}"' if standalone else ""
    out: List[str] = [
        f'<svg{namespace} class="bench-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="system-ui,sans-serif" font-size="12">',
        "<title>benchmark ratios, candidate time over baseline time, with "
        f"{rows[0].confidence:.0%} intervals</title>",
    ]
    if standalone:
        out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    out += [
        f'<rect x="{x(1 / (1 + effect))}" y="{_TOP - 6}" '
        f'width="{round(x(1 + effect) - x(1 / (1 + effect)), 1)}" '
        f'height="{_ROW * len(rows) + 6}" fill="#eaeef2"/>',
        f'<line x1="{x(1.0)}" y1="{_TOP - 10}" x2="{x(1.0)}" '
        f'y2="{_TOP + _ROW * len(rows)}" stroke="#8c959f"/>',
    ]
    ticks = [2.0**k for k in range(-int(span), int(span) + 1)]
    for t in ticks:
        label = f"{t:g}x" if t >= 1 else f"1/{1 / t:g}x"
        out.append(
            f'<text x="{x(t)}" y="{_TOP - 12}" text-anchor="middle" fill="#57606a">'
            f"{_e(label)}</text>"
        )
    out.append(
        f'<text x="{x0 + _PLOT_W + 30}" y="{_TOP - 12}" fill="#57606a">'
        "verdict, ratio (interval) &#183; memory</text>"
    )
    for i, c in enumerate(rows):
        y = _TOP + _ROW * i + _ROW // 2
        colour = COLOURS.get(c.verdict, "#57606a")
        ratio = c.ratio
        assert ratio is not None
        out.append(f'<g class="row {_e(c.verdict)}">')
        out.append(f"<title>{_e(c.name)}: {_e(c.verdict)}: {_e(c.why)}</title>")
        out.append(
            f'<text x="{x0 - 8}" y="{y + 4}" text-anchor="end" fill="#1b1f24">{_e(c.name)}</text>'
        )
        if _finite(c.ci_low) and _finite(c.ci_high):
            assert c.ci_low is not None and c.ci_high is not None
            lo, hi = x(c.ci_low), x(c.ci_high)
            out.append(
                f'<line x1="{lo}" y1="{y}" x2="{hi}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
            )
            for end in (lo, hi):
                out.append(
                    f'<line x1="{end}" y1="{y - 5}" x2="{end}" y2="{y + 5}" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        out.append(f'<circle cx="{x(ratio)}" cy="{y}" r="5" fill="{colour}"/>')
        text = f"{c.verdict} {ratio:.2f}x"
        if _finite(c.ci_low) and _finite(c.ci_high):
            text += f" ({c.ci_low:.2f}-{c.ci_high:.2f})"
        if c.memory_verdict and c.memory_verdict != "same":
            text += f" · memory {c.memory_verdict}"
        out.append(f'<text x="{x0 + _PLOT_W + 8}" y="{y + 4}" fill="{colour}">{_e(text)}</text>')
        out.append("</g>")
    legend_y = _TOP + _ROW * len(rows) + 16
    out.append(f'<text x="{x0}" y="{legend_y}" fill="#57606a">{_e("<- candidate faster")}</text>')
    out.append(
        f'<text x="{x0 + _PLOT_W}" y="{legend_y}" text-anchor="end" fill="#57606a">'
        f"{_e('candidate slower ->')}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)
