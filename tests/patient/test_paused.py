"""A paused or ended plan: every patient page says so plainly with the clinic's numbers,
asks for nothing, and the pain log and the warning-signs check still work and still reach
the care team (SPEC section 6: every path of a patient in trouble ends at a person)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.patient.conftest import count, post_form, text_of
from tracker.alerts import rules as alerts
from tracker.core.models import Alert, CheckOff, PainEntry, SymptomReport
from tracker.plans.warning_signs import load_signs, signs_path

PAGES = ("/me/", "/me/pain", "/me/warning-signs", "/me/progress")


@pytest.fixture
def paused(session, enrolled, clinic):
    clinic.after_hours_phone = "555-0199"
    enrolled.plan.status = "paused"
    session.commit()
    return enrolled


def answers(app, *yes):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    return {f"q_{s.key}": "yes" if s.key in yes else "no" for s in signs}


def test_it_says_on_every_page_that_the_plan_is_paused_with_both_numbers(patient_client, paused):
    for path in PAGES:
        page = text_of(patient_client.get(path))
        assert "Your recovery plan is paused. Your care team paused it." in page, path
        assert "You can still log your pain and answer the warning-signs questions." in page
        # Saturday: the office is closed, so the after-hours number comes first.
        assert (
            "Our office is closed now. Call our after-hours number: 555-0199. "
            "In office hours, call 555-0142." in page
        ), path


def test_it_asks_for_nothing_on_today_while_paused(patient_client, paused):
    response = patient_client.get("/me/")
    page = text_of(response)
    assert "Nothing to do: your plan is paused." in page
    assert "Mark as done" not in page
    assert "You have not logged your pain score today" not in page
    assert "Check for warning signs" not in page
    # The limits still apply, and the pages are still in the menu.
    assert "No heavy lifting" in page
    html = response.get_data(as_text=True)
    assert 'href="/me/pain"' in html and 'href="/me/warning-signs"' in html


def test_it_refuses_a_check_off_while_paused_and_stores_nothing(patient_client, paused, session):
    response = post_form(
        patient_client, "/me/", "/me/tasks/walk", data={"action": "done", "day": "2026-11-21"}
    )
    assert response.status_code == 302
    assert count(session, CheckOff) == 0
    assert "Your recovery plan is paused, so nothing was changed." in text_of(
        patient_client.get("/me/")
    )


def test_the_pain_log_still_works_and_a_severe_score_reaches_the_care_team(
    patient_client, paused, session
):
    response = post_form(patient_client, "/me/pain", data={"score": "9"})
    entry = session.scalar(select(PainEntry))
    assert entry.score == 9
    assert response.location.endswith(f"/me/pain/{entry.id}/severe")
    page = text_of(patient_client.get(response.location))
    assert "Your pain is severe" in page
    alert = session.scalar(select(Alert))
    assert (alert.rule, alert.status) == (alerts.SEVERE_PAIN, "open")
    assert "Our office is closed. Your care team will see this when they open on Monday" in page


def test_the_warning_signs_check_still_works_and_reaches_the_care_team(
    app, patient_client, paused, session
):
    response = post_form(patient_client, "/me/warning-signs", data=answers(app, "fever"))
    report = session.scalar(select(SymptomReport))
    assert response.location.endswith(f"/me/warning-signs/{report.id}")
    page = text_of(patient_client.get(response.location))
    assert "Call your care team today" in page
    assert session.scalar(select(Alert)).rule == alerts.RED_FLAG
    assert "Your care team will see this when they open on Monday at 8:00 am." in page
    assert "Your recovery plan is paused." in page


def test_an_ended_plan_says_so_and_lists_no_visits(patient_client, enrolled, session):
    enrolled.plan.status = "ended"
    session.commit()
    for path in PAGES:
        assert "Your recovery plan has ended. Your care team ended it." in text_of(
            patient_client.get(path)
        ), path
    today = text_of(patient_client.get("/me/"))
    assert "Nothing to do: your plan is ended." in today
    assert "Your plan has ended, so this page does not list visits." in today
    assert "First follow-up visit" not in today
    assert "Your plan has ended, so this page does not list visits." in text_of(
        patient_client.get("/me/progress")
    )
    # No after-hours number: the daytime one, saying the office is closed.
    assert "Our office is closed now. Call your care team: 555-0142." in today


def test_an_active_plan_shows_no_paused_note(patient_client):
    page = text_of(patient_client.get("/me/"))
    assert "Your recovery plan is" not in page
    assert "Mark as done" in page
    assert "First follow-up visit" in page


def test_what_to_do_comes_before_the_paused_note_on_urgent_pages(
    app, patient_client, paused, session
):
    response = post_form(patient_client, "/me/warning-signs", data=answers(app, "chest_pain"))
    html = patient_client.get(response.location).get_data(as_text=True)
    main = html[html.index('<main id="main">') :]
    assert main.index("<h1>Call 911 now</h1>") < main.index('id="plan-status"')
    response = post_form(patient_client, "/me/pain", data={"score": "8"})
    html = patient_client.get(response.location).get_data(as_text=True)
    main = html[html.index('<main id="main">') :]
    assert main.index("<h1>Your pain is severe</h1>") < main.index('id="plan-status"')


def test_progress_does_not_ask_for_check_ins_while_paused(patient_client, paused):
    page = text_of(patient_client.get("/me/progress"))
    assert "Your plan is paused, so you do not need to check in now." in page
