"""Pain over time: daily summaries and 3-day means (the alert rules' reading of pain).

SPEC section 2: several pain entries a day are allowed; daily views use the day's maximum and
mean. A correction supersedes an earlier entry, so superseded entries are left out everywhere.
Charts of them are drawn by ``web.charts`` (the care team's in ``care.pain_chart``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from markupsafe import Markup

from tracker.core.models import PainEntry
from tracker.web.charts import SparkPoint, sparkline

# A 3-day mean needs readings on at least this many of its three days, so one lone
# score is never compared with a whole window.
MIN_DAYS_IN_WINDOW = 2
# A sparkline dot at or above this daily maximum is drawn in the alarm colour.
SPARKLINE_HIGH = 7


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


# --- the triage list's sparkline -----------------------------------------------------------


def sparkline_svg(
    summaries: Sequence[DaySummary | DayMax], today: date, *, days: int = 14
) -> Markup:
    """A small line of daily maxima over the last ``days`` local days, ending today (drawn by
    ``web.charts.sparkline``)."""
    start = today - timedelta(days=days - 1)
    shown = [s for s in summaries if start <= s.day <= today]
    if shown:
        values = ", ".join(f"day {s.day_number}: {s.max}" for s in shown)
        label = f"Highest daily pain, last {days} days: {values}"
    else:
        label = f"No pain scores in the last {days} days"
    points = [SparkPoint((s.day - start).days, s.max, s.max >= SPARKLINE_HIGH) for s in shown]
    return sparkline(points, days=days, label=label)
