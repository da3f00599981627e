"""The sentence over the patient's chart: what their scores did in the last week, in plain
words (grade 6 or below), with the honest answer when there are too few scores.

Pure: the days are built here (``recovery_days`` is tested in test_progress.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import textstat

from tracker.patient.progress import DayRecord, pain_chart, trend_sentence

PROCEDURE = date(2026, 11, 1)


def days(scores: dict[int, int], through: int) -> list[DayRecord]:
    """Day records from the procedure to ``through``, with the highest score of each day."""
    return [
        DayRecord(
            local_day=PROCEDURE + timedelta(days=n),
            day_number=n,
            pain_max=scores.get(n),
            pain_mean=float(scores[n]) if n in scores else None,
            pain_count=1 if n in scores else 0,
            warning_check_due=False,
            warning_check_done=False,
        )
        for n in range(through + 1)
    ]


CASES = [
    # (scores by day, today, sentence)
    ({}, 0, "You have not logged a pain score yet."),
    ({}, 20, "You have not logged a pain score yet."),
    # A score 7 days before today is outside the week; 6 days before is inside it.
    ({3: 8}, 10, "You have not logged a pain score in the last week."),
    (
        {3: 8, 4: 5},
        10,
        "You logged one pain score in the last week: 5 on day 4. "
        "Log your pain each day to see how it changes.",
    ),
    (
        {0: 9},
        0,
        "You logged one pain score in the last week: 9 on day 0. "
        "Log your pain each day to see how it changes.",
    ),
    # The whole week, from its first day to today.
    ({4: 7, 7: 6, 10: 4}, 10, "Your pain has gone down from 7 to 4 over the last week."),
    ({4: 2, 10: 6}, 10, "Your pain has gone up from 2 to 6 over the last week."),
    ({4: 5, 6: 8, 10: 5}, 10, "Your pain was 5 at the start of the week and is 5 today."),
    # The scores before the week do not count: 9 on day 3 is 7 days before today.
    ({3: 9, 4: 7, 10: 4}, 10, "Your pain has gone down from 7 to 4 over the last week."),
    # Part of the week: the days are named.
    ({5: 7, 10: 4}, 10, "Your pain went down from 7 on day 5 to 4 on day 10."),
    ({4: 7, 9: 4}, 10, "Your pain went down from 7 on day 4 to 4 on day 9."),
    ({0: 3, 1: 4}, 2, "Your pain went up from 3 on day 0 to 4 on day 1."),
    ({1: 6, 2: 6}, 2, "Your pain was 6 on day 1 and 6 again on day 2."),
    # The ends of the scale.
    ({4: 10, 10: 0}, 10, "Your pain has gone down from 10 to 0 over the last week."),
    ({4: 0, 10: 10}, 10, "Your pain has gone up from 0 to 10 over the last week."),
]


@pytest.mark.parametrize(("scores", "today", "sentence"), CASES)
def test_it_says_what_the_scores_of_the_last_week_did(scores, today, sentence):
    assert trend_sentence(days(scores, today), today) == sentence


def test_after_the_plan_ended_the_week_is_the_week_before_today():
    # Records stop at the plan's last day (44); today is day 48, so day 41 is out of the week.
    records = days({41: 6, 44: 3}, 44)
    assert trend_sentence(records, 44) == "Your pain went down from 6 on day 41 to 3 on day 44."
    assert trend_sentence(records, 48) == (
        "You logged one pain score in the last week: 3 on day 44. "
        "Log your pain each day to see how it changes."
    )
    assert trend_sentence(records, 51) == "You have not logged a pain score in the last week."


@pytest.mark.parametrize(("scores", "today", "sentence"), CASES)
def test_every_sentence_reads_at_grade_6_or_below(scores, today, sentence):
    assert textstat.flesch_kincaid_grade(sentence) <= 6.0


def test_the_sentence_describes_the_chart_and_says_no_judgement():
    chart = pain_chart(days({4: 7, 10: 4}, 10), 45, 10)
    assert chart.description == "Your pain has gone down from 7 to 4 over the last week."
    for case in CASES:
        words = trend_sentence(days(case[0], case[1]), case[1]).lower()
        assert not any(w in words for w in ("better", "worse", "good", "bad", "normal", "grade"))
