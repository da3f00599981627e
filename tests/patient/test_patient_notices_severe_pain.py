"""A severe pain score does not end at "thank you, saved": the patient is shown what to do
now, whom to call (the after-hours number when the clinic is closed) and who knows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, post_form, text_of
from tracker.core.models import Alert, OnCallContact, Page, PainEntry
from tracker.plans.severe_pain import guidance_path, load_guidance
from tracker.plans.templates import TemplateError


@pytest.fixture
def after_hours(session, clinic):
    clinic.after_hours_phone = "555-0199"
    session.commit()
    return clinic


def test_it_shows_what_to_do_and_whom_to_call_after_a_severe_score(
    patient_client, after_hours, session
):
    response = post_form(patient_client, "/me/pain", data={"score": "8"})
    entry = session.scalar(select(PainEntry))
    assert response.location.endswith(f"/me/pain/{entry.id}/severe")
    result = patient_client.get(response.location)
    page = text_of(result)
    assert "Thank you. Your pain score of 8 is saved." in page
    assert "Your pain is severe" in page
    assert "You gave your pain a score of 8 out of 10 at 10:00 am." in page
    assert "Please call your care team now. Tell them your pain score." in page
    assert "Our office is closed now. Call our after-hours number: Call 555-0199" in page
    assert "In office hours, call 555-0142." in page
    assert "Call 911 now if You have chest pain." in page
    assert "Your legs are newly weak." in page
    assert (
        "Our office is closed. Your care team will see this when they open on Monday at 8:00 am."
    ) in page
    assert session.scalar(select(Alert)).rule == "severe_pain"


def test_a_score_below_the_threshold_still_goes_back_to_today(patient_client, session):
    response = post_form(patient_client, "/me/pain", data={"score": "6"})
    assert response.location.endswith("/me/")
    assert count(session, Alert) == 0


def test_it_pages_the_on_call_nurse_when_the_clinic_pages_for_high_alerts(
    patient_client, after_hours, session
):
    after_hours.page_high_alerts = True
    session.add(
        OnCallContact(
            clinic_id=after_hours.id,
            position=1,
            name="Night nurse",
            channel="log",
            address="night",
            active=True,
            created_at=NOW,
        )
    )
    session.commit()
    response = post_form(patient_client, "/me/pain", data={"score": "9"})
    assert count(session, Page) == 1
    page = text_of(patient_client.get(response.location))
    assert "We are paging the on-call nurse now." in page


def test_the_clinics_own_text_replaces_the_default_steps(patient_client, after_hours, session):
    after_hours.severe_pain_guidance = "Ring the ward on 555-0100.\nSay you had kyphoplasty."
    after_hours.severe_pain_guidance_source = "Dr Rivera, 2026"
    session.commit()
    response = post_form(patient_client, "/me/pain", data={"score": "10"})
    page = text_of(patient_client.get(response.location))
    assert "Ring the ward on 555-0100. Say you had kyphoplasty." in page
    assert "Tell them your pain score." not in page
    assert "Call 911 now if You have chest pain." in page


def test_a_corrected_score_that_is_severe_shows_the_guidance_too(patient_client, session):
    post_form(patient_client, "/me/pain", data={"score": "3"})
    original = session.scalar(select(PainEntry))
    fix = f"/me/pain/{original.id}/fix"
    response = post_form(patient_client, fix, data={"score": "8"})
    replacement = session.scalar(select(PainEntry).where(PainEntry.supersedes_id == original.id))
    assert response.location.endswith(f"/me/pain/{replacement.id}/severe")
    assert "Your pain is severe" in text_of(patient_client.get(response.location))
    # Corrected again, to a mild score: the old severe page is gone.
    post_form(patient_client, f"/me/pain/{replacement.id}/fix", data={"score": "2"})
    assert patient_client.get(response.location).location.endswith("/me/pain")


def test_it_only_shows_the_patients_own_severe_scores(app, patient_client, enroll_patient, session):
    other = enroll_patient(name="Someone Else")
    theirs = PainEntry(plan_id=other.plan.id, score=9, local_day=NOW.date(), recorded_at=NOW)
    session.add(theirs)
    session.commit()
    assert patient_client.get(f"/me/pain/{theirs.id}/severe").status_code == 404
    assert patient_client.get("/me/pain/999999/severe").status_code == 404
    post_form(patient_client, "/me/pain", data={"score": "2"})
    mild = session.scalar(select(PainEntry).where(PainEntry.score == 2))
    below = patient_client.get(f"/me/pain/{mild.id}/severe")
    assert below.status_code == 302 and below.location.endswith("/me/pain")


def test_the_default_guidance_is_plain_and_says_it_needs_a_clinicians_review(app):
    guidance = load_guidance(guidance_path(app.config["SCHEDULES_DIR"]))
    assert "SPEC section 2" in guidance.source and "shared/seeds" in guidance.source
    assert "clinician" in guidance.clinician_review
    for sentence in (*guidance.steps, *guidance.call_911):
        # Short sentences of short words (a rough grade-6 guard).
        for part in sentence.rstrip(".").split(". "):
            assert len(part.split()) <= 12, part


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "other"}, "field 'id': must be 'severe_pain'"),
        ({"steps": []}, "field 'steps': must be a non-empty list of texts"),
        ({"steps": ["ok", 3]}, "field 'steps': must be a non-empty text"),
        ({"source": ""}, "field 'source': must be a non-empty text"),
        ({"clinician_review": None}, "field 'clinician_review': must be a non-empty text"),
    ],
)
def test_a_broken_guidance_file_is_refused_naming_the_field(app, tmp_path, change, message):
    default = Path(guidance_path(app.config["SCHEDULES_DIR"]))
    raw = yaml.safe_load(default.read_text(encoding="utf-8"))
    raw.update(change)
    path = tmp_path / "severe_pain.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        load_guidance(str(path))


def test_a_file_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "severe_pain.yaml"
    path.write_text("steps: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match="is not valid YAML"):
        load_guidance(str(path))


def test_a_time_of_day_in_office_hours_gives_the_daytime_number(app, patient_client, after_hours):
    app.config["FIXED_NOW"] = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 10:00 am
    response = post_form(patient_client, "/me/pain", data={"score": "7"})
    page = text_of(patient_client.get(response.location))
    assert "Call 555-0142" in page
    assert "Our office is closed" not in page
    assert "Your care team can see this on their list now. They are open until 5:00 pm." in page
