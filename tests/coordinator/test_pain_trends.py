"""Daily summaries, 3-day means, the triage sparkline and the care team's pain chart
(pure functions, no database). The chart's geometry itself is tested in tests/test_charts.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tracker.alerts.pain_trends import daily_summaries, sparkline_svg, three_day_windows
from tracker.care.pain_chart import care_pain_chart
from tracker.core.models import PainEntry
from tracker.web.charts import Band

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


def test_the_care_chart_draws_the_highest_and_the_mean_of_each_day():
    days = daily_summaries(
        [entry(1, 0, 8, "rest"), entry(2, 0, 4, "activity"), entry(3, 1, 6), entry(4, 3, 5)],
        START,
    )
    chart = care_pain_chart(days, duration_days=45, threshold=7, today_number=3)
    for drawing in chart.drawings:
        highest, mean = drawing.lines
        assert [(p.day, p.value) for p in highest.points] == [(0, 8), (1, 6), (3, 5)]
        assert [(p.day, p.value) for p in mean.points] == [(0, 6.0), (1, 6.0), (3, 5.0)]
        assert (highest.style, mean.style) == ("primary", "secondary")
        assert len(highest.runs) == 1  # day 2 has no score: days 0-1 are a line, day 3 a point
        # Only the day's highest is held against the severe threshold (the rule reads it).
        assert [p.high for p in highest.points] == [True, False, False]
        assert not any(p.high for p in mean.points)
        assert drawing.today.day == 3
        assert drawing.x_ticks[0].label == "0" and drawing.x_ticks[-1].label == "42"
    assert [i.label for i in chart.legend] == [
        "Highest score of the day",
        "Mean of the day",
        "Day with a score of 7 or more",
        "Severe pain threshold of the clinic: 7 or more",
        "Today (day 3)",
    ]
    assert chart.description == (
        "3 days with pain scores, from day 0 to day 3; the latest highest score is 5 on day 3. "
        "1 day reached the severe threshold of 7."
    )


def test_the_care_chart_plots_a_corrected_score_with_its_corrected_value():
    days = daily_summaries([entry(1, 1, 9), entry(2, 1, 3, supersedes=1)], START)
    chart = care_pain_chart(days, duration_days=45, threshold=7)
    highest = chart.drawings[0].lines[0]
    assert [(p.day, p.value, p.high) for p in highest.points] == [(1, 3, False)]
    assert "Day with a score of 7 or more" not in [i.label for i in chart.legend]


def test_the_care_chart_follows_the_clinic_threshold_and_shows_days_before_the_procedure():
    days = daily_summaries([entry(1, -2, 7), entry(2, 0, 8)], START)
    chart = care_pain_chart(
        days, duration_days=45, threshold=8, bands=[Band("No heavy lifting", 0, 44)]
    )
    drawing = chart.drawings[-1]
    assert drawing.threshold.value == 8 and drawing.threshold.label == "Severe: 8+"
    assert [(p.day, p.high) for p in drawing.lines[0].points] == [(-2, False), (0, True)]
    assert drawing.lines[0].points[1].y == drawing.threshold.y
    assert (
        drawing.x_ticks[0].label == "0"
        and drawing.lines[0].points[0].x < drawing.x_ticks[0].position
    )
    assert [lane.label for lane in drawing.lanes] == ["No heavy lifting (days 0-44)"]
    assert chart.legend[-1].kind == "band" and drawing.today is None


def test_the_care_chart_without_scores_says_so():
    chart = care_pain_chart([], duration_days=45, threshold=7, today_number=0)
    assert chart.description == "No pain scores yet."
    assert [i.kind for i in chart.legend] == ["threshold", "today"]
