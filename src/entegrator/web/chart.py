"""The dashboard's 12-month chart of sales and purchases, drawn on the server as SVG (no
script): two bars a month, a scale in Turkish thousands, a text table for screen readers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from markupsafe import Markup, escape

from entegrator.web.formatting import number

__all__ = ["MONTHS", "bar_chart", "months_back"]

MONTHS = {
    "tr": ("Oca", "Şub", "Mar", "Nis", "May", "Haz", "Tem", "Ağu", "Eyl", "Eki", "Kas", "Ara"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def months_back(this_month: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of the ``count`` months ending with ``this_month``, oldest first."""
    out = []
    year, month = this_month.year, this_month.month
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def _nice(top: Decimal) -> Decimal:
    """A round upper bound of the scale (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return step * power
    return 10 * power


def bar_chart(
    months: list[dt.date],
    sales: dict[dt.date, Decimal],
    purchases: dict[dt.date, Decimal],
    *,
    lang: str,
    title: str,
    legend: tuple[str, str],
) -> Markup:
    width, height, left, bottom, top = 720, 260, 70, 30, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([*sales.values(), *purchases.values(), Decimal(0)])
    scale = _nice(peak)
    slot = Decimal(plot_w) / len(months)
    bar = slot * Decimal("0.38")
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for i in range(5):
        value = scale * i / 4
        y = top + plot_h - (plot_h * i / 4)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dbe1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(number(value, places=0))}</text>"
        )
    names = MONTHS.get(lang, MONTHS["tr"])
    for index, month in enumerate(months):
        x = Decimal(left) + slot * index + slot * Decimal("0.1")
        for offset, (values, css) in enumerate(
            ((sales, "legend-sales"), (purchases, "legend-purchases"))
        ):
            value = values.get(month, Decimal(0))
            h = Decimal(plot_h) * value / scale if scale else Decimal(0)
            bar_y = Decimal(top + plot_h) - h
            parts.append(
                f'<rect class="{css}" x="{x + bar * offset:.1f}" y="{bar_y:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"/>'
            )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{height - 10}" text-anchor="middle">'
            f"{names[month.month - 1]} {str(month.year)[2:]}</text>"
        )
    parts.append(
        f'<rect class="legend-sales" x="{left}" y="2" width="10" height="10"/>'
        f'<text x="{left + 14}" y="11">{escape(legend[0])}</text>'
        f'<rect class="legend-purchases" x="{left + 120}" y="2" width="10" height="10"/>'
        f'<text x="{left + 134}" y="11">{escape(legend[1])}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped texts only
