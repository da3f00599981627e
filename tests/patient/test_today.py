"""Today: the day in words, tasks to check off, restrictions, next visit, clinic phone."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, post_form, sign_in, text_of
from tracker.core.models import CarePlan, CheckOff, PainEntry


def test_it_shows_the_day_tasks_restrictions_visit_and_phone(patient_client):
    page = text_of(patient_client.get("/me/"))
    assert "Day 1 of your recovery" in page
    assert "Today is Saturday 21 November" in page
    # Still bed rest ("get up only for the bathroom"): walking starts tomorrow, day 2.
    assert "Take a short walk" not in page
    assert "Ice on the needle site (when needed)" in page
    # Through the six-week visit (days 40-44), which decides when it ends.
    assert "No heavy lifting — 43 days left" in page
    assert "Rest in bed — today is the last day" in page
    assert "No driving on opioid pain medicine — while you take opioid pain medicine" in page
    assert "First follow-up visit: between Monday 30 November and Friday 4 December" in page
    assert "555-0142" in page
    assert 'href="tel:5550142"' in patient_client.get("/me/").get_data(as_text=True)


def test_it_counts_days_left_as_the_recovery_goes_on(enroll_patient, client):
    sign_in(client, enroll_patient(procedure_date="2026-11-03"))
    page = text_of(client.get("/me/"))
    assert "Day 18 of your recovery" in page
    assert "Take a short walk" in page
    assert "No heavy lifting — 26 days left" in page
    assert "Rest in bed" not in page


def test_it_says_so_on_the_day_of_the_procedure(enroll_patient, client):
    sign_in(client, enroll_patient(procedure_date="2026-11-21"))
    assert "Today is the day of your procedure" in text_of(client.get("/me/"))


def test_it_shows_the_actual_visit_date_once_the_clinic_sets_it(enrolled, session, patient_client):
    plan = session.get(CarePlan, enrolled.plan.id)
    plan.overrides = {"followup_first": {"date": "2026-12-02"}}
    session.commit()
    assert "First follow-up visit: Wednesday 2 December" in text_of(patient_client.get("/me/"))


def test_it_prompts_for_the_pain_score_until_one_is_logged(enrolled, session, patient_client):
    assert "You have not logged your pain score today" in text_of(patient_client.get("/me/"))
    session.add(
        PainEntry(plan_id=enrolled.plan.id, score=3, local_day=date(2026, 11, 21), recorded_at=NOW)
    )
    session.commit()
    assert "You have not logged your pain score today" not in text_of(patient_client.get("/me/"))


def test_yesterdays_pain_score_does_not_count_for_today(enrolled, session, patient_client):
    session.add(
        PainEntry(plan_id=enrolled.plan.id, score=3, local_day=date(2026, 11, 20), recorded_at=NOW)
    )
    session.commit()
    assert "You have not logged your pain score today" in text_of(patient_client.get("/me/"))


def _check(client, key, action="done", **extra):
    return post_form(
        client, "/me/", f"/me/tasks/{key}", {"action": action, "day": "2026-11-21", **extra}
    )


@pytest.fixture
def walker(enroll_patient):
    """A patient on day 2, when walking starts (the day after bed rest ends)."""
    return enroll_patient(procedure_date="2026-11-19")


@pytest.fixture
def walker_client(client, walker):
    return sign_in(client, walker)


def test_it_checks_a_task_off_and_checking_twice_is_harmless(walker_client, session):
    first = _check(walker_client, "walk")
    assert first.status_code == 302
    assert first.location.endswith("/me/#task-walk")
    page = text_of(walker_client.get("/me/"))
    assert "Done: Take a short walk." in page
    assert "Not done yet — undo" in page
    assert _check(walker_client, "walk").status_code == 302
    rows = session.scalars(select(CheckOff)).all()
    assert [(r.activity_key, r.local_day) for r in rows] == [("walk", date(2026, 11, 21))]


def test_it_undoes_todays_check_off_only(walker_client, walker, session):
    session.add(
        CheckOff(
            plan_id=walker.plan.id,
            activity_key="walk",
            local_day=date(2026, 11, 20),
            created_at=NOW,
        )
    )
    session.commit()
    _check(walker_client, "walk")
    assert count(session, CheckOff) == 2
    assert _check(walker_client, "walk", action="undo").status_code == 302
    session.expire_all()
    rows = session.scalars(select(CheckOff)).all()
    assert [r.local_day for r in rows] == [date(2026, 11, 20)]
    assert "Mark as done" in text_of(walker_client.get("/me/"))


def test_it_changes_nothing_when_the_page_was_from_an_earlier_day(walker_client, session):
    response = _check(walker_client, "walk", day="2026-11-20")
    assert response.status_code == 302
    assert count(session, CheckOff) == 0
    assert "A new day has started, so nothing was changed" in text_of(walker_client.get("/me/"))


def test_a_walk_cannot_be_checked_off_during_bed_rest(patient_client, session):
    # Day 1 is bed rest: there is no walk to check off (not shown, not accepted).
    assert _check(patient_client, "walk").status_code == 404
    assert count(session, CheckOff) == 0


@pytest.mark.parametrize(
    ("key", "data", "status"),
    [
        ("no_heavy_lifting", {"action": "done"}, 404),  # a restriction, not a task
        ("unknown_task", {"action": "done"}, 404),
        ("walk", {"action": "explode"}, 400),
        ("walk", {}, 400),
    ],
)
def test_it_refuses_bad_check_offs(walker_client, session, key, data, status):
    response = post_form(walker_client, "/me/", f"/me/tasks/{key}", {"day": "2026-11-21", **data})
    assert response.status_code == status
    assert count(session, CheckOff) == 0


def test_it_refuses_a_check_off_without_the_csrf_token(patient_client, session):
    response = patient_client.post("/me/tasks/walk", data={"action": "done", "day": "2026-11-21"})
    assert response.status_code == 400
    assert "nothing was saved" in text_of(response)
    assert count(session, CheckOff) == 0


def test_every_form_on_today_posts_with_a_csrf_token(patient_client):
    html = patient_client.get("/me/").get_data(as_text=True)
    assert html.count("<form") == html.count('name="csrf_token"') > 1


def test_undoing_a_check_off_has_the_next_tick_look_at_the_plan_again(
    walker_client, walker, session
):
    # Fewer check-ins can make "no check-in" true; a check-off alone cannot raise anything.
    def due():
        session.expire_all()
        return session.scalar(select(CarePlan.alerts_due_at).where(CarePlan.id == walker.plan.id))

    before = due()
    form = {"day": "2026-11-21"}
    post_form(walker_client, "/me/", "/me/tasks/walk", {**form, "action": "done"})
    assert due() == before
    post_form(walker_client, "/me/", "/me/tasks/walk", {**form, "action": "undo"})
    assert count(session, CheckOff) == 0
    assert due() == NOW
