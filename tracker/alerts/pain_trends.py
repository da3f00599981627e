"""Pain over time: daily summaries, 3-day means, and server-rendered SVG charts (no JavaScript).

SPEC section 2: several pain entries a day are allowed; daily views use the day's maximum and
mean. A correction supersedes an earlier entry, so superseded entries are left out everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from markupsafe import Markup, escape

from tracker.core.models import PainEntry

# A 3-day mean needs readings on at least this many of its three days, so one lone
# score is never compared with a whole window.
MIN_DAYS_IN_WINDOW = 2


@dataclass(frozen=True)
class DaySummary:
    day: date
    day_number: int
    max: int
    mean: float
    rest_mean: float | None
    activity_mean: float | None
    count: int


@dataclass(frozen=True)
class DayMax:
    """A local day's highest score: all a sparkline draws."""

    day: date
    day_number: int
    max: int


@dataclass(frozen=True)
class Window:
    """The mean of the daily means of the three local days ending on ``end``."""

    end: date
    mean: float
    days: int


@dataclass(frozen=True)
class Phase:
    """A shaded band on the chart: a restriction from ``start_day`` to ``end_day``."""

    label: str
    start_day: int
    end_day: int


def effective_entries(entries: Iterable[PainEntry]) -> list[PainEntry]:
    """Entries that no other entry in ``entries`` supersedes."""
    entries = list(entries)
    superseded = {e.supersedes_id for e in entries if e.supersedes_id is not None}
    return [e for e in entries if e.id not in superseded]


def daily_summaries(entries: Iterable[PainEntry], procedure_date: date) -> list[DaySummary]:
    by_day: dict[date, list[PainEntry]] = defaultdict(list)
    for entry in effective_entries(entries):
        by_day[entry.local_day].append(entry)
    result = []
    for day in sorted(by_day):
        items = by_day[day]
        scores = [e.score for e in items]
        rest = [e.score for e in items if e.context == "rest"]
        active = [e.score for e in items if e.context == "activity"]
        result.append(
            DaySummary(
                day=day,
                day_number=(day - procedure_date).days,
                max=max(scores),
                mean=round(fmean(scores), 2),
                rest_mean=round(fmean(rest), 2) if rest else None,
                activity_mean=round(fmean(active), 2) if active else None,
                count=len(scores),
            )
        )
    return result


def three_day_windows(summaries: Sequence[DaySummary]) -> list[Window]:
    """One window per day that has readings, over that day and the two before it."""
    means = {s.day: s.mean for s in summaries}
    windows = []
    for s in summaries:
        values = [means[d] for d in (s.day - timedelta(days=k) for k in range(3)) if d in means]
        if len(values) >= MIN_DAYS_IN_WINDOW:
            windows.append(Window(end=s.day, mean=round(fmean(values), 2), days=len(values)))
    return windows


def latest(entries: Iterable[PainEntry]) -> PainEntry | None:
    items = effective_entries(entries)
    return max(items, key=lambda e: (e.recorded_at, e.id)) if items else None


# --- SVG ------------------------------------------------------------------------------------
# Colours live in site CSS classes (the CSP forbids inline styles); geometry is attributes.


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def sparkline_svg(
    summaries: Sequence[DaySummary | DayMax], today: date, *, days: int = 14
) -> Markup:
    """A small line of daily maxima over the last ``days`` local days, ending today."""
    width, height, pad = 140, 32, 3
    start = today - timedelta(days=days - 1)
    step = (width - 2 * pad) / max(days - 1, 1)
    # (x, y) as drawn, formatted once for both the line and the dots, and the day.
    points = [
        (
            f"{pad + (s.day - start).days * step:.1f}",
            f"{height - pad - s.max * (height - 2 * pad) / 10:.1f}",
            s,
        )
        for s in summaries
        if start <= s.day <= today
    ]
    if points:
        values = ", ".join(f"day {s.day_number}: {s.max}" for _, _, s in points)
        label = f"Highest daily pain, last {days} days: {values}"
    else:
        label = f"No pain scores in the last {days} days"
    parts = [
        f'<svg class="sparkline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f'<line class="spark-axis" x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}"/>',
    ]
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y, _ in points)
        parts.append(f'<polyline class="spark-line" points="{path}"/>')
    for x, y, s in points:
        danger = " spark-high" if s.max >= 7 else ""
        parts.append(f'<circle class="spark-dot{danger}" cx="{x}" cy="{y}" r="2"/>')
    parts.append("</svg>")
    # Every text interpolated above is escaped; the rest are formatted numbers.
    return Markup("".join(parts))  # noqa: S704


