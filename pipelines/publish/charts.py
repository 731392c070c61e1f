"""Charts as inline SVG, generated here: pages that hold them work offline, with no JavaScript and
nothing fetched. Two shapes cover what budgetwh draws: vertical bars by category (stacked or side by
side, e.g. 功能分类 类 by year) and horizontal bars with a label each (projects by size, findings by
rule, execution rates)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from decimal import Decimal

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#2f4b7c", "#a05195", "#d45087", "#665191", "#ffa600", "#003f5c",
)  # fmt: skip

Number = int | float | Decimal


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def wan(value: Number) -> str:
    """An amount in 元 shown in 万元 (the unit the documents print)."""
    return f"{float(value) / 10000:,.2f} 万元"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _text_width(s: str, size: float = 11) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in s)


def bar_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[Number | None]],
    *,
    title: str,
    stacked: bool = True,
    fmt: Callable[[Number], str] = wan,
    height: int = 300,
) -> str:
    """Vertical bars: one group per category, one colour per series (stacked or side by side)."""
    if not categories or not series:
        return f"<p class='muted'>{_esc(title)}: no data.</p>"
    names = list(series)
    values = [[float(series[n][i] or 0) for n in names] for i in range(len(categories))]
    top = max((sum(v for v in row if v > 0) if stacked else max(row, default=0)) for row in values)
    top = _nice_max(top)
    legend_rows = (len(names) + 2) // 3
    left, right, plot_top = 90, 20, 30
    group = max(50, min(120, 700 // max(1, len(categories))))
    width = left + right + group * len(categories)
    plot_h = height - plot_top - 40
    total_h = height + 18 * legend_rows + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{max(width, 520)}' height='{total_h}' role='img' "
           f"aria-label='{_esc(title)}' font-family='sans-serif' font-size='11'>",
           f"<text x='{left}' y='16' font-size='13' font-weight='bold'>{_esc(title)}</text>"]  # fmt: skip
    for k in range(5):
        y = plot_top + plot_h - plot_h * k / 4
        out.append(f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>")
        out.append(
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' fill='#555'>{_esc(fmt(top * k / 4))}</text>"
        )
    for i, cat in enumerate(categories):
        x0 = left + group * i + group * 0.15
        bar_w = group * 0.7 / (1 if stacked else len(names))
        base = 0.0
        for j, name in enumerate(names):
            v = values[i][j]
            if v <= 0:
                continue
            h = plot_h * v / top
            x = x0 if stacked else x0 + bar_w * j
            y = plot_top + plot_h - h - (plot_h * base / top if stacked else 0)
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_w:.1f}' height='{h:.1f}' fill='{PALETTE[j % len(PALETTE)]}'>"
                f"<title>{_esc(cat)} · {_esc(name)}: {_esc(fmt(v))}</title></rect>"
            )
            if stacked:
                base += v
        out.append(
            f"<text x='{left + group * i + group / 2:.1f}' y='{plot_top + plot_h + 16}' text-anchor='middle'>"
            f"{_esc(cat)}</text>"
        )
    for j, name in enumerate(names):
        lx = left + (j % 3) * 220
        ly = height + 4 + 18 * (j // 3)
        out.append(f"<rect x='{lx}' y='{ly - 9}' width='10' height='10' fill='{PALETTE[j % len(PALETTE)]}'/>")
        out.append(f"<text x='{lx + 14}' y='{ly}'>{_esc(name[:18])}</text>")
    out.append("</svg>")
    return "".join(out)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[Number | None],
    *,
    title: str,
    fmt: Callable[[Number], str] = wan,
    reference: float | None = None,
    colors: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one per label (longest label decides the left margin); ``reference`` draws a
    vertical line (e.g. 100 % execution)."""
    if not labels:
        return f"<p class='muted'>{_esc(title)}: no data.</p>"
    nums = [float(v or 0) for v in values]
    top = _nice_max(max([*nums, reference or 0]))
    left = min(320, 12 + max(_text_width(lb) for lb in labels))
    plot_w, row_h = 420, 20
    width = left + plot_w + 130
    height = 30 + row_h * len(labels) + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height}' role='img' "
           f"aria-label='{_esc(title)}' font-family='sans-serif' font-size='11'>",
           f"<text x='4' y='16' font-size='13' font-weight='bold'>{_esc(title)}</text>"]  # fmt: skip
    for i, (label, v) in enumerate(zip(labels, nums, strict=True)):
        y = 26 + row_h * i
        w = plot_w * max(0.0, v) / top
        color = colors[i] if colors else PALETTE[0]
        short = label if _text_width(label) <= left - 8 else label[: int((left - 8) / 11)] + "…"
        out.append(
            f"<text x='{left - 6:.0f}' y='{y + 13}' text-anchor='end'>{_esc(short)}<title>{_esc(label)}</title></text>"
        )
        out.append(
            f"<rect x='{left:.0f}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' fill='{color}'>"
            f"<title>{_esc(label)}: {_esc(fmt(v))}</title></rect>"
        )
        out.append(f"<text x='{left + w + 4:.1f}' y='{y + 13}' fill='#333'>{_esc(fmt(v))}</text>")
    if reference is not None:
        x = left + plot_w * reference / top
        out.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='22' y2='{height - 6}' stroke='#b00020' stroke-dasharray='4 3'/>"
        )
    out.append("</svg>")
    return "".join(out)
