"""Charts for both page areas: a line chart by day, and the triage list's sparkline.

Presentation only: the callers turn their own data (pain summaries, a patient's days) into
plain numbers by day, and this module turns those into SVG geometry. What the numbers mean
(means, windows, alert rules) stays with the areas that compute them (``alerts.pain_trends``).

The line chart is a structure, drawn by the shared template ``_chart.html``: every number
the template writes is computed here, so the tests can check geometry without a browser.
Colours live in ``site.css`` classes (the CSP forbids inline styles); geometry and type size
are SVG attributes.

An SVG scales its text with its width. So one chart is drawn at a few widths (``SIZES``), and
CSS shows the one drawn for the width of its container: the labels stay at least 14 px on a
360 px phone and on a 1280 px desk screen, instead of one drawing that is unreadable on one
of them.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Size:
    """One drawing of a chart, in SVG units: ``width`` by the plot's height, with type of
    ``font`` units. ``name`` is the CSS hook (``data-size``) that picks it by width."""

    name: str
    width: int
    plot_height: int
    font: int


# Shown for containers up to 560 px, 560-960 px and from 960 px (site.css, "Charts"). At the
# narrow end of each range the type renders at 16 * 330 / 360, 16 * 560 / 640 and
# 16 * 960 / 1000 px: never under 14.
SMALL = Size("small", width=360, plot_height=190, font=16)
MEDIUM = Size("medium", width=640, plot_height=220, font=16)
LARGE = Size("large", width=1000, plot_height=240, font=16)
SIZES = (SMALL, MEDIUM, LARGE)

# The style of a series: the first is drawn solid with large points, the others dashed.
PRIMARY, SECONDARY = "primary", "secondary"


@dataclass(frozen=True)
class Series:
    """One line: ``values`` by day number. A day without a value is a gap in the line."""

    label: str
    values: Mapping[int, float]
    style: str = PRIMARY
    # Points at or above the threshold are marked (only on the series the threshold is about).
    marks_threshold: bool = True


@dataclass(frozen=True)
class Threshold:
    """A labelled horizontal line at ``value``; ``label`` is written beside the line and
    ``legend`` explains it, ``point_legend`` the marked points at or above it."""

    value: float
    label: str
    legend: str
    point_legend: str


@dataclass(frozen=True)
class Band:
    """A span of days (a restriction of the plan), drawn as a labelled bar under the day axis."""

    label: str
    start_day: int
    end_day: int


@dataclass(frozen=True)
class ReferenceRange:
    """A shaded range of values by day, drawn first, behind everything else: a reference to
    read a line against (the care team's expected course of pain), never data of its own.

    ``points`` are ``(day, low, high)``; the range runs straight from one day's point to the
    next, and a day between two points has the values on those lines (``at``). ``label`` names
    it in the legend and the description; ``low_label`` and ``high_label`` head its columns in
    the page's table of values.
    """

    label: str
    points: Sequence[tuple[int, float, float]]
    low_label: str = "Expected low"
    high_label: str = "Expected high"

    def _sorted(self) -> list[tuple[int, float, float]]:
        return sorted(self.points)

    def at(self, day: float) -> tuple[float, float] | None:
        """The low and high on ``day`` (straight lines between the points); None before the
        first point or after the last."""
        points = self._sorted()
        if not points or not points[0][0] <= day <= points[-1][0]:
            return None
        for (d0, low0, high0), (d1, low1, high1) in pairwise(points):
            if d0 <= day <= d1:
                share = (day - d0) / (d1 - d0)
                return low0 + share * (low1 - low0), high0 + share * (high1 - high0)
        return points[-1][1], points[-1][2]

    def text_at(self, day: int) -> tuple[str, str] | None:
        """``at(day)`` as the table writes it (one decimal at most)."""
        values = self.at(day)
        return None if values is None else (_fmt(values[0]), _fmt(values[1]))


@dataclass(frozen=True)
class Tick:
    label: str
    position: float


@dataclass(frozen=True)
class Point:
    day: int
    value: float
    x: float
    y: float
    radius: float
    # At or above the threshold: drawn larger, in the colour the legend names.
    high: bool

    @property
    def text(self) -> str:
        return _fmt(self.value)


@dataclass(frozen=True)
class Line:
    label: str
    style: str
    # Runs of consecutive days, as SVG polyline points; a one-day run is a point only.
    runs: tuple[str, ...]
    points: tuple[Point, ...]


@dataclass(frozen=True)
class ThresholdLine:
    value: float
    y: float
    label: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class TodayLine:
    day: int
    x: float
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Lane:
    label: str
    x: float
    y: float
    width: float
    height: float
    text_x: float
    # The label as drawn: one line, or more when it is wider than the plot (a phone).
    text_lines: tuple[tuple[str, float], ...]
    anchor: str
    tone: int


@dataclass(frozen=True)
class RangeArea:
    """A ``ReferenceRange`` as drawn: ``points`` is an SVG polygon (its high edge from left to
    right, then its low edge back), cut to the plot's days."""

    label: str
    points: str


@dataclass(frozen=True)
class Drawing:
    """The chart at one ``Size``: every coordinate the template writes."""

    size: str
    width: int
    height: int
    font: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    tick_label_x: float
    tick_label_y: float
    x_label_x: float
    x_label_y: float
    y_label_x: float
    y_label_y: float
    lines: tuple[Line, ...]
    threshold: ThresholdLine | None
    today: TodayLine | None
    lanes: tuple[Lane, ...]
    reference: RangeArea | None = None

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


@dataclass(frozen=True)
class LegendItem:
    """``kind`` names the mark drawn beside the words (a CSS class of ``_chart.html``)."""

    kind: str
    label: str


@dataclass(frozen=True)
class Chart:
    ident: str
    title: str
    description: str
    x_label: str
    y_label: str
    today_label: str
    legend: tuple[LegendItem, ...]
    drawings: tuple[Drawing, ...]
    # The shaded range, when some of it is drawn: the page's table adds its columns.
    reference: ReferenceRange | None = None


class ChartError(ValueError):
    """A chart asked for with data it cannot draw (a programming error, never user input)."""


def _round(value: float) -> float:
    return round(value, 1)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# The width of a character of the label type, at most, as a share of the font size: an
# estimate on the wide side, since the server cannot measure text.
CHAR_WIDTH = 0.6


def _place_label(
    label: str, x0: float, x1: float, left: float, right: float, f: int, pad: float
) -> tuple[float, str, tuple[str, ...]]:
    """Where a bar's label goes: from the bar's start, else ending at the bar's end, else
    ending at the plot's right edge; wrapped at spaces when it is wider than the plot."""
    width = len(label) * CHAR_WIDTH * f
    if width > right - left - 2 * pad:
        per_line = max(int((right - left - 2 * pad) / (CHAR_WIDTH * f)), 1)
        return left + pad, "start", tuple(textwrap.wrap(label, per_line)) or (label,)
    if x0 - left <= (right - left) / 2 and x0 + pad + width <= right:
        return x0 + pad, "start", (label,)
    if x1 - pad - width >= left:
        return x1 - pad, "end", (label,)
    return right - pad, "end", (label,)


def _range_vertices(
    reference: ReferenceRange, first_day: int, last_day: int
) -> list[tuple[float, float, float]]:
    """The range's corners within the plot, as ``(day, low, high)``: its points on the days
    shown, and where it runs on past an edge of the plot (half a day beyond the first or the
    last day shown), its values at that edge. A lone day with no neighbour to run to is
    drawn as its day's column, so it is seen."""
    points = reference._sorted()
    if not points:
        return []
    left, right = first_day - 0.5, last_day + 0.5
    corners: list[tuple[float, float, float]] = []
    if points[0][0] < left and (edge := reference.at(left)) is not None:
        corners.append((left, *edge))
    corners += [(float(d), low, high) for d, low, high in points if left <= d <= right]
    if points[-1][0] > right and (edge := reference.at(right)) is not None:
        corners.append((right, *edge))
    if len(corners) == 1:
        ((day, low, high),) = corners
        corners = [(day - 0.5, low, high), (day + 0.5, low, high)]
    return corners


def _tick_step(span: int, plot_width: float, font: int) -> int:
    """The smallest step among 1, 2, 7, 14, 28 days whose labels do not crowd each other."""
    room = 3 * font  # a label such as "42" with space either side
    for step in (1, 2, 7, 14, 28):
        if math.ceil(span / step) * room <= plot_width:
            return step
    return 28


def _draw(
    size: Size,
    series: Sequence[Series],
    *,
    first_day: int,
    last_day: int,
    y_max: float,
    y_ticks: Sequence[float],
    threshold: Threshold | None,
    bands: Sequence[Band],
    today: int | None,
    reference: ReferenceRange | None = None,
) -> Drawing:
    f = size.font
    left = 3.2 * f  # the rotated y-axis label and the tick labels ("10")
    right = size.width - 1.2 * f
    top = 1.6 * f  # room for the "Today" label above the plot
    bottom = top + size.plot_height
    lanes_top = bottom + 3.4 * f
    shown_bands = [b for b in bands if b.end_day >= first_day and b.start_day <= last_day]
    span = last_day - first_day + 1
    # Each day is a column; a point sits in the middle of its day's column.
    column = (right - left) / span

    def x(day: float) -> float:
        return left + (day - first_day + 0.5) * column

    def y(value: float) -> float:
        return bottom - size.plot_height * value / y_max

    area = None
    corners = _range_vertices(reference, first_day, last_day) if reference is not None else []
    if reference is not None and corners:
        outline = [(x(d), y(high)) for d, _, high in corners]
        outline += [(x(d), y(low)) for d, low, _ in reversed(corners)]
        area = RangeArea(reference.label, " ".join(f"{px:.1f},{py:.1f}" for px, py in outline))

    lines = []
    for s in series:
        radius = 0.34 * f if s.style == PRIMARY else 0.22 * f
        points: list[Point] = []
        runs: list[str] = []
        current: list[Point] = []
        for day in range(first_day, last_day + 1):
            value = s.values.get(day)
            if value is None:
                if len(current) > 1:
                    runs.append(" ".join(f"{p.x:.1f},{p.y:.1f}" for p in current))
                current = []
                continue
            high = s.marks_threshold and threshold is not None and value >= threshold.value
            r = _round(radius * 1.3 if high else radius)
            point = Point(day, value, _round(x(day)), _round(y(value)), r, high)
            points.append(point)
            current.append(point)
        if len(current) > 1:
            runs.append(" ".join(f"{p.x:.1f},{p.y:.1f}" for p in current))
        lines.append(Line(s.label, s.style, tuple(runs), tuple(points)))

    threshold_line = None
    if threshold is not None:
        ty = _round(y(threshold.value))
        # Above the line, or below it when the line is at the top of the scale.
        label_y = ty - 0.4 * f if threshold.value < y_max * 0.9 else ty + 1.1 * f
        threshold_line = ThresholdLine(
            threshold.value, ty, threshold.label, _round(right - 0.3 * f), _round(label_y)
        )

    today_line = None
    if today is not None and first_day <= today <= last_day:
        tx = _round(x(today))
        anchor = "middle"
        if tx - left < 2 * f:
            anchor = "start"
        elif right - tx < 2 * f:
            anchor = "end"
        today_line = TodayLine(today, tx, tx, _round(top - 0.45 * f), anchor)

    lanes = []
    lane_y = lanes_top
    line_h, pad = f + 4, 0.3 * f
    for i, band in enumerate(shown_bands):
        start = max(band.start_day, first_day) - 0.5
        end = min(band.end_day, last_day) + 0.5
        x0, x1 = x(start), x(end)
        label = f"{band.label} (days {band.start_day}-{band.end_day})"
        text_x, anchor, label_lines = _place_label(label, x0, x1, left, right, f, pad)
        lane_h = len(label_lines) * line_h + 4
        lanes.append(
            Lane(
                label=label,
                x=_round(x0),
                y=_round(lane_y),
                width=_round(x1 - x0),
                height=lane_h,
                text_x=_round(text_x),
                text_lines=tuple(
                    (line, _round(lane_y + (n + 1) * line_h - 2))
                    for n, line in enumerate(label_lines)
                ),
                anchor=anchor,
                tone=i % 4,
            )
        )
        lane_y += lane_h + 4
    height = lane_y + (f * 0.5 if lanes else 0)

    step = _tick_step(span, right - left, f)
    first_tick = math.ceil(first_day / step) * step
    x_ticks = tuple(Tick(str(day), _round(x(day))) for day in range(first_tick, last_day + 1, step))
    return Drawing(
        size=size.name,
        width=size.width,
        height=math.ceil(height),
        font=f,
        plot_left=_round(left),
        plot_right=_round(right),
        plot_top=_round(top),
        plot_bottom=_round(bottom),
        y_ticks=tuple(Tick(_fmt(v), _round(y(v))) for v in y_ticks),
        x_ticks=x_ticks,
        tick_label_x=_round(left - 0.4 * f),
        tick_label_y=_round(bottom + 1.2 * f),
        x_label_x=_round((left + right) / 2),
        x_label_y=_round(bottom + 2.5 * f),
        y_label_x=_round(1.0 * f),
        y_label_y=_round((top + bottom) / 2),
        lines=tuple(lines),
        threshold=threshold_line,
        today=today_line,
        lanes=tuple(lanes),
        reference=area,
    )


def line_chart(
    series: Sequence[Series],
    *,
    ident: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    first_day: int,
    last_day: int,
    y_max: float = 10,
    y_ticks: Sequence[float] = (0, 2, 4, 6, 8, 10),
    threshold: Threshold | None = None,
    bands: Sequence[Band] = (),
    today: int | None = None,
    today_label: str = "Today",
    # The legend's words for the "today" line, with {day} for its day number (a patient's
    # language); by default "Today (day 5)".
    today_legend: str = "{label} (day {day})",
    band_legend: str = "Bars under the day axis: limits of the plan, from their first to their "
    "last day",
    reference: ReferenceRange | None = None,
    sizes: Sequence[Size] = SIZES,
) -> Chart:
    """A chart of ``series`` (values from 0 to ``y_max``) over the days ``first_day`` to
    ``last_day``, with an optional threshold line, bands, a "today" line and a shaded
    ``reference`` range behind them all.

    ``ident`` makes the ids unique on the page; ``title`` is the chart's accessible name and
    ``description`` says what it shows in a sentence or two, written above the drawing and
    read as its description (the page also shows the values as a table). A reference range
    adds a sentence of its own to the description: its values at its first and last day shown.
    The legend lists only what is drawn.
    """
    if last_day < first_day:
        raise ChartError(f"the last day ({last_day}) is before the first ({first_day})")
    if not series:
        raise ChartError("a chart needs at least one series")
    if not sizes:
        raise ChartError("a chart needs at least one size to be drawn at")
    for s in series:
        for day, value in s.values.items():
            if not 0 <= value <= y_max:
                raise ChartError(f"{s.label}: {value} on day {day} is outside 0 to {y_max:g}")
    if threshold is not None and not 0 <= threshold.value <= y_max:
        raise ChartError(f"the threshold {threshold.value} is outside 0 to {y_max:g}")
    if reference is not None:
        _check_reference(reference, y_max)
    drawings = tuple(
        _draw(
            size,
            series,
            first_day=first_day,
            last_day=last_day,
            y_max=y_max,
            y_ticks=y_ticks,
            threshold=threshold,
            bands=bands,
            today=today,
            reference=reference,
        )
        for size in sizes
    )
    drawn = drawings[0]
    legend = [LegendItem(f"line-{line.style}", line.label) for line in drawn.lines if line.points]
    shown_reference = reference if drawn.reference is not None else None
    if shown_reference is not None:
        legend.append(LegendItem("range", shown_reference.label))
        description = f"{description} {_describe_reference(shown_reference, first_day, last_day)}"
    if any(p.high for line in drawn.lines for p in line.points) and threshold is not None:
        legend.append(LegendItem("point-high", threshold.point_legend))
    if drawn.threshold is not None and threshold is not None:
        legend.append(LegendItem("threshold", threshold.legend))
    if drawn.today is not None:
        words = today_legend.format(label=today_label, day=drawn.today.day)
        legend.append(LegendItem("today", words))
    if drawn.lanes:
        legend.append(LegendItem("band", band_legend))
    return Chart(
        ident=ident,
        title=title,
        description=description,
        x_label=x_label,
        y_label=y_label,
        today_label=today_label,
        legend=tuple(legend),
        drawings=drawings,
        reference=shown_reference,
    )


def _check_reference(reference: ReferenceRange, y_max: float) -> None:
    days = [day for day, _, _ in reference.points]
    if len(set(days)) != len(days):
        raise ChartError(f"{reference.label}: a day is given more than once")
    for day, low, high in reference.points:
        if isinstance(day, bool) or not isinstance(day, int):
            raise ChartError(f"{reference.label}: the day {day!r} is not a whole number")
        if not 0 <= low <= high <= y_max:
            raise ChartError(
                f"{reference.label}: {low} to {high} on day {day} is not a range within 0 to "
                f"{y_max:g}"
            )


def _describe_reference(reference: ReferenceRange, first_day: int, last_day: int) -> str:
    """The shaded range in a sentence: its values on the first and the last day it is shown."""
    days = [day for day, _, _ in reference.points]
    start, end = max(min(days), first_day), min(max(days), last_day)
    ends = []
    for day in dict.fromkeys((start, end)):
        low, high = reference.text_at(day) or ("", "")
        ends.append(f"{low} to {high} on day {day}")
    return f"Shaded: {reference.label}. It is {' and '.join(ends)}."


# --- sparkline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparkPoint:
    """A value on the ``offset``-th of the sparkline's days (0 is the first); ``high`` marks it."""

    offset: int
    value: float
    high: bool


def sparkline(points: Sequence[SparkPoint], *, days: int, label: str, y_max: float = 10) -> Markup:
    """A small line over ``days`` days (a row of the triage list); ``label`` says it in words."""
    width, height, pad = 140, 32, 3
    step = (width - 2 * pad) / max(days - 1, 1)
    # (x, y) as drawn, formatted once for both the line and the dots.
    drawn = [
        (
            f"{pad + p.offset * step:.1f}",
            f"{height - pad - p.value * (height - 2 * pad) / y_max:.1f}",
            p.high,
        )
        for p in points
    ]
    parts = [
        f'<svg class="sparkline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f'<line class="spark-axis" x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}"/>',
    ]
    if len(drawn) > 1:
        path = " ".join(f"{x},{y}" for x, y, _ in drawn)
        parts.append(f'<polyline class="spark-line" points="{path}"/>')
    for x, y, high in drawn:
        danger = " spark-high" if high else ""
        parts.append(f'<circle class="spark-dot{danger}" cx="{x}" cy="{y}" r="2"/>')
    parts.append("</svg>")
    # The label is escaped; the rest are formatted numbers.
    return Markup("".join(parts))  # noqa: S704
