"""Charts as PNG (or SVG) bytes, drawn with matplotlib's Agg backend: no screen, no state between calls."""

from __future__ import annotations

import base64
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Colours that stay apart in grey print and for the common colour-vision deficiencies (Okabe–Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
DPI = 110


# Fixed margins (left, bottom, right, top as fractions of the figure) instead of the constrained
# layout: half the drawing time, for pages that draw many charts at once (the EST agenda). The caller
# chooses margins that fit its labels.
Margins = tuple[float, float, float, float]


@cache
def matplotlib_parts() -> tuple[type[Figure], Any]:
    """matplotlib's Figure and MaxNLocator, imported on the first chart (about 0.4 s): a command that
    draws nothing never loads matplotlib. Its font cache goes to a temp dir unless the operator chose
    one, so a read-only home does not stop a report."""
    os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "samordna-matplotlib"))
    import matplotlib as mpl  # noqa: PLC0415 - see above

    mpl.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415 - see above
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 - see above

    return Figure, MaxNLocator


def _figure(width: float = 7.0, height: float = 3.2, margins: Margins | None = None) -> tuple[Figure, Axes]:
    Figure, _ = matplotlib_parts()  # noqa: N806 - the class, under its own name
    # Figure() rather than pyplot: no global figure registry, so charts drawn in a loop leak nothing.
    figure = Figure(figsize=(width, height), dpi=DPI, layout=None if margins else "constrained")
    if margins:
        left, bottom, right, top = margins
        figure.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _count_axis(axes: Axes, numbers: Sequence[float], *, vertical: bool = True) -> None:
    """A value axis from 0 to at least 1, with whole-number ticks when the values are counts: a
    period without incidents draws an empty chart on 0–1, not an axis of −0.04…0.04."""
    axis = axes.yaxis if vertical else axes.xaxis
    if all(float(number).is_integer() for number in numbers):
        axis.set_major_locator(matplotlib_parts()[1](integer=True))
    top = max([1.0, *[float(number) for number in numbers]]) * 1.08
    if vertical:
        axes.set_ylim(0, top)
    else:
        axes.set_xlim(0, top)


def _bytes(figure: Figure, fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    # A fixed date keeps SVG/PNG/PDF metadata, and so the bytes, the same for the same chart.
    metadata: dict[str, str | None] = {"Date": None}
    if fmt == "png":
        metadata = {"Software": "Samordna"}
    elif fmt == "pdf":
        metadata = {"Creator": "Samordna", "CreationDate": None}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def bar_chart(
    values: Mapping[str, float],
    *,
    title: str,
    value_label: str = "",
    horizontal: bool = True,
    fmt: str = "png",
    margins: Margins | None = None,
) -> bytes:
    """One bar per label, in the given order; horizontal by default so Swedish labels stay readable."""
    figure, axes = _figure(height=max(2.2, 0.35 * len(values) + 1.0) if horizontal else 3.2, margins=margins)
    labels, numbers = list(values), list(values.values())
    if horizontal:
        axes.barh(labels[::-1], numbers[::-1], color=PALETTE[0])
        axes.set_xlabel(value_label)
        _count_axis(axes, numbers, vertical=False)
    else:
        axes.bar(labels, numbers, color=PALETTE[0])
        axes.set_ylabel(value_label)
        _count_axis(axes, numbers)
        axes.tick_params(axis="x", labelrotation=30)
    axes.set_title(title, loc="left")
    return _bytes(figure, fmt)


def grouped_bar_chart(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    value_label: str = "",
    colours: Sequence[str] | None = None,
    fmt: str = "png",
    margins: Margins | None = None,
    label_rotation: float = 30,
) -> bytes:
    """Bars per group, one colour per series (e.g. this period against the previous one); ``colours``
    overrides the palette where a colour means something (a traffic light). Long group names can be
    given with line breaks and ``label_rotation=0``."""
    figure, axes = _figure(margins=margins)
    width = 0.8 / max(1, len(series))
    chosen = list(colours) if colours else list(PALETTE)
    for index, (name, numbers) in enumerate(series.items()):
        positions = [position + index * width for position in range(len(groups))]
        axes.bar(positions, numbers, width=width, label=name, color=chosen[index % len(chosen)])
    axes.set_xticks([position + 0.4 - width / 2 for position in range(len(groups))], groups)
    if label_rotation:
        # Rotated labels end at their tick, so long neighbours do not run into each other.
        axes.tick_params(axis="x", labelrotation=label_rotation)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    axes.set_ylabel(value_label)
    _count_axis(axes, [number for numbers in series.values() for number in numbers])
    axes.set_title(title, loc="left")
    axes.legend(frameon=False)
    return _bytes(figure, fmt)


def line_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    value_label: str = "",
    target: float | None = None,
    fmt: str = "png",
) -> bytes:
    """A line per series over the labelled periods; a gap where a value is missing; an optional target."""
    figure, axes = _figure()
    positions = list(range(len(x_labels)))
    for index, (name, numbers) in enumerate(series.items()):
        ys = [float("nan") if number is None else number for number in numbers]
        axes.plot(positions, ys, marker="o", label=name, color=PALETTE[index % len(PALETTE)])
    if target is not None:
        axes.axhline(target, linestyle="--", color="#555555", label="Mål")
    axes.set_xticks(positions, list(x_labels))
    axes.set_ylabel(value_label)
    axes.set_title(title, loc="left")
    axes.legend(frameon=False)
    return _bytes(figure, fmt)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    title: str,
    fmt: str = "png",
    margins: Margins | None = None,
) -> bytes:
    """A grid of counts (e.g. weekday × hour), darker for more; each cell's number printed when it fits."""
    figure, axes = _figure(height=max(2.4, 0.32 * len(rows) + 1.2), margins=margins)
    # From 0 and to at least 1: an empty grid stays white instead of one solid colour.
    highest = max([1.0, *[float(value) for row in values for value in row]])
    image = axes.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=highest)
    axes.set_yticks(range(len(rows)), list(rows))
    axes.set_xticks(range(len(columns)), list(columns))
    axes.spines[["left", "bottom"]].set_visible(False)
    figure.colorbar(image, ax=axes, shrink=0.8, ticks=matplotlib_parts()[1](integer=True))
    axes.set_title(title, loc="left")
    return _bytes(figure, fmt)


def data_uri(png: bytes) -> str:
    """A PNG as a data URI, so an HTML page or e-mail carries its charts inside itself."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
