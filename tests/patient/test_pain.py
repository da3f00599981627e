"""The pain log: 0-10 with words at the anchors; bad input is refused and nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, post_form, text_of
from tracker.core.models import PainEntry


def test_it_shows_the_scale_with_words_at_the_anchors(patient_client):
    response = patient_client.get("/me/pain")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for n in range(11):
        assert f'id="score-{n}" value="{n}"' in html
    page = text_of(response)
    assert "0 No pain" in page
    assert "10 Worst pain you can imagine" in page
    assert "At rest" in page and "With activity" in page
    assert "<legend>How much pain do you have right now?</legend>" in html


def test_it_saves_a_score_with_context_and_note(patient_client, session, enrolled):
    response = post_form(
        patient_client,
        "/me/pain",
        data={"score": "6", "context": "activity", "note": " After walk "},
    )
    assert response.status_code == 302
    assert response.location.endswith("/me/")
    entry = session.scalar(select(PainEntry))
    assert (entry.plan_id, entry.score, entry.context, entry.note) == (
        enrolled.plan.id,
        6,
        "activity",
        "After walk",
    )
    assert entry.local_day == date(2026, 11, 21)
    assert entry.recorded_at == NOW
    today = text_of(patient_client.get("/me/"))
    assert "Thank you. Your pain score of 6 is saved." in today
    assert "You have not logged your pain score today" not in today


def test_a_blank_context_is_stored_as_not_said(patient_client, session):
    response = post_form(patient_client, "/me/pain", data={"score": "3", "context": "  "})
    assert response.status_code == 302
    assert session.scalar(select(PainEntry)).context is None


def test_it_allows_several_scores_a_day_and_lists_them(patient_client, session):
    post_form(patient_client, "/me/pain", data={"score": "0"})
    post_form(patient_client, "/me/pain", data={"score": "10", "context": "rest"})
    assert sorted(e.score for e in session.scalars(select(PainEntry))) == [0, 10]
    page = text_of(patient_client.get("/me/pain"))
    assert "10:00 am: 0 out of 10" in page
    assert "10:00 am: 10 out of 10, at rest" in page


def test_a_note_is_shown_as_text_never_as_markup(patient_client, session):
    post_form(patient_client, "/me/pain", data={"score": "2", "note": "<script>alert(1)</script>"})
    assert session.scalar(select(PainEntry)).note == "<script>alert(1)</script>"
    html = patient_client.get("/me/pain").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score": "11"}, "Choose a number from 0 (no pain) to 10"),
        ({"score": "-1"}, "Choose a number from 0 (no pain) to 10"),
        ({"score": "7.5"}, "Choose a number from 0 (no pain) to 10"),
        ({"score": "seven"}, "Choose a number from 0 (no pain) to 10"),
        ({"score": ""}, "Choose a number from 0 (no pain) to 10"),
        ({}, "Choose a number from 0 (no pain) to 10"),
        ({"score": "05"}, "Choose a number from 0 (no pain) to 10"),
        ({"score": "5", "context": "sleeping"}, "Choose “At rest”, “With activity”"),
        ({"score": "5", "note": "x" * 501}, "Please keep your note to 500 characters or fewer"),
    ],
    ids=["11", "-1", "7.5", "seven", "empty", "missing", "leading-zero", "context", "note-501"],
)
def test_it_refuses_bad_input_on_the_same_page(patient_client, session, data, message):
    response = post_form(patient_client, "/me/pain", data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert "Your pain score was not saved." in page
    assert message in page
    assert "Log your pain" in page
    assert count(session, PainEntry) == 0


def test_the_error_is_tied_to_its_field(patient_client):
    html = post_form(patient_client, "/me/pain", data={"score": "11"}).get_data(as_text=True)
    assert 'aria-describedby="score-error"' in html
    assert 'id="score-error"' in html
    assert 'role="alert"' in html


def test_it_keeps_what_was_typed_when_refusing(patient_client):
    html = post_form(
        patient_client, "/me/pain", data={"score": "4", "context": "rest", "note": "y" * 501}
    ).get_data(as_text=True)
    assert 'id="score-4" value="4" checked' in html
    assert 'id="context-rest" value="rest" checked' in html
    assert "y" * 501 in html


def test_a_500_character_note_is_accepted(patient_client, session):
    response = post_form(patient_client, "/me/pain", data={"score": "3", "note": "n" * 500})
    assert response.status_code == 302
    assert len(session.scalar(select(PainEntry)).note) == 500


def test_it_refuses_a_100_kb_note_with_a_clear_message(patient_client, session):
    response = post_form(patient_client, "/me/pain", data={"score": "3", "note": "n" * 100_000})
    assert response.status_code == 413
    page = text_of(response)
    assert "nothing was saved" in page
    assert "500 characters or fewer" in page
    assert count(session, PainEntry) == 0


def test_it_refuses_a_score_without_the_csrf_token(patient_client, session):
    response = patient_client.post("/me/pain", data={"score": "3"})
    assert response.status_code == 400
    page = text_of(response)
    assert "nothing was saved" in page
    assert "Log your pain" in page
    assert count(session, PainEntry) == 0


def test_it_refuses_a_forged_csrf_token(patient_client, session):
    response = patient_client.post("/me/pain", data={"score": "3", "csrf_token": "forged"})
    assert response.status_code == 400
    assert count(session, PainEntry) == 0


def test_it_stores_the_day_in_the_patients_own_time_zone(app, enroll_patient, client, session):
    from tests.patient.conftest import sign_in

    # 15:00 UTC on 21 November is already 22 November in Tokyo.
    sign_in(client, enroll_patient(timezone="Asia/Tokyo", procedure_date="2026-11-20"))
    post_form(client, "/me/pain", data={"score": "4"})
    assert session.scalar(select(PainEntry)).local_day == date(2026, 11, 22)
