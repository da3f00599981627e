"""The daily opioid check-in on Today, and the no-driving rule its answers drive.

The fixed clock is Saturday 2026-11-21 10:00 in New York (tests.conftest.NOW).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, post_form, sign_in, text_of
from tracker.core.models import AuditEvent, CarePlan, Clinic, OpioidCheck, Reminder
from tracker.reminders.messages import compose

TODAY = date(2026, 11, 21)
RULE = "No driving on opioid pain medicine"
CONDITIONAL = f"{RULE} — while you take opioid pain medicine"
TAKING = f"{RULE} — you said you take opioid pain medicine"
QUESTION = "Are you taking opioid pain medicine today?"


def _procedure_on_day(n: int) -> str:
    """The procedure date that makes today day ``n`` of the recovery."""
    return (TODAY - timedelta(days=n)).isoformat()


def _answer(client, taking, day=None):
    data = {"day": day or TODAY.isoformat()}
    if taking is not None:
        data["taking"] = taking
    return post_form(client, "/me/", "/me/opioids", data)


def _said(session, plan_id, *days_and_answers):
    for n, (on, taking) in enumerate(days_and_answers):
        session.add(
            OpioidCheck(
                plan_id=plan_id, local_day=on, taking=taking, recorded_at=NOW - timedelta(days=n)
            )
        )
    session.commit()


def _set_days(session, clinic, days):
    clinic = session.get(Clinic, clinic.id)
    clinic.opioid_free_days_before_driving = days
    session.commit()


def _rows(session):
    session.expire_all()
    return session.scalars(select(OpioidCheck).order_by(OpioidCheck.id)).all()


def test_today_asks_the_question_with_examples_and_one_tap_answers(patient_client):
    response = patient_client.get("/me/")
    page, html = text_of(response), response.get_data(as_text=True)
    assert QUESTION in page
    for name in ("oxycodone", "hydrocodone", "tramadol", "morphine"):
        assert name in page
    assert 'name="taking" value="yes"' in html and 'name="taking" value="no"' in html
    assert "<script" not in html
    # Not answered yet: the rule stays as it was, with its condition.
    assert CONDITIONAL in page


def test_a_yes_keeps_driving_restricted_past_day_41(enroll_patient, client, session):
    sign_in(client, enroll_patient(procedure_date=_procedure_on_day(43)))
    page = text_of(client.get("/me/"))
    assert "Day 43 of your recovery" in page
    assert RULE not in page  # no answer: it ended with the plan's days, as before
    response = _answer(client, "yes")
    assert response.status_code == 302
    assert response.location.endswith("/me/#opioid-check")
    page = text_of(client.get("/me/"))
    assert "Saved: you take opioid pain medicine today. Please do not drive." in page
    assert TAKING in page
    assert "You said yes today" in page
    assert TAKING in text_of(client.get("/me/progress"))
    assert [(r.local_day, r.taking) for r in _rows(session)] == [(TODAY, True)]


def test_no_on_the_clinics_number_of_days_ends_it_on_the_last_of_them(
    enroll_patient, client, session, clinic
):
    _set_days(session, clinic, 3)
    enrolment = enroll_patient(procedure_date=_procedure_on_day(10))
    sign_in(client, enrolment)
    _said(
        session,
        enrolment.plan.id,
        (TODAY - timedelta(days=1), False),
        (TODAY - timedelta(days=2), False),
    )
    # Two "no" days of three: still restricted today, and the page says how far along.
    page = text_of(client.get("/me/"))
    assert CONDITIONAL in page
    assert "said no to opioid pain medicine 3 days in a row (so far: 2)" in page
    _answer(client, "no")
    page = text_of(client.get("/me/"))
    assert RULE not in page.replace(QUESTION, "")
    assert "You said no today" in page
    assert RULE not in text_of(client.get("/me/progress"))


def test_a_yes_after_no_days_starts_it_again_and_an_answer_can_be_changed(
    patient_client, enrolled, session
):
    _said(session, enrolled.plan.id, (TODAY - timedelta(days=1), False))
    assert RULE not in text_of(patient_client.get("/me/"))  # ended yesterday (one day needed)
    _answer(patient_client, "yes")
    assert TAKING in text_of(patient_client.get("/me/"))
    _answer(patient_client, "yes")  # the same answer again is nothing new
    assert len(_rows(session)) == 2
    _answer(patient_client, "no")  # changed the same day: the new answer counts, both kept
    page = text_of(patient_client.get("/me/"))
    assert "You said no today" in page
    assert RULE not in page
    today = [r for r in _rows(session) if r.local_day == TODAY]
    assert [(r.taking, r.supersedes_id) for r in today] == [(True, None), (False, today[0].id)]
    changed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.opioid_check_changed")
    ).all()
    assert [e.detail["supersedes_id"] for e in changed] == [today[0].id]


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_a_paused_or_ended_plan_asks_nothing_and_keeps_the_last_answers(
    patient_client, enrolled, session, status
):
    _said(session, enrolled.plan.id, (TODAY - timedelta(days=1), True))
    plan = session.get(CarePlan, enrolled.plan.id)
    plan.status = status
    session.commit()
    page = text_of(patient_client.get("/me/"))
    assert QUESTION not in page
    assert TAKING in page  # yesterday's "yes" still stands: do not drive
    response = _answer(patient_client, "no")
    assert response.status_code == 302
    assert f"Your recovery plan is {status}, so nothing was changed." in text_of(
        patient_client.get("/me/")
    )
    assert len(_rows(session)) == 1


def test_a_patient_answers_only_for_themselves(enroll_patient, client, session):
    me = enroll_patient(name="Pat Example")
    other = enroll_patient(name="Other Person", email="other@example.org")
    sign_in(client, me)
    html = client.get("/me/").get_data(as_text=True)
    assert "plan" not in html.split('action="/me/opioids"')[1].split("</form>")[0]
    _answer(client, "yes")
    assert [r.plan_id for r in _rows(session)] == [me.plan.id]
    sign_in(client, other)
    assert "You said yes today" not in text_of(client.get("/me/"))


def test_nobody_signed_in_cannot_answer(client, enrolled, session):
    response = client.post("/me/opioids", data={"taking": "yes", "day": TODAY.isoformat()})
    assert response.status_code in (400, 401, 403, 404)
    assert count(session, OpioidCheck) == 0


def test_it_refuses_an_answer_without_the_csrf_token(patient_client, session):
    response = patient_client.post("/me/opioids", data={"taking": "yes", "day": TODAY.isoformat()})
    assert response.status_code == 400
    assert "nothing was saved" in text_of(response)
    assert count(session, OpioidCheck) == 0


@pytest.mark.parametrize("taking", ["maybe", "", "YES", "1", None, "yes" * 100])
def test_it_refuses_a_bad_answer_with_a_clear_message(patient_client, session, taking):
    response = _answer(patient_client, taking)
    assert response.status_code == 400
    assert "Please tap Yes or No" in text_of(response)
    assert "Your answer was not saved." in text_of(response)
    assert count(session, OpioidCheck) == 0


def test_an_answer_from_a_page_of_an_earlier_day_changes_nothing(patient_client, session):
    response = _answer(patient_client, "yes", day="2026-11-20")
    assert response.status_code == 302
    assert "A new day has started, so nothing was changed" in text_of(patient_client.get("/me/"))
    assert count(session, OpioidCheck) == 0


def test_the_reminder_follows_the_answers(enroll_patient, session, clinic):
    enrolment = enroll_patient(procedure_date=_procedure_on_day(43))
    plan = session.get(CarePlan, enrolment.plan.id)
    reminder = Reminder(kind="daily", local_day=TODAY, idempotency_key="k")

    def text():
        session.expire_all()
        return compose(
            session, reminder, plan, plan.patient, plan.clinic, "https://x/p/t", missed=False
        ).text

    assert RULE not in text()  # no answer: over after day 41, as before
    _said(session, plan.id, (TODAY - timedelta(days=1), True))
    assert RULE in text()  # yesterday's "yes" keeps it after day 41
    _said(session, plan.id, (TODAY, False))
    assert RULE not in text()