def chart_svg(
    summaries: Sequence[DaySummary],
    *,
    duration_days: int,
    phases: Sequence[Phase] = (),
    today_number: int | None = None,
) -> Markup:
    """The whole recovery: daily max (bars), daily mean (line), rest/activity means (marks),
    restriction phases shaded. The page shows the same data as a table beside it."""
    left, right, top = 36, 12, 12
    plot_w, plot_h = 640, 220
    lane_h, lane_gap = 16, 4
    # Restriction phases: one labelled lane each under the day axis, and short phases (such
    # as bed rest) also shaded across the plot, where a long one would only grey it out.
    bottom = 40 + len(phases) * (lane_h + lane_gap)
    width, height = left + plot_w + right, top + plot_h + bottom
    last_day = max([duration_days - 1] + [s.day_number for s in summaries])
    first_day = min([0] + [s.day_number for s in summaries])
    span = max(last_day - first_day + 1, 1)
    col = plot_w / span

    def x(n: float) -> float:
        return left + (n - first_day) * col

    def y(v: float) -> float:
        return top + plot_h - v * plot_h / 10

    parts = [
        f'<svg class="pain-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="pain-chart-title">',
        '<title id="pain-chart-title">Daily pain scores (0 to 10) by day since the procedure; '
        "the table below lists the same values.</title>",
    ]
    for i, phase in enumerate(phases):
        start, end = max(phase.start_day, first_day), min(phase.end_day, last_day)
        if end < start:
            continue
        band_w = (end - start + 1) * col
        tip = f"<title>{escape(phase.label)}: day {phase.start_day} to {phase.end_day}</title>"
        if (end - start + 1) * 2 <= span:
            parts.append(
                f'<rect class="phase phase-{i % 4}" x="{x(start):.1f}" y="{top}" '
                f'width="{band_w:.1f}" height="{plot_h}">{tip}</rect>'
            )
        lane_y = top + plot_h + 34 + i * (lane_h + lane_gap)
        parts.append(
            f'<rect class="lane phase-{i % 4}" x="{x(start):.1f}" y="{lane_y}" '
            f'width="{band_w:.1f}" height="{lane_h}">{tip}</rect>'
            f'<text class="lane-label" x="{x(start) + 4:.1f}" y="{lane_y + lane_h - 4}">'
            f"{escape(phase.label)} (days {phase.start_day}-{phase.end_day})</text>"
        )
    for v in (0, 2, 4, 6, 8, 10):
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}"/>'
            f'<text class="axis-label" x="{left - 6}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{v}</text>'
        )
    tick = 7 if span > 21 else 1 if span <= 10 else 2
    for n in range(first_day, last_day + 1):
        if (n - first_day) % tick == 0:
            parts.append(
                f'<text class="axis-label" x="{x(n) + col / 2:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{n}</text>'
            )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{top + plot_h + 28}" '
        'text-anchor="middle">Day since procedure</text>'
    )
    if today_number is not None and first_day <= today_number <= last_day:
        tx = x(today_number) + col / 2
        parts.append(
            f'<line class="today" x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{top + plot_h}"/>'
        )
    bar_w = max(col * 0.6, 1.0)
    for s in summaries:
        cx = x(s.day_number) + col / 2
        danger = " bar-high" if s.max >= 7 else ""
        parts.append(
            f'<rect class="bar{danger}" x="{cx - bar_w / 2:.1f}" y="{y(s.max):.1f}" '
            f'width="{bar_w:.1f}" height="{y(0) - y(s.max):.1f}">'
            f"<title>Day {s.day_number}: highest {s.max}, mean {_fmt(s.mean)}</title></rect>"
        )
    if len(summaries) > 1:
        path = " ".join(f"{x(s.day_number) + col / 2:.1f},{y(s.mean):.1f}" for s in summaries)
        parts.append(f'<polyline class="mean-line" points="{path}"/>')
    for s in summaries:
        cx = x(s.day_number) + col / 2
        if s.rest_mean is not None:
            parts.append(
                f'<circle class="mark-rest" cx="{cx:.1f}" cy="{y(s.rest_mean):.1f}" r="3"/>'
            )
        if s.activity_mean is not None:
            ay = y(s.activity_mean)
            parts.append(
                f'<rect class="mark-activity" x="{cx - 3:.1f}" y="{ay - 3:.1f}" '
                'width="6" height="6"/>'
            )
    parts.append("</svg>")
    # Every text interpolated above is escaped; the rest are formatted numbers.
    return Markup("".join(parts))  # noqa: S704
