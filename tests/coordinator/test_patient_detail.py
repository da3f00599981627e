"""One patient: chart, calendar, reports, reminders, alerts, plan changes, link, enrolment."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert
from tracker.core.models import (
    Alert,
    AuditEvent,
    CarePlan,
    Patient,
    PatientLinkToken,
    PlanAdjustment,
    Reminder,
)
from tracker.plans.agenda import agenda_for_day
from tracker.plans.links import find_valid_token

TODAY = date(2026, 11, 21)


@pytest.fixture
def patient(enrolled, record, session):
    result = enrolled(days_ago=3, name="Ruth Detail", levels="L1")
    plan = result.plan
    record.pain(plan, TODAY - timedelta(days=3), 8, context="rest", note="Sore after the drive")
    record.pain(plan, TODAY - timedelta(days=3), 6, context="activity", hour=15)
    record.pain(plan, TODAY - timedelta(days=2), 5)
    record.checkoff(plan, "walk", TODAY - timedelta(days=1))
    record.report(plan, TODAY - timedelta(days=1), "call_team", fever=True, chest_pain=False)
    session.add(
        Reminder(
            plan_id=plan.id,
            kind="daily",
            local_day=TODAY - timedelta(days=1),
            channel="email",
            status="dead",
            attempts=5,
            due_at=NOW - timedelta(days=1),
            next_attempt_at=NOW - timedelta(days=1),
            last_error="550 mailbox unavailable",
            idempotency_key=f"daily-{plan.id}-2026-11-20-email",
            created_at=NOW - timedelta(days=1),
        )
    )
    session.commit()
    return result


def url(result, suffix=""):
    return f"/coordinator/patients/{result.patient.id}{suffix}"


def test_it_shows_the_whole_recovery(coordinator_client, patient, session, coordinator):
    response = coordinator_client.get(url(patient))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Ruth Detail" in page and "day 3 of 45" in page
    # Chart and its table alternative: daily max 8, mean 7, rest 8, activity 6 on day 0.
    assert '<svg class="pain-chart"' in page
    assert "<td>Nov 18</td><td>0</td><td>8</td><td>7</td>" in page
    # A shaded restriction lane: the lifting limit lasts through the six-week visit.
    assert "No heavy lifting (days 0-44)" in page
    assert "Sore after the drive" in page
    # Calendar: day 1 (bed rest, no walk due) had a symptom report but no pain score.
    assert "day 1</span>" in page and "1 of 2 done" in page
    # Warning-signs answers in the patient's words, and the advice they got.
    assert "have you had a fever of 100.4" in page and "Call the care team" in page
    assert "Could not be delivered" in page and "550 mailbox unavailable" in page
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.view")).one()
    assert (event.patient_id, event.actor_user_id) == (patient.patient.id, coordinator.id)


def test_it_acknowledges_then_resolves_an_alert(coordinator_client, patient, session, coordinator):
    alert = open_alert(session, patient.plan, "red_flag", "urgent", "Fever reported")
    ack = coordinator_client.post(
        url(patient, f"/alerts/{alert.id}/acknowledge"), data={"note": "Left a message"}
    )
    assert ack.status_code == 302
    session.refresh(alert)
    assert (alert.status, alert.acknowledged_by_id, alert.acknowledged_at) == (
        "acknowledged",
        coordinator.id,
        NOW,
    )
    assert alert.detail["acknowledge_note"] == "Left a message"

    done = coordinator_client.post(
        url(patient, f"/alerts/{alert.id}/resolve"), data={"note": "Spoke to her; seen in clinic"}
    )
    assert done.status_code == 302
    session.refresh(alert)
    assert (alert.status, alert.resolved_by_id, alert.resolution_note) == (
        "resolved",
        coordinator.id,
        "Spoke to her; seen in clinic",
    )
    page = coordinator_client.get(url(patient)).get_data(as_text=True)
    assert "No open alerts." in page and "Spoke to her; seen in clinic" in page
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[:2] == ["alert.acknowledge", "alert.resolve"]


@pytest.mark.parametrize(
    ("note", "status", "message"),
    [
        ("", 400, "Say how it was resolved"),
        ("x" * 501, 400, "500 characters or fewer"),
    ],
)
def test_it_refuses_a_resolution_without_a_proper_note(
    coordinator_client, patient, session, note, status, message
):
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    response = coordinator_client.post(
        url(patient, f"/alerts/{alert.id}/resolve"), data={"note": note}
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    session.refresh(alert)
    assert alert.status == "open" and alert.resolution_note is None


def test_it_refuses_to_resolve_twice(coordinator_client, patient, session):
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    path = url(patient, f"/alerts/{alert.id}/resolve")
    assert coordinator_client.post(path, data={"note": "first"}).status_code == 302
    again = coordinator_client.post(path, data={"note": "second"})
    assert again.status_code == 409
    session.refresh(alert)
    assert alert.resolution_note == "first"
    assert (
        coordinator_client.post(
            url(patient, "/alerts/999999/resolve"), data={"note": "x"}
        ).status_code
        == 404
    )


def test_it_sets_an_actual_appointment_date(coordinator_client, patient, session, coordinator):
    response = coordinator_client.post(
        url(patient, "/appointments"),
        data={"key": "followup_first", "date": "2026-12-01", "note": "Booked by phone"},
    )
    assert response.status_code == 302
    plan = session.get(CarePlan, patient.plan.id)
    session.refresh(plan)
    assert plan.overrides == {"followup_first": {"date": "2026-12-01"}}
    assert agenda_for_day(plan, date(2026, 12, 1)).appointments_today[0].activity.key == (
        "followup_first"
    )
    adjustment = session.scalars(select(PlanAdjustment)).one()
    assert (adjustment.user_id, adjustment.activity_key, adjustment.note) == (
        coordinator.id,
        "followup_first",
        "Booked by phone",
    )
    assert adjustment.change == {"date": {"from": None, "to": "2026-12-01"}}
    assert "booked for <strong>Dec 1</strong>" in coordinator_client.get(
        url(patient)
    ).get_data(as_text=True)


def test_it_extends_and_releases_a_restriction(coordinator_client, patient, session):
    post = coordinator_client.post
    assert (
        post(
            url(patient, "/restrictions"), data={"key": "no_heavy_lifting", "end_day": "55"}
        ).status_code
        == 302
    )
    plan = session.get(CarePlan, patient.plan.id)
    session.refresh(plan)
    assert plan.overrides["no_heavy_lifting"] == {"end_day": 55}
    keys = [
        r.activity.key
        for r in agenda_for_day(plan, plan.procedure_date + timedelta(50)).restrictions
    ]
    assert "no_heavy_lifting" in keys
    # Release driving from today (day 3): last day 2.
    assert (
        post(
            url(patient, "/restrictions"), data={"key": "no_driving_on_opioids", "end_day": "2"}
        ).status_code
        == 302
    )
    session.refresh(plan)
    today_keys = [r.activity.key for r in agenda_for_day(plan, TODAY).restrictions]
    assert "no_driving_on_opioids" not in today_keys
    assert session.scalar(select(func.count()).select_from(PlanAdjustment)) == 2


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("/appointments", {"key": "followup_first", "date": "2026-13-01"}, "YYYY-MM-DD"),
        ("/appointments", {"key": "followup_first", "date": "01/12/2026"}, "YYYY-MM-DD"),
        ("/appointments", {"key": "followup_first", "date": "2026-11-01"}, "Choose a date from"),
        ("/appointments", {"key": "no_heavy_lifting", "date": "2026-12-01"}, "no such appointment"),
        ("/restrictions", {"key": "no_heavy_lifting", "end_day": "500"}, "Enter a day from"),
        ("/restrictions", {"key": "no_heavy_lifting", "end_day": "4.5"}, "whole number"),
        ("/restrictions", {"key": "walk", "end_day": "10"}, "no such restriction"),
        ("/restrictions", {"key": "no_heavy_lifting", "end_day": "50", "note": "n" * 501}, "500"),
        ("/status", {"action": "resume"}, "cannot be resumed"),
        ("/status", {"action": "delete"}, "Choose pause, resume or end"),
    ],
)
def test_it_refuses_bad_plan_changes_and_changes_nothing(
    coordinator_client, patient, session, path, data, message
):
    response = coordinator_client.post(url(patient, path), data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    plan = session.get(CarePlan, patient.plan.id)
    session.refresh(plan)
    assert plan.overrides == {} and plan.status == "active"
    assert session.scalar(select(func.count()).select_from(PlanAdjustment)) == 0


def test_it_pauses_resumes_and_ends_a_plan(coordinator_client, patient, session):
    for action, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
        response = coordinator_client.post(url(patient, "/status"), data={"action": action})
        assert response.status_code == 302
        plan = session.get(CarePlan, patient.plan.id)
        session.refresh(plan)
        assert plan.status == status
    assert plan.ended_at == NOW
    changes = session.scalars(select(PlanAdjustment.change).order_by(PlanAdjustment.id)).all()
    assert [c["status"]["to"] for c in changes] == ["paused", "active", "ended"]


def test_it_rotates_the_link_and_shows_it_once(app, coordinator_client, patient, session):
    old = patient.link_token
    response = coordinator_client.post(url(patient, "/link"), data={"action": "rotate"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    new = page.split("http://localhost/p/")[1].split("<")[0]
    assert find_valid_token(session, old, now=NOW) is None
    assert find_valid_token(session, new, now=NOW) is not None
    assert new not in coordinator_client.get(url(patient)).get_data(as_text=True)
    session.refresh(patient.patient)
    assert patient.patient.session_version == 1  # the patient's open sessions end too


def test_it_revokes_the_link(coordinator_client, patient, session):
    response = coordinator_client.post(url(patient, "/link"), data={"action": "revoke"})
    assert response.status_code == 302
    assert find_valid_token(session, patient.link_token, now=NOW) is None
    live = session.scalar(
        select(func.count())
        .select_from(PatientLinkToken)
        .where(PatientLinkToken.revoked_at.is_(None))
    )
    assert live == 0
    assert "The patient has no working link." in coordinator_client.get(url(patient)).get_data(
        as_text=True
    )


def test_it_enrols_a_patient_from_the_form(coordinator_client, session, clinic):
    response = coordinator_client.post(
        "/coordinator/enrol",
        data={
            "name": "Walter Form",
            "procedure": "vertebroplasty",
            "procedure_date": "2026-11-19",
            "timezone": "America/Chicago",
            "reminder_time": "08:30",
            "email": "walter@example.org",
            "levels": "t12, l1",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Patient enrolled: Walter Form" in page and "http://localhost/p/" in page
    patient = session.scalars(select(Patient).where(Patient.name == "Walter Form")).one()
    plan = patient.plans[0]
    assert (patient.clinic_id, plan.procedure, plan.levels, plan.timezone) == (
        clinic.id,
        "vertebroplasty",
        "T12,L1",
        "America/Chicago",
    )
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)) == (
        "patient.enrol"
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the patient's full name."),
        ("procedure", "spinal fusion", "Choose the procedure: kyphoplasty or vertebroplasty."),
        ("procedure_date", "2026-02-30", '"2026-02-30" is not a real date.'),
        ("timezone", "Mars/Olympus", '"Mars/Olympus" is not a time zone we know.'),
        ("reminder_time", "25:00", '"25:00" is not a time of day.'),
        ("email", "not-an-email", "Enter an email address like jo@example.org"),
        ("levels", "Z9", '"Z9" is not a spinal level.'),
    ],
)
def test_it_shows_an_enrolment_error_beside_its_field_and_stores_nothing(
    coordinator_client, session, field, value, message
):
    data = {
        "name": "<b>Bad</b> Input",
        "procedure": "kyphoplasty",
        "procedure_date": "2026-11-19",
        "timezone": "America/New_York",
        "reminder_time": "09:00",
        "email": "",
        "levels": "",
        field: value,
    }
    response = coordinator_client.post("/coordinator/enrol", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">' in page
    assert message in html.unescape(page)
    assert "<b>Bad</b>" not in page  # echoed back escaped
    assert session.scalar(select(func.count()).select_from(Patient)) == 0
    assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_only_one_of_two_simultaneous_resolutions_wins(app, patient, session, coordinator):
    from tracker.alerts.rules import acknowledge, resolve
    from tracker.core.db import session_factory

    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    with session_factory(app)() as first, session_factory(app)() as second:
        mine, theirs = first.get(Alert, alert.id), second.get(Alert, alert.id)
        assert mine.status == theirs.status == "open"  # both coordinators see it open
        assert resolve(first, mine, user_id=coordinator.id, note="Called her", now=NOW)
        first.commit()
        assert not resolve(second, theirs, user_id=coordinator.id, note="Me too", now=NOW)
        assert not acknowledge(second, theirs, user_id=coordinator.id, note=None, now=NOW)
        second.commit()
    session.refresh(alert)
    assert (alert.status, alert.resolution_note, alert.acknowledged_at) == (
        "resolved",
        "Called her",
        NOW,
    )


def test_acknowledging_twice_is_refused(coordinator_client, patient, session):
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    path = url(patient, f"/alerts/{alert.id}/acknowledge")
    assert coordinator_client.post(path, data={"note": ""}).status_code == 302
    again = coordinator_client.post(path, data={"note": ""})
    assert again.status_code == 409
    assert "This alert is already acknowledged." in again.get_data(as_text=True)


def test_the_enrolment_form_offers_time_zones_and_limits_the_name(coordinator_client):
    page = coordinator_client.get("/coordinator/enrol").get_data(as_text=True)
    assert re.search(r'<input id="name" name="name" type="text" value="" maxlength="200"', page)
    assert '<optgroup label="All time zones">' in page and '<option value="Asia/Tokyo">' in page
    # the clinic's zone is the default
    assert '<option value="America/New_York" selected>' in page
