"""After hours (SPEC section 6): the warning-signs result tells the patient the number that
answers now, and what it says about who knows is true at that moment: the office closed,
the on-call nurse being paged or paged, someone who saw it, or the office open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import post_form, text_of
from tracker.alerts import rules as alerts
from tracker.core.models import Alert, OnCallContact, Page, User

# NOW is Saturday 10:00 am in New York: the clinic (Mon-Fri 8-5) is closed.
FRIDAY_10_AM = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def answers(app, *yes):
    from tracker.plans.warning_signs import load_signs, signs_path

    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    return {f"q_{s.key}": "yes" if s.key in yes else "no" for s in signs}


@pytest.fixture
def after_hours(session, clinic):
    clinic.after_hours_phone = "555-0199"
    session.commit()
    return clinic


@pytest.fixture
def on_call(session, after_hours):
    contact = OnCallContact(
        clinic_id=after_hours.id,
        position=1,
        name="Night nurse",
        channel="log",
        address="night",
        active=True,
        created_at=NOW,
    )
    session.add(contact)
    session.commit()
    return contact


def report(app, client, *yes):
    response = post_form(client, "/me/warning-signs", data=answers(app, *yes))
    assert response.status_code == 302
    return response.location


def test_it_gives_the_after_hours_number_first_and_says_when_the_team_will_see_it(
    app, patient_client, after_hours
):
    result = patient_client.get(report(app, patient_client, "fever"))
    html = result.get_data(as_text=True)
    page = text_of(result)
    assert "Call your care team today" in page
    assert "Our office is closed now. Call our after-hours number: Call 555-0199" in page
    assert 'class="button urgent-button" href="tel:5550199"' in html
    assert "In office hours, call 555-0142." in page
    assert (
        "Our office is closed. Your care team will see this when they open on Monday at "
        "8:00 am. If you need help before then, call our after-hours number: 555-0199."
    ) in page
    assert "has been told" not in page


def test_it_says_the_on_call_nurse_is_being_paged_only_once_a_page_is_queued(
    app, patient_client, on_call, session
):
    location = report(app, patient_client, "fever")
    assert session.scalar(select(Page)).status == "pending"
    page = text_of(patient_client.get(location))
    assert "We are paging the on-call nurse now." in page
    assert "If you do not hear back soon, call our after-hours number: 555-0199." in page


def test_it_says_when_the_on_call_nurse_was_paged(app, patient_client, on_call, session):
    location = report(app, patient_client, "fever")
    sent = session.scalar(select(Page))
    sent.status, sent.sent_at = "sent", NOW + timedelta(minutes=1)
    session.commit()
    page = text_of(patient_client.get(location))
    assert "The on-call nurse was paged at 10:01 am." in page


def test_it_names_who_saw_it_once_acknowledged(app, patient_client, on_call, session, clinic):
    location = report(app, patient_client, "fever")
    nurse = User(
        clinic_id=clinic.id,
        email="nora@example.org",
        name="Nora Nurse",
        password_hash="x",
        role="coordinator",
        created_at=NOW,
    )
    session.add(nurse)
    session.flush()
    alert = session.scalar(select(Alert))
    alerts.acknowledge(session, alert, user_id=nurse.id, note=None, now=NOW + timedelta(minutes=5))
    session.commit()
    page = text_of(patient_client.get(location))
    assert "Nora from your care team saw this at 10:05 am." in page
    assert "paging" not in page


def test_a_911_answer_keeps_911_first_and_then_says_who_knows(app, patient_client, after_hours):
    result = patient_client.get(report(app, patient_client, "chest_pain"))
    html = result.get_data(as_text=True)
    main = html[html.index('<main id="main">') :]
    assert main.index("<h1>Call 911 now</h1>") < main.index('id="who-knows"')
    page = text_of(result)
    assert "Our office is closed. Your care team will see this when they open on Monday" in page
    assert "has been told" not in page


def test_in_office_hours_it_gives_the_daytime_number_and_says_the_team_can_see_it(
    app, patient_client, after_hours
):
    app.config["FIXED_NOW"] = FRIDAY_10_AM
    result = patient_client.get(report(app, patient_client, "fever"))
    page = text_of(result)
    assert 'class="button urgent-button" href="tel:5550142"' in result.get_data(as_text=True)
    assert "Our office is closed" not in page
    assert (
        "Your care team can see this on their list now. They are open until 5:00 pm. "
        "If you do not hear from them soon, call 555-0142."
    ) in page
    assert "Call your care team: 555-0142. After hours, call 555-0199." in page


def test_without_an_after_hours_number_it_gives_the_daytime_one_and_says_so(app, patient_client):
    page = text_of(patient_client.get(report(app, patient_client, "fever")))
    assert "Call 555-0142" in page
    assert "If you need help before then, call 555-0142." in page
    assert "after-hours number" not in page
