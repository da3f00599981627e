"""The no-driving-on-opioids decision: one pure function of the answers and the day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.plans.opioid_rules import (
    NO_ANSWER,
    NOT_YET,
    OUTSIDE,
    STOPPED,
    TAKING,
    DrivingRule,
    driving_restricted,
)

DAY0 = date(2026, 11, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def rule(opioid_free_days: int = 1) -> DrivingRule:
    # The shipped templates: the restriction on days 0-41, the question on days 0-44.
    return DrivingRule(
        first_day=day(0),
        last_day=day(41),
        answer_last_day=day(44),
        opioid_free_days=opioid_free_days,
    )


def answers(**by_day: bool) -> dict[date, bool]:
    return {day(int(key[1:])): value for key, value in by_day.items()}


def test_without_answers_it_keeps_the_templates_days():
    assert driving_restricted({}, day(0), rule()).reason == NO_ANSWER
    assert driving_restricted({}, day(41), rule()).restricted
    late = driving_restricted({}, day(42), rule())
    assert (late.restricted, late.reason) == (False, OUTSIDE)
    assert not driving_restricted({}, day(-1), rule()).restricted


def test_a_yes_keeps_it_past_day_41_to_the_questions_last_day():
    said = answers(d40=True)
    for n in (40, 41, 42, 44):
        decision = driving_restricted(said, day(n), rule())
        assert (decision.restricted, decision.reason) == (True, TAKING), n
    assert not driving_restricted(said, day(45), rule()).restricted


@pytest.mark.parametrize("needed", [1, 2, 3, 5])
def test_no_on_n_days_in_a_row_ends_it_on_the_nth_day(needed):
    said = {day(10 + i): False for i in range(needed)}
    nth = day(10 + needed - 1)
    if needed > 1:
        before = driving_restricted(said, nth - timedelta(days=1), rule(needed))
        assert (before.restricted, before.reason) == (True, NOT_YET)
        assert before.no_days_in_row == needed - 1
    ended = driving_restricted(said, nth, rule(needed))
    assert (ended.restricted, ended.reason, ended.ended_on) == (False, STOPPED, nth)
    assert not driving_restricted(said, day(30), rule(needed)).restricted


def test_a_day_without_an_answer_breaks_the_row():
    said = answers(d10=False, d12=False)
    assert driving_restricted(said, day(12), rule(2)).restricted
    assert not driving_restricted({**said, day(13): False}, day(13), rule(2)).restricted


def test_a_yes_after_no_days_starts_it_again():
    said = answers(d5=False, d6=False, d7=True)
    assert not driving_restricted(said, day(6), rule(2)).restricted
    again = driving_restricted(said, day(7), rule(2))
    assert (again.restricted, again.reason, again.since) == (True, TAKING, day(7))
    # One "no" after the yes is not enough when the clinic asks for two.
    said[day(8)] = False
    assert driving_restricted(said, day(8), rule(2)).restricted
    said[day(9)] = False
    assert not driving_restricted(said, day(9), rule(2)).restricted


def test_answers_after_the_day_asked_about_do_not_count():
    said = answers(d5=True, d6=False)
    assert driving_restricted(said, day(5), rule()).restricted
    assert not driving_restricted(said, day(6), rule()).restricted


def test_it_says_since_when_the_latest_answer_has_been_given():
    decision = driving_restricted(answers(d2=False, d3=True, d4=True, d5=True), day(6), rule())
    assert (decision.latest_day, decision.latest_taking, decision.since) == (day(5), True, day(3))


def test_a_setting_below_one_counts_as_one():
    assert not driving_restricted(answers(d3=False), day(3), rule(0)).restricted
