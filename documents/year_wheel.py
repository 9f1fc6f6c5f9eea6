"""The årshjul: a year drawn as a wheel, months around, one ring per kind of event, on an A4 page.

Plain values in, bytes out (SVG, PNG or PDF): the caller decides which events and words
(``reports.year_wheel``). January starts at the top and the year runs clockwise, as paper årshjul do.
The figure is an A4 page in portrait (8.27 × 11.69 in), so its font sizes are the printed sizes: the
wheel with the month names in full on the upper half, and under it the calendar, a box per month
listing each event's day and name (8 pt) with a dot in its ring's colour, so every date can be read
on paper, which the dots of a wheel alone never allow.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from documents.charts import PALETTE, _bytes, matplotlib_parts

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from documents.word import text_width_pt

A4_INCHES = (8.27, 11.69)
DPI = 150  # a PNG that prints sharp on A4
LIST_PT = 8.0
LINE_HEIGHT = 0.0125  # of the page height per line of the calendar at LIST_PT
DOT_OFFSET = 0.018  # of the page width, between the dot and the text


@dataclass(frozen=True, slots=True)
class WheelMark:
    ring: int  # 0 is the innermost ring
    day: date
    label: str = ""  # the event's name in the calendar under the wheel (keep it short)


def angle(day: date) -> float:
    """The angle of ``day`` in radians from the top, clockwise: 1 January at 0."""
    days = 366 if calendar.isleap(day.year) else 365
    return 2 * math.pi * (day.timetuple().tm_yday - 1) / days


def _wheel(
    figure: Figure,
    year: int,
    rings: Sequence[str],
    marks: Sequence[WheelMark],
    months: Sequence[str],
    notes: Mapping[int, str] | None = None,
) -> None:
    from matplotlib.projections.polar import PolarAxes  # noqa: PLC0415 - matplotlib is loaded by now

    axes = figure.add_axes((0.14, 0.47, 0.72, 0.45), projection="polar")
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
        axes.text((start + end) / 2, outer + 0.55, months[month], ha="center", va="center", fontsize=11)
    for ring, name in enumerate(rings):
        mine = [mark for mark in marks if mark.ring == ring]
        axes.scatter(
            [angle(mark.day) for mark in mine],
            [ring + 1] * len(mine),
            s=22,
            color=PALETTE[ring % len(PALETTE)],
            label=f"{name} ({(notes or {}).get(ring) or len(mine)})",
            zorder=3,
        )
    axes.spines["polar"].set_visible(False)
    figure.legend(
        loc="center", bbox_to_anchor=(0.5, 0.435), ncol=3, frameon=False, fontsize=9, handletextpad=0.3
    )


def _month_lines(marks: Sequence[WheelMark], month: int) -> list[WheelMark]:
    return sorted((mark for mark in marks if mark.day.month == month), key=lambda mark: (mark.day, mark.ring))


def _fitted(text: str, width_pt: float) -> str:
    """``text`` cut with "…" so that it fits ``width_pt`` at LIST_PT (matplotlib draws DejaVu Sans, the
    font ``text_width_pt`` measures)."""
    if text_width_pt(text, LIST_PT) <= width_pt:
        return text
    while text and text_width_pt(text + "…", LIST_PT) > width_pt:
        text = text[:-1]
    return text.rstrip(" ,:;–") + "…"


def _calendar(figure: Figure, marks: Sequence[WheelMark], months: Sequence[str]) -> None:
    """Four columns of three months: each event as "13  EST-möte 1" with its ring's coloured dot."""
    columns, top, bottom, left = 4, 0.395, 0.03, 0.06
    width = (1 - 2 * left) / columns
    height = (top - bottom) / 3
    room = int((height - 2.2 * LINE_HEIGHT) / LINE_HEIGHT)  # lines under the month's name
    for month in range(1, 13):
        column, row = (month - 1) % columns, (month - 1) // columns
        x = left + column * width
        y = top - row * height
        figure.text(x, y, months[month - 1].capitalize(), fontsize=9.5, fontweight="bold", va="top")
        lines = _month_lines(marks, month)
        shown = lines if len(lines) <= room else lines[: room - 1]
        for index, mark in enumerate(shown):
            line_y = y - (index + 1.5) * LINE_HEIGHT
            colour = PALETTE[mark.ring % len(PALETTE)]
            figure.text(x, line_y, "●", color=colour, fontsize=LIST_PT, va="top")
            text = _fitted(f"{mark.day.day:>2}  {mark.label}", (width - DOT_OFFSET) * A4_INCHES[0] * 72 - 6)
            figure.text(x + DOT_OFFSET, line_y, text, fontsize=LIST_PT, va="top")
        if len(shown) < len(lines):
            line_y = y - (len(shown) + 1.5) * LINE_HEIGHT
            figure.text(
                x + DOT_OFFSET, line_y, f"+ {len(lines) - len(shown)} till", fontsize=LIST_PT, va="top"
            )


def year_wheel(
    year: int,
    rings: Sequence[str],
    marks: Sequence[WheelMark],
    *,
    title: str,
    months: Sequence[str],
    fmt: str = "svg",
    notes: Mapping[int, str] | None = None,
) -> bytes:
    """The A4 page of ``year``: ``rings`` are the legend names, inside out; each mark a dot on its ring
    and a line in its month's box; ``months`` the twelve month names (the caller's words). A ring's
    legend shows its count of marks, or its note when ``notes`` has one ("datum saknas" says more than
    "(0)")."""
    Figure, _ = matplotlib_parts()  # noqa: N806 - the class, under its own name
    figure = Figure(figsize=A4_INCHES, dpi=DPI)
    figure.suptitle(title, y=0.975, fontsize=16)
    _wheel(figure, year, rings, marks, months, notes)
    _calendar(figure, marks, months)
    return _bytes(figure, fmt)
