"""The warning-signs check: every answer stored; red flags say what to do and alert the team."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.patient.conftest import count, post_form, sign_in, text_of
from tracker.alerts import rules as alerts
from tracker.core.models import Alert, SymptomReport
from tracker.plans.warning_signs import load_signs, signs_path


@pytest.fixture
def signs(app):
    return load_signs(signs_path(app.config["SCHEDULES_DIR"]))


def answers(signs, *yes):
    return {f"q_{s.key}": "yes" if s.key in yes else "no" for s in signs}


def test_it_asks_every_question_from_the_checks_file(patient_client, signs):
    response = patient_client.get("/me/warning-signs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for sign in signs:
        assert f"<legend>{sign.question}</legend>" in html
        assert f'name="q_{sign.key}" id="q_{sign.key}-yes"' in html


def test_all_no_is_stored_and_thanked(patient_client, session, signs, enrolled):
    response = post_form(patient_client, "/me/warning-signs", data=answers(signs))
    assert response.status_code == 302
    report = session.scalar(select(SymptomReport))
    assert report.severity == "none"
    assert report.answers == {s.key: False for s in signs}
    assert report.local_day == date(2026, 11, 21)
    assert response.location.endswith(f"/me/warning-signs/{report.id}")
    page = text_of(patient_client.get(response.location))
    assert "Thank you" in page
    assert "Call 911" not in page
    assert count(session, Alert) == 0
    assert "Check for warning signs" in (today := text_of(patient_client.get("/me/")))
    assert "Done for today" in today


def test_a_911_answer_says_to_call_911_first_and_alerts_the_team(patient_client, session, signs):
    response = post_form(
        patient_client, "/me/warning-signs", data=answers(signs, "chest_pain", "fever")
    )
    result = patient_client.get(response.location)
    html = result.get_data(as_text=True)
    main = html[html.index('<main id="main">') :]
    # The instruction is the first thing in the page's main content, and its heading.
    assert main.index("<h1>Call 911 now</h1>") < main.index("Do you have chest pain right now?")
    assert "<title>Call 911 now — Recovery tracker</title>" in html
    assert 'href="tel:911"' in html
    assert 'role="alert"' in html
    page = text_of(result)
    assert "Since your last check, have you had a fever of 100.4 °F (38 °C) or higher? Yes" in page
    report = session.scalar(select(SymptomReport))
    assert report.severity == "call_911"
    alert = session.scalar(select(Alert))
    # A 911 sign makes the red flag critical, above "urgent" (SPEC section 6).
    assert (alert.rule, alert.urgency, alert.status) == (alerts.RED_FLAG, "critical", "open")
    assert "chest pain" in alert.summary and "fever" in alert.summary
    assert alert.detail["symptom_report_id"] == report.id


def test_a_call_team_answer_shows_the_clinic_number(patient_client, session, signs):
    response = post_form(patient_client, "/me/warning-signs", data=answers(signs, "needle_site"))
    result = patient_client.get(response.location)
    html = result.get_data(as_text=True)
    page = text_of(result)
    assert "Call your care team today" in page
    assert "Call 555-0142" in page
    assert 'href="tel:5550142"' in html
    assert "Call 911 now" not in page
    assert session.scalar(select(SymptomReport)).severity == "call_team"
    assert "needle site" in session.scalar(select(Alert)).summary


def test_a_second_red_flag_keeps_one_open_alert_and_stores_both_reports(
    patient_client, session, signs
):
    post_form(patient_client, "/me/warning-signs", data=answers(signs, "fever"))
    post_form(patient_client, "/me/warning-signs", data=answers(signs, "leg_weakness"))
    assert count(session, SymptomReport) == 2
    assert count(session, Alert) == 1


def test_an_unanswered_question_is_refused_and_nothing_stored(patient_client, session, signs):
    data = answers(signs)
    del data["q_leg_weakness"]
    data["q_fever"] = "maybe"
    response = post_form(patient_client, "/me/warning-signs", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "Please answer every question" in page
    legs = "Since your last check, have you had new weakness in your legs?"
    assert f"{legs} — Please answer yes or no." in page
    assert 'aria-describedby="q_fever-error"' in html
    assert 'id="q_chest_pain-no" value="no" checked' in html
    assert count(session, SymptomReport) == 0
    assert count(session, Alert) == 0


def test_it_refuses_answers_without_the_csrf_token(patient_client, session, signs):
    response = patient_client.post("/me/warning-signs", data=answers(signs, "chest_pain"))
    assert response.status_code == 400
    assert "nothing was saved" in text_of(response)
    assert count(session, SymptomReport) == 0
    assert count(session, Alert) == 0


def test_another_patients_report_is_not_found(
    patient_client, enroll_patient, session, signs, client
):
    post_form(patient_client, "/me/warning-signs", data=answers(signs, "chest_pain"))
    mine = session.scalar(select(SymptomReport))
    other = enroll_patient(name="Robin Other")
    sign_in(client, other)
    response = client.get(f"/me/warning-signs/{mine.id}")
    assert response.status_code == 404
    assert "chest pain" not in text_of(response)
    assert client.get("/me/warning-signs/999999").status_code == 404
