"""Alerts that never go quiet (SPEC section 6): newer, worse evidence reaches an open alert.

Each scenario runs at a fixed ``now`` on SQLite and PostgreSQL: a worse answer while a red
flag is open, a higher score while severe pain is open, a paused plan, a corrected score,
pain before the procedure, and a "no check-in" that clears when the patient checks in.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tests.coordinator.conftest import sign_in_as
from tracker.alerts import rules as alerts
from tracker.alerts.rules import (
    MISSED_CHECKIN,
    RED_FLAG,
    SEVERE_PAIN,
    WORSENING,
    PainScore,
    acknowledge,
    evaluate_plan,
    note_correction,
    raise_red_flag,
    raise_severe_pain_now,
)
from tracker.care.triage import TriageFilters, triage_page
from tracker.core.models import Alert, AlertEvent, SymptomReport

TODAY = date(2026, 11, 21)  # NOW's local day in New York


def report(session, plan, severity, at, **answers):
    row = SymptomReport(
        plan_id=plan.id, local_day=TODAY, recorded_at=at, answers=answers, severity=severity
    )
    session.add(row)
    session.flush()
    return row


def only_alert(session, plan, rule):
    found = session.scalars(select(Alert).where(Alert.plan_id == plan.id, Alert.rule == rule)).all()
    assert len(found) == 1, found
    session.refresh(found[0])
    return found[0]


def steps(session, alert):
    return [
        e.kind
        for e in session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
        )
    ]


def severe(session, plan, score, at, entry_id=0):
    alert_id = raise_severe_pain_now(
        session,
        plan=plan,
        threshold=plan.clinic.severe_pain_threshold,
        entry=PainScore(id=entry_id, score=score, context=None, local_day=TODAY),
        now=at,
    )
    session.commit()
    return alert_id


# --- red flags -------------------------------------------------------------------------------


def test_it_makes_an_open_fever_alert_critical_when_the_legs_become_weak(
    session, enrolled, coordinator
):
    plan = enrolled(days_ago=3).plan
    fever = report(session, plan, "call_team", NOW - timedelta(hours=2), fever=True)
    raise_red_flag(session, plan=plan, report=fever, now=NOW - timedelta(hours=2))
    session.commit()
    assert only_alert(session, plan, RED_FLAG).urgency == "urgent"

    weak = report(session, plan, "call_911", NOW, leg_weakness=True, fever=False)
    raise_red_flag(session, plan=plan, report=weak, now=NOW)
    session.commit()

    alert = only_alert(session, plan, RED_FLAG)
    assert alert.urgency == "critical" and alert.status == "open"
    assert "leg weakness (patient told to call 911)" in alert.summary
    assert "earlier: fever" in alert.summary
    assert alert.detail["symptom_report_id"] == weak.id
    assert alert.detail["signs"] == ["fever", "leg_weakness"]
    assert alert.updated_at == NOW
    assert steps(session, alert) == ["raised", "escalated"]


def test_it_reopens_an_acknowledged_red_flag_on_a_911_answer(session, enrolled, coordinator):
    plan = enrolled(days_ago=3).plan
    fever = report(session, plan, "call_team", NOW - timedelta(hours=2), fever=True)
    alert = raise_red_flag(session, plan=plan, report=fever, now=NOW - timedelta(hours=2))
    session.commit()
    assert acknowledge(
        session, alert, user_id=coordinator.id, note="Called", now=NOW - timedelta(hours=1)
    )
    session.commit()

    chest = report(session, plan, "call_911", NOW, chest_pain=True)
    raise_red_flag(session, plan=plan, report=chest, now=NOW)
    session.commit()

    alert = only_alert(session, plan, RED_FLAG)
    assert (alert.status, alert.urgency, alert.acknowledged_at) == ("open", "critical", None)
    assert alert.page_round == 1 and alert.escalation_level == 0  # paged again, from the top
    assert steps(session, alert) == ["raised", "acknowledged", "escalated"]


def test_the_same_answer_again_updates_the_evidence_but_does_not_reopen(
    session, enrolled, coordinator
):
    plan = enrolled(days_ago=3).plan
    first = report(session, plan, "call_team", NOW - timedelta(hours=2), fever=True)
    alert = raise_red_flag(session, plan=plan, report=first, now=NOW - timedelta(hours=2))
    session.commit()
    acknowledge(session, alert, user_id=coordinator.id, note=None, now=NOW - timedelta(hours=1))
    session.commit()
    again = report(session, plan, "call_team", NOW, fever=True)
    raise_red_flag(session, plan=plan, report=again, now=NOW)
    session.commit()
    alert = only_alert(session, plan, RED_FLAG)
    assert alert.status == "acknowledged" and alert.urgency == "urgent"
    assert alert.detail["symptom_report_id"] == again.id
    assert steps(session, alert)[-1] == "updated"


def test_a_new_sign_reopens_an_acknowledged_red_flag(session, enrolled, coordinator):
    plan = enrolled(days_ago=3).plan
    first = report(session, plan, "call_team", NOW - timedelta(hours=2), fever=True)
    alert = raise_red_flag(session, plan=plan, report=first, now=NOW - timedelta(hours=2))
    session.commit()
    acknowledge(session, alert, user_id=coordinator.id, note=None, now=NOW - timedelta(hours=1))
    session.commit()
    redness = report(session, plan, "call_team", NOW, needle_site=True)
    raise_red_flag(session, plan=plan, report=redness, now=NOW)
    session.commit()
    alert = only_alert(session, plan, RED_FLAG)
    assert alert.status == "open" and alert.urgency == "urgent"
    assert steps(session, alert)[-1] == "reopened"


def test_a_red_flag_resolved_meanwhile_gets_a_new_alert_not_a_silent_update(
    session, enrolled, coordinator, database_url
):
    """The conditional UPDATE in alerts._merge: another coordinator resolved the alert
    after it was read; the newer evidence must raise a new alert, not revive or edit the
    resolved one."""
    from sqlalchemy.orm import Session

    from tracker.core.db import make_engine

    plan = enrolled(days_ago=3).plan
    fever = report(session, plan, "call_team", NOW - timedelta(hours=2), fever=True)
    stale = raise_red_flag(session, plan=plan, report=fever, now=NOW - timedelta(hours=2))
    session.commit()
    stale_id = stale.id
    engine = make_engine(database_url)
    with Session(engine) as other:
        alerts.resolve(
            other, other.get(Alert, stale_id), user_id=coordinator.id, note="ok", now=NOW
        )
        other.commit()
    engine.dispose()

    chest = report(session, plan, "call_911", NOW, chest_pain=True)
    finding = alerts.red_flag_finding(plan, chest)
    alert, new = alerts._raise_or_merge(session, plan, None, finding, NOW, stale)
    session.commit()
    assert new and alert.id != stale_id and alert.urgency == "critical"
    session.expire_all()
    assert session.get(Alert, stale_id).status == "resolved"
    assert session.get(Alert, stale_id).urgency == "urgent"


# --- severe pain -----------------------------------------------------------------------------


def test_a_higher_score_updates_the_open_severe_pain_alert(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    eight = record.pain(plan, TODAY, 8, hour=8)
    first = severe(session, plan, 8, NOW - timedelta(hours=2), eight.id)
    nine = record.pain(plan, TODAY, 9, hour=9)
    second = severe(session, plan, 9, NOW - timedelta(hours=1), nine.id)
    assert first == second
    alert = only_alert(session, plan, SEVERE_PAIN)
    assert alert.summary == "Pain 9/10 on day 3"
    assert (alert.detail["latest"]["score"], alert.detail["highest"]["score"]) == (9, 9)

    seven = record.pain(plan, TODAY, 7, hour=10)
    severe(session, plan, 7, NOW, seven.id)
    alert = only_alert(session, plan, SEVERE_PAIN)
    # Latest and highest both shown: the 7 is newer, the 9 still the worst.
    assert alert.summary == "Pain 7/10 on day 3; highest 9/10 on day 3"
    assert steps(session, alert) == ["raised", "updated", "updated"]


def test_a_higher_score_reopens_an_acknowledged_severe_pain_alert_a_lower_one_does_not(
    session, enrolled, record, coordinator
):
    plan = enrolled(days_ago=3).plan
    severe(session, plan, 8, NOW - timedelta(hours=3), record.pain(plan, TODAY, 8, hour=7).id)
    alert = only_alert(session, plan, SEVERE_PAIN)
    acknowledge(session, alert, user_id=coordinator.id, note=None, now=NOW - timedelta(hours=2))
    session.commit()
    # The same score again (the boundary): news to show, but not worse.
    severe(session, plan, 8, NOW - timedelta(hours=1), record.pain(plan, TODAY, 8, hour=9).id)
    assert only_alert(session, plan, SEVERE_PAIN).status == "acknowledged"
    severe(session, plan, 10, NOW, record.pain(plan, TODAY, 10, hour=10).id)
    alert = only_alert(session, plan, SEVERE_PAIN)
    assert alert.status == "open" and alert.detail["highest"]["score"] == 10
    assert steps(session, alert)[-1] == "reopened"


def test_a_score_one_below_the_threshold_changes_nothing(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    severe(session, plan, 8, NOW - timedelta(hours=1), record.pain(plan, TODAY, 8).id)
    threshold = plan.clinic.severe_pain_threshold
    assert severe(session, plan, threshold - 1, NOW) is None
    assert only_alert(session, plan, SEVERE_PAIN).detail["latest"]["score"] == 8
    assert severe(session, plan, threshold, NOW + timedelta(minutes=1), 999_999) is not None


def test_the_tick_brings_an_open_alert_up_to_a_newer_score(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    record.pain(plan, TODAY - timedelta(days=1), 8)
    assert [a.rule for a in evaluate_plan(session, plan, NOW - timedelta(hours=8))] == [SEVERE_PAIN]
    session.commit()
    record.pain(plan, TODAY, 9)  # stored without the web path's immediate raise
    assert evaluate_plan(session, plan, NOW) == []  # nothing new raised...
    session.commit()
    alert = only_alert(session, plan, SEVERE_PAIN)  # ...but the open alert shows the 9
    assert alert.detail["latest"]["score"] == 9


# --- corrections -----------------------------------------------------------------------------


def test_a_corrected_score_is_shown_on_the_alert_and_the_triage_row(
    session, enrolled, record, coordinator_client
):
    plan = enrolled(days_ago=3, name="Corrected Carla").plan
    ten = record.pain(plan, TODAY, 10, hour=8)
    severe(session, plan, 10, NOW - timedelta(hours=2), ten.id)
    one = record.pain(plan, TODAY, 1, hour=9, supersedes=ten)
    assert note_correction(session, plan_id=plan.id, original=ten, replacement=one, now=NOW)
    session.commit()

    alert = only_alert(session, plan, SEVERE_PAIN)
    assert alert.status == "open"  # a person decides
    assert alert.detail["corrections"][0] | {"at": None} == {
        "entry_id": ten.id,
        "replacement_id": one.id,
        "from": 10,
        "to": 1,
        "at": None,
    }
    assert steps(session, alert) == ["raised", "corrected"]

    page = coordinator_client.get("/coordinator/").get_data(as_text=True)
    assert "Corrected by the patient: 10 → 1, Nov 21, 10:00 AM EST" in page
    assert "(corrected)" in page  # the latest score is itself a correction
    detail = coordinator_client.get(f"/coordinator/patients/{plan.patient_id}")
    assert "Corrected by the patient: score 10 → 1" in detail.get_data(as_text=True)


# --- paused plans ----------------------------------------------------------------------------


def test_a_paused_patient_with_an_open_alert_stays_on_the_default_triage_list(
    session, enrolled, clinic
):
    paused = enrolled(days_ago=3, name="Paused Pat").plan
    quiet = enrolled(days_ago=3, name="Paused Quiet").plan
    severe(session, paused, 9, NOW)
    for plan in (paused, quiet):
        plan.status = "paused"
    session.commit()
    names = [r.patient.name for r in triage_page(session, clinic, TriageFilters(), NOW).rows]
    assert "Paused Pat" in names and "Paused Quiet" not in names
    paused_only = triage_page(session, clinic, TriageFilters(status="paused"), NOW).rows
    assert {r.patient.name for r in paused_only} == {"Paused Pat", "Paused Quiet"}


def test_a_critical_alert_heads_the_list_above_an_urgent_one(session, enrolled, clinic):
    urgent = enrolled(days_ago=3, name="Aaron Urgent").plan
    critical = enrolled(days_ago=3, name="Zoe Critical").plan
    raise_red_flag(
        session,
        plan=urgent,
        report=report(session, urgent, "call_team", NOW, fever=True),
        now=NOW,
    )
    raise_red_flag(
        session,
        plan=critical,
        report=report(session, critical, "call_911", NOW, chest_pain=True),
        now=NOW,
    )
    session.commit()
    rows = triage_page(session, clinic, TriageFilters(), NOW).rows
    assert [r.patient.name for r in rows[:2]] == ["Zoe Critical", "Aaron Urgent"]


# --- baseline since the procedure ------------------------------------------------------------


def test_scores_before_the_procedure_never_set_the_baseline(session, enrolled, record):
    plan = enrolled(days_ago=6).plan
    procedure = plan.procedure_date
    for n in (-3, -2, -1):
        record.pain(plan, procedure + timedelta(days=n), 1)
    for n in range(0, 7):
        record.pain(plan, procedure + timedelta(days=n), 4)
    assert WORSENING not in [a.rule for a in evaluate_plan(session, plan, NOW)]


def test_a_rise_of_exactly_the_points_from_the_day_0_baseline_is_worsening(
    session, enrolled, record
):
    plan = enrolled(days_ago=6).plan
    procedure = plan.procedure_date
    record.pain(plan, procedure - timedelta(days=1), 0)  # before: ignored
    for n, score in enumerate([3, 3, 3, 4, 5, 5, 5]):
        record.pain(plan, procedure + timedelta(days=n), score)
    raised = evaluate_plan(session, plan, NOW)
    worsening = [a for a in raised if a.rule == WORSENING]
    assert worsening and worsening[0].detail["lowest_mean"] == 3.0
    assert worsening[0].detail["rise"] == 2.0


# --- conditions that clear -------------------------------------------------------------------


def test_a_no_check_in_alert_resolves_itself_when_the_patient_checks_in(session, enrolled, record):
    plan = enrolled(days_ago=6).plan
    record.checkoff(plan, "walk", TODAY - timedelta(days=3))
    raised = evaluate_plan(session, plan, NOW)
    session.commit()
    assert [a.rule for a in raised] == [MISSED_CHECKIN]
    # Still nothing an hour later: it stays open.
    evaluate_plan(session, plan, NOW + timedelta(hours=1))
    session.commit()
    assert only_alert(session, plan, MISSED_CHECKIN).status == "open"

    record.pain(plan, TODAY, 3, hour=14)
    evaluate_plan(session, plan, NOW + timedelta(hours=2))
    session.commit()
    alert = only_alert(session, plan, MISSED_CHECKIN)
    assert alert.status == "resolved" and alert.resolved_by_id is None
    assert alert.resolution_note == (
        "Resolved automatically: the patient checked in again on Nov 21, 2026."
    )
    assert alert.detail["checked_in_again"] == "2026-11-21"
    assert steps(session, alert) == ["raised", "auto_resolved"]


def test_other_alerts_stay_open_for_a_person_after_a_check_in(session, enrolled, record):
    plan = enrolled(days_ago=3).plan
    severe(session, plan, 9, NOW - timedelta(hours=1), record.pain(plan, TODAY, 9, hour=8).id)
    record.pain(plan, TODAY, 2, hour=9)
    evaluate_plan(session, plan, NOW)
    session.commit()
    assert only_alert(session, plan, SEVERE_PAIN).status == "open"


# --- paging, as the care team sees it --------------------------------------------------------


def test_the_triage_row_and_patient_page_say_who_was_paged(
    app, session, enrolled, clinic, coordinator
):
    from datetime import UTC, datetime

    from tracker.core.models import OnCallContact
    from tracker.escalation.paging import page_if_needed

    night = datetime(2026, 11, 24, 3, 40, tzinfo=UTC)  # Monday 22:40 in New York
    session.add(
        OnCallContact(
            clinic_id=clinic.id,
            position=0,
            name="Dana Reyes",
            channel="log",
            address="pager",
            active=True,
            created_at=NOW,
        )
    )
    plan = enrolled(days_ago=3, name="Night Nora").plan
    chest = report(session, plan, "call_911", night, chest_pain=True)
    alert = raise_red_flag(session, plan=plan, report=chest, now=night)
    assert page_if_needed(session, alert.id, night)
    session.commit()

    app.config["FIXED_NOW"] = night
    coordinator_client = sign_in_as(app.test_client(), coordinator)
    triage = coordinator_client.get("/coordinator/").get_data(as_text=True)
    assert "Paging Dana Reyes (log) since Nov 23, 10:40 PM EST." in triage
    detail = coordinator_client.get(f"/coordinator/patients/{plan.patient_id}")
    assert "Paging Dana Reyes (log) since Nov 23, 10:40 PM EST." in detail.get_data(as_text=True)
