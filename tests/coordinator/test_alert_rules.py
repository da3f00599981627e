"""Alert rules: each raises once per condition, with the clinic's thresholds, at ``now``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW, selects_of
from tracker.alerts.rules import (
    MISSED_CHECKIN,
    NOT_IMPROVING,
    RED_FLAG,
    SEVERE_PAIN,
    WORSENING,
    evaluate_active_plans,
    evaluate_plan,
)
from tracker.core.models import Alert

TODAY = date(2026, 11, 21)  # NOW's local day in New York


def rules(session, plan):
    return sorted(
        (a.rule, a.urgency, a.status)
        for a in session.scalars(select(Alert).where(Alert.plan_id == plan.id))
    )


def checked_in(record, plan):
    """Walks checked off on the last two days, so the missed check-in rule stays quiet."""
    for n in (1, 2):
        record.checkoff(plan, "walk", TODAY - timedelta(days=n))
    return plan


def resolve(session, alert, at):
    alert.status = "resolved"
    alert.resolved_at = at
    session.commit()


def test_it_raises_severe_pain_once_and_again_only_for_a_new_score(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    checked_in(record, plan)
    record.pain(plan, TODAY, 8, context="activity")
    raised = evaluate_plan(session, plan, NOW)
    session.commit()
    assert [(a.rule, a.urgency, a.summary) for a in raised] == [
        (SEVERE_PAIN, "high", "Pain 8/10 on day 3 (with activity)")
    ]
    assert evaluate_plan(session, plan, NOW + timedelta(minutes=5)) == []

    resolve(session, raised[0], NOW + timedelta(minutes=10))
    assert evaluate_plan(session, plan, NOW + timedelta(minutes=20)) == []
    record.pain(plan, TODAY, 9, hour=14)  # recorded after the resolution
    again = evaluate_plan(session, plan, NOW + timedelta(hours=5))
    session.commit()
    assert [a.summary for a in again] == ["Pain 9/10 on day 3"]


def test_it_uses_the_clinic_threshold_for_severe_pain(session, clinic, enrolled, record):
    clinic.severe_pain_threshold = 9
    session.commit()
    plan = enrolled(days_ago=3).plan
    checked_in(record, plan)
    record.pain(plan, TODAY, 8)
    assert evaluate_plan(session, plan, NOW) == []
    record.pain(plan, TODAY, 9, hour=9)
    assert [a.rule for a in evaluate_plan(session, plan, NOW)] == [SEVERE_PAIN]


def test_it_ignores_a_severe_score_that_was_corrected(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    checked_in(record, plan)
    wrong = record.pain(plan, TODAY, 8, hour=8)
    record.pain(plan, TODAY, 3, hour=8, supersedes=wrong)
    assert evaluate_plan(session, plan, NOW) == []


def test_it_raises_worsening_by_points_from_the_lowest_three_day_mean(session, enrolled, record):
    plan = enrolled(days_ago=9).plan
    start = TODAY - timedelta(days=9)
    for n, score in enumerate([6, 5, 4, 3, 3, 3, 4, 5, 6, 6]):
        record.pain(plan, start + timedelta(days=n), score)
    raised = evaluate_plan(session, plan, NOW)
    assert [a.rule for a in raised] == [WORSENING]
    assert raised[0].detail["lowest_mean"] == 3.0
    assert raised[0].detail["current_mean"] == pytest.approx(5.67, abs=0.01)
    assert "up 2.67 from its lowest 3" in raised[0].summary


def test_it_raises_worsening_by_percent_only_above_the_noise(session, clinic, enrolled, record):
    clinic.worsening_points = 5  # only the percent rule can fire here
    session.commit()
    quiet = enrolled(days_ago=6, name="Low Pain").plan
    start = TODAY - timedelta(days=6)
    for n, score in enumerate([1, 1, 1, 1, 2, 2, 2]):
        record.pain(quiet, start + timedelta(days=n), score)
    assert evaluate_plan(session, quiet, NOW) == []  # 1 -> 2 is 100% but stays mild

    rising = enrolled(days_ago=6, name="Rising Pain").plan
    for n, score in enumerate([4, 3, 3, 3, 4, 5, 5]):
        record.pain(rising, start + timedelta(days=n), score)
    # Lowest 3-day mean 3, now 4.67: 56% and 1.67 points, in the moderate range.
    assert [a.rule for a in evaluate_plan(session, rising, NOW)] == [WORSENING]


def test_it_raises_not_improving_at_the_clinic_day_and_only_once(session, enrolled, record):
    plan = enrolled(days_ago=14).plan
    start = TODAY - timedelta(days=14)
    for n in range(15):
        record.pain(plan, start + timedelta(days=n), 5)
    assert evaluate_plan(session, plan, NOW - timedelta(days=1)) == []  # day 13
    raised = evaluate_plan(session, plan, NOW)
    assert [(a.rule, a.urgency) for a in raised] == [(NOT_IMPROVING, "normal")]
    resolve(session, raised[0], NOW)
    assert evaluate_plan(session, plan, NOW + timedelta(days=1)) == []


def test_it_does_not_call_improving_pain_not_improving(session, enrolled, record):
    plan = enrolled(days_ago=14).plan
    start = TODAY - timedelta(days=14)
    for n in range(15):
        record.pain(plan, start + timedelta(days=n), max(1, 7 - n // 2))
    assert evaluate_plan(session, plan, NOW) == []


def test_it_raises_a_missed_check_in_after_two_silent_local_days(session, enrolled, record):
    plan = enrolled(days_ago=5).plan
    record.pain(plan, TODAY - timedelta(days=3), 3)
    raised = evaluate_plan(session, plan, NOW)
    assert [(a.rule, a.summary) for a in raised] == [
        (MISSED_CHECKIN, "No check-in for 2 days (last on Nov 18, 2026)")
    ]


def test_it_counts_any_check_off_or_report_as_a_check_in(session, enrolled, record):
    walked = enrolled(days_ago=5, name="Walked").plan
    record.checkoff(walked, "walk", TODAY - timedelta(days=1))
    reported = enrolled(days_ago=5, name="Reported").plan
    record.report(reported, TODAY - timedelta(days=2))
    assert evaluate_plan(session, walked, NOW) == []
    assert evaluate_plan(session, reported, NOW) == []


def test_it_does_not_count_paused_days_as_missed(session, enrolled, coordinator):
    from tracker.plans.adjustments import change_status

    plan = enrolled(days_ago=6).plan
    by = {"user_id": coordinator.id, "note": None}
    change_status(session, plan, "pause", now=NOW - timedelta(days=5), **by)
    change_status(session, plan, "resume", now=NOW - timedelta(hours=20), **by)  # yesterday
    session.commit()
    # Only whole local days after the resume count: none yet, then two days later, two.
    assert evaluate_plan(session, plan, NOW) == []
    assert evaluate_plan(session, plan, NOW + timedelta(days=1)) == []
    assert [a.rule for a in evaluate_plan(session, plan, NOW + timedelta(days=2))] == [
        MISSED_CHECKIN
    ]


def test_it_does_not_count_days_before_enrolment_as_missed(session, enroll_patient):
    # Enrolled today (NOW) for a procedure five days ago: nothing was missed yet.
    plan = enroll_patient(procedure_date="2026-11-16").plan
    assert evaluate_plan(session, plan, NOW) == []


def test_it_raises_a_critical_alert_for_an_unalerted_911_report(session, enrolled, record):
    plan = enrolled(days_ago=2).plan
    checked_in(record, plan)
    record.report(plan, TODAY, "call_911", chest_pain=True, fever=False)
    raised = evaluate_plan(session, plan, NOW)
    assert [(a.rule, a.urgency) for a in raised] == [(RED_FLAG, "critical")]
    assert "chest pain" in raised[0].summary and "call 911" in raised[0].summary


def test_it_keeps_the_safety_rules_of_a_paused_plan_but_not_no_check_in(session, enrolled, record):
    plan = enrolled(days_ago=6).plan
    record.pain(plan, TODAY, 9)
    plan.status = "paused"
    session.commit()
    # Severe pain is heard while paused; four silent days are not "no check-in".
    assert [a.rule for a in evaluate_plan(session, plan, NOW)] == [SEVERE_PAIN]
    quiet = enrolled(days_ago=6, name="Quiet").plan
    quiet.status = "paused"
    session.commit()
    assert evaluate_plan(session, quiet, NOW) == []
    # The batch for the CLI covers only the plans in the statuses it is given.
    assert evaluate_active_plans(session, NOW) == []


def test_the_batch_covers_every_clinic_or_one(session, enrolled, enroll_patient, other_clinic):
    ours = enrolled(days_ago=5, name="Ours").plan
    theirs = enroll_patient(name="Theirs", clinic=other_clinic, procedure_date="2026-11-16").plan
    theirs.created_at = ours.created_at
    session.commit()
    only_theirs = evaluate_active_plans(session, NOW, clinic_id=other_clinic.id)
    assert [a.plan_id for a in only_theirs] == [theirs.id]
    both = evaluate_active_plans(session, NOW)
    session.commit()
    assert [a.plan_id for a in both] == [ours.id]  # theirs already has its alert
    assert rules(session, ours) == [(MISSED_CHECKIN, "normal", "open")]


def test_the_batch_reads_with_a_constant_number_of_queries(app, session, enrolled, record):
    engine = app.extensions["tracker.engine"]

    def add(count):
        for _ in range(count):
            plan = enrolled(days_ago=4, name=f"Patient {len(plans)}").plan
            plans.append(plan)
            for n in range(5):  # a check-in every day: no alert to raise
                record.pain(plan, TODAY - timedelta(days=n), 2)

    plans: list = []
    add(2)
    few = selects_of(engine, lambda: evaluate_active_plans(session, NOW))
    add(10)
    many = selects_of(engine, lambda: evaluate_active_plans(session, NOW))
    assert len(few) == len(many) == 6
