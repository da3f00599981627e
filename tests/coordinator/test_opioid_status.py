"""The care team sees the opioid answers and whether the no-driving rule is still on."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.conftest import NOW
from tracker.core.models import Clinic, OpioidCheck

TODAY = date(2026, 11, 21)


def _section(response) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    part = html.split('id="opioids"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", part).split())


def _said(session, plan_id, *answers):
    for day, taking in answers:
        session.add(OpioidCheck(plan_id=plan_id, local_day=day, taking=taking, recorded_at=NOW))
    session.commit()


def _page(client, enrolment):
    return client.get(f"/coordinator/patients/{enrolment.patient.id}")


def test_without_answers_it_says_so_and_the_rule_follows_the_plans_days(
    coordinator_client, enrolled
):
    text = _section(_page(coordinator_client, enrolled(days_ago=5)))
    assert "not answered yet" in text
    assert "No driving on opioid pain medicine: on today" in text
    assert "no answer yet, so it follows the plan's days (0\N{EN DASH}41)" in text


def test_it_shows_the_latest_answer_since_when_and_that_the_rule_is_on(
    coordinator_client, enrolled, session
):
    patient = enrolled(days_ago=44)  # day 44: after the rule's days (0-41), the "yes" counts
    _said(
        session,
        patient.plan.id,
        (TODAY - timedelta(days=3), False),
        (TODAY - timedelta(days=2), True),
        (TODAY - timedelta(days=1), True),
    )
    text = _section(_page(coordinator_client, patient))
    assert "Yes on Nov 20 (day 43" in text
    assert "the same answer every day since Nov 19" in text
    assert "No driving on opioid pain medicine: on today — the patient said yes" in text


def test_after_the_plans_last_day_the_rule_is_over(coordinator_client, enrolled, session):
    # Day 45: past the question's last day (44), the plan is over, and so is the rule.
    patient = enrolled(days_ago=45)
    _said(session, patient.plan.id, (TODAY - timedelta(days=1), True))
    assert "off today — outside the plan's days" in _section(_page(coordinator_client, patient))


def test_it_shows_when_the_rule_ended_after_the_clinics_no_days(
    coordinator_client, enrolled, session, clinic
):
    patient = enrolled(days_ago=43)
    fresh = session.get(Clinic, clinic.id)
    fresh.opioid_free_days_before_driving = 2
    session.commit()
    _said(session, patient.plan.id, (TODAY - timedelta(days=2), True))
    text = _section(_page(coordinator_client, patient))
    assert "on today" in text and "the patient said yes" in text
    assert "ends after 2 “no” days in a row" in text
    _said(session, patient.plan.id, (TODAY - timedelta(days=1), False), (TODAY, False))
    text = _section(_page(coordinator_client, patient))
    assert "No on Nov 21" in text
    assert "off today" in text and "ended on Nov 21 after 2 “no” days in a row" in text


def test_the_admin_sets_the_number_of_no_days(admin_client, clinic, session):
    page = admin_client.get("/coordinator/admin/clinic").get_data(as_text=True)
    assert 'name="opioid_free_days_before_driving"' in page
    assert 'value="1"' in page.split('name="opioid_free_days_before_driving"', 1)[1][:80]
