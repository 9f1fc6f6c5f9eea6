"""The årshjul: a year drawn as a wheel, months around, one ring per kind of event (SVG or PNG).

Plain values in, bytes out: the caller decides which events and words (``reports.year_wheel``).
January starts at the top and the year runs clockwise, as paper årshjul do.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.figure import Figure
from matplotlib.projections.polar import PolarAxes

from documents.charts import PALETTE, _bytes

MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


@dataclass(frozen=True, slots=True)
class WheelMark:
    ring: int  # 0 is the innermost ring
    day: date
    label: str = ""  # written beside the mark when given (keep it short)


def angle(day: date) -> float:
    """The angle of ``day`` in radians from the top, clockwise: 1 January at 0."""
    days = 366 if calendar.isleap(day.year) else 365
    return 2 * math.pi * (day.timetuple().tm_yday - 1) / days


def year_wheel(
    year: int,
    rings: Sequence[str],
    marks: Sequence[WheelMark],
    *,
    title: str,
    fmt: str = "svg",
    notes: Mapping[int, str] | None = None,
) -> bytes:
    """The wheel of ``year``: ``rings`` are the legend names, inside out; each mark a dot on its ring.

    A ring's legend shows its count of marks, or its note when ``notes`` has one ("datum saknas"
    says more than "(0)")."""
    figure = Figure(figsize=(10, 10), dpi=110, layout="constrained")
    axes = figure.add_subplot(projection="polar")
    assert isinstance(axes, PolarAxes)  # noqa: S101 - narrows the type for mypy
    axes.set_theta_zero_location("N")
    axes.set_theta_direction(-1)
    outer = len(rings) + 1.2
    axes.set_ylim(0, outer)
    axes.set_yticks([index + 1 for index in range(len(rings))], [""] * len(rings))
    axes.grid(visible=True, axis="y", color="#dddddd")
    starts = [angle(date(year, month, 1)) for month in range(1, 13)]
    axes.set_xticks(starts, [""] * 12)
    axes.grid(visible=True, axis="x", color="#999999")
    for month, start in enumerate(starts):
        end = starts[month + 1] if month < 11 else 2 * math.pi  # noqa: PLR2004 - December
        axes.text((start + end) / 2, outer + 0.35, MONTHS[month], ha="center", va="center", fontsize=12)
    for ring, name in enumerate(rings):
        mine = [mark for mark in marks if mark.ring == ring]
        colour = PALETTE[ring % len(PALETTE)]
        axes.scatter(
            [angle(mark.day) for mark in mine],
            [ring + 1] * len(mine),
            s=28,
            color=colour,
            label=f"{name} ({(notes or {}).get(ring) or len(mine)})",
            zorder=3,
        )
        for mark in mine:
            if mark.label:
                axes.text(angle(mark.day), ring + 1.3, mark.label, fontsize=6.5, color=colour, ha="center")
    axes.set_title(title, pad=28, fontsize=15)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    axes.spines["polar"].set_visible(False)
    return _bytes(figure, fmt)
