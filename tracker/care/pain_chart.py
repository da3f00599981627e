"""The care team's pain chart of one patient: the daily summaries of ``alerts.pain_trends``
as a ``web.charts`` line chart, with the clinic's severe threshold, the plan's restrictions
and today.

The day's highest score is the line the severe-pain rule reads (a day with a score at or
above the clinic's threshold has its point marked); the day's mean is the dashed line. The
page lists the same days as a table (rest and activity means, number of scores).

For a procedure with an expected course (``outcomes.expected_course``: kyphoplasty), its band
is shaded behind the lines, named in the legend and the description, and the table gives its
low and high on each day. This chart is the care team's only: the patient's own chart
(``patient.progress``) never has the band.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.alerts.pain_trends import DaySummary
from tracker.outcomes.expected_course import ExpectedCourse
from tracker.web.charts import (
    SECONDARY,
    Band,
    Chart,
    ReferenceRange,
    Series,
    Threshold,
    line_chart,
)


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def describe(summaries: Sequence[DaySummary], threshold: int) -> str:
    """The chart in one or two sentences, for its accessible description."""
    if not summaries:
        return "No pain scores yet."
    latest = summaries[-1]
    high = sum(1 for s in summaries if s.max >= threshold)
    return (
        f"{_days(len(summaries))} with pain scores, from day {summaries[0].day_number} to day "
        f"{latest.day_number}; the latest highest score is {latest.max} on day "
        f"{latest.day_number}. {_days(high)} reached the severe threshold of {threshold}."
    )


def expected_range(course: ExpectedCourse, first_day: int, last_day: int) -> ReferenceRange:
    """The course's band over the chart's days, and a day beyond each end (so the shading
    runs to the plot's edges where the band goes on)."""
    if course.above_mean == course.below_mean:
        width = f"± {course.above_mean:g} points"
    else:
        width = f"-{course.below_mean:g} to +{course.above_mean:g} points"
    return ReferenceRange(
        label=f"Expected range after {course.procedure} (published study mean {width}; "
        "an estimate for a clinician to confirm)",
        points=[(b.day, b.low, b.high) for b in course.band(first_day - 1, last_day + 1)],
    )


def care_pain_chart(
    summaries: Sequence[DaySummary],
    *,
    duration_days: int,
    threshold: int,
    bands: Sequence[Band] = (),
    today_number: int | None = None,
    expected: ExpectedCourse | None = None,
) -> Chart:
    """Day 0 (or the first score before it) to the end of the plan (or the last score), with
    the ``expected`` course's band shaded behind the lines when there is one."""
    first_day = min([0] + [s.day_number for s in summaries])
    last_day = max([duration_days - 1] + [s.day_number for s in summaries])
    reference = expected_range(expected, first_day, last_day) if expected is not None else None
    return line_chart(
        [
            Series("Highest score of the day", {s.day_number: s.max for s in summaries}),
            Series(
                "Mean of the day",
                {s.day_number: s.mean for s in summaries},
                style=SECONDARY,
                marks_threshold=False,
            ),
        ],
        ident="pain-chart",
        title="Daily pain scores (0 to 10) by day since the procedure",
        description=describe(summaries, threshold),
        x_label="Day since procedure",
        y_label="Pain (0-10)",
        first_day=first_day,
        last_day=last_day,
        threshold=Threshold(
            value=threshold,
            label=f"Severe: {threshold}+",
            legend=f"Severe pain threshold of the clinic: {threshold} or more",
            point_legend=f"Day with a score of {threshold} or more",
        ),
        bands=bands,
        today=today_number,
        reference=reference,
    )
