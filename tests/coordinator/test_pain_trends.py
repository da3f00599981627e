"""Daily summaries, 3-day means and the SVG charts (pure functions, no database)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from tracker.alerts.pain_trends import (
    Phase,
    chart_svg,
    daily_summaries,
    sparkline_svg,
    three_day_windows,
)
from tracker.core.models import PainEntry

START = date(2026, 11, 1)


def entry(ident, day, score, context=None, supersedes=None):
    return PainEntry(
        id=ident,
        plan_id=1,
        score=score,
        context=context,
        local_day=START + timedelta(days=day),
        recorded_at=datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(days=day, minutes=ident),
        supersedes_id=supersedes,
    )


def test_it_summarises_each_day_without_superseded_scores():
    entries = [
        entry(1, 0, 8, "rest"),
        entry(2, 0, 4, "activity"),
        entry(3, 1, 9),
        entry(4, 1, 5, supersedes=3),  # a correction of entry 3
    ]
    days = daily_summaries(entries, START)
    assert [(d.day_number, d.max, d.mean, d.rest_mean, d.activity_mean, d.count) for d in days] == [
        (0, 8, 6.0, 8.0, 4.0, 2),
        (1, 5, 5.0, None, None, 1),
    ]


def test_a_three_day_mean_needs_two_days_with_scores():
    days = daily_summaries([entry(1, 0, 6), entry(2, 3, 3), entry(3, 4, 5), entry(4, 5, 4)], START)
    windows = three_day_windows(days)
    assert [(w.end.day, w.mean, w.days) for w in windows] == [(5, 4.0, 2), (6, 4.0, 3)]


def test_the_sparkline_describes_its_points_in_words():
    svg = str(
        sparkline_svg(
            daily_summaries([entry(1, 12, 7), entry(2, 13, 3)], START), START + timedelta(13)
        )
    )
    assert 'aria-label="Highest daily pain, last 14 days: day 12: 7, day 13: 3"' in svg
    assert svg.count("<circle") == 2 and "spark-high" in svg
    empty = str(sparkline_svg([], START))
    assert "No pain scores in the last 14 days" in empty


def test_the_chart_draws_bars_mean_line_and_labelled_phases():
    days = daily_summaries(
        [entry(1, 0, 8, "rest"), entry(2, 1, 6, "activity"), entry(3, 2, 5)], START
    )
    svg = str(
        chart_svg(
            days,
            duration_days=45,
            phases=[Phase("Rest in bed", 0, 1), Phase("No <heavy> lifting", 0, 41)],
            today_number=2,
        )
    )
    assert len(re.findall(r'<rect class="bar', svg)) == 3
    assert '<polyline class="mean-line"' in svg
    assert svg.count('class="lane ') == 2
    assert svg.count('<rect class="phase ') == 1  # only the short phase shades the plot
    assert "No &lt;heavy&gt; lifting (days 0-41)" in svg  # labels are escaped
    assert '<line class="today"' in svg
