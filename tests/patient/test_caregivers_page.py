"""The patient's "People helping me" page (/me/caregivers): list, add (the link shown once),
remove (with a confirmation). Only the patient may manage caregivers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import add_caregiver_fixture, open_link  # noqa: F401
from tests.patient.conftest import count, csrf_token, post_form, text_of
from tracker.core.models import AuditEvent, Caregiver, PatientLinkToken

PAGE = "/me/caregivers/"
GOOD = {
    "name": "Ana Ruiz",
    "relation": "daughter",
    "email": "ana@example.org",
    "phone": "",
    "scope": "act",
    "reminder": "no",
    "language": "es",
}


def _add(client, **fields):
    return post_form(client, PAGE, data={**GOOD, **fields})


def test_today_links_to_the_page_for_the_patient_only(patient_client):
    today = patient_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/caregivers/"' in today
    assert "See or change who helps me" in text_of(patient_client.get("/me/"))


def test_the_page_starts_empty(patient_client):
    page = text_of(patient_client.get(PAGE))
    assert "People helping me" in page
    assert "No one yet." in page


def test_adding_someone_shows_their_link_once(app, patient_client, session, enrolled):
    response = _add(patient_client)
    assert response.status_code == 200
    page = text_of(response)
    assert "The personal link for Ana Ruiz" in page
    assert "Send this link only to Ana Ruiz." in page
    assert "You will not see this link again." in page
    link = re.search(r'value="(http[^"]+/p/[^"]+)"', response.get_data(as_text=True)).group(1)
    caregiver = session.scalars(select(Caregiver)).one()
    assert (caregiver.name, caregiver.relation, caregiver.scope, caregiver.language) == (
        "Ana Ruiz",
        "daughter",
        "act",
        "es",
    )
    assert (caregiver.consent, caregiver.added_by_user_id) == ("patient", None)
    assert caregiver.reminder_channel is None
    # Listed, and the link never shown again.
    again = patient_client.get(PAGE)
    assert "Ana Ruiz (daughter)" in text_of(again)
    assert "Can look at your pages and record things for you." in text_of(again)
    assert link not in again.get_data(as_text=True)
    token = session.scalars(
        select(PatientLinkToken).where(PatientLinkToken.caregiver_id == caregiver.id)
    ).one()
    assert token.token_hash not in response.get_data(as_text=True)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "caregiver.added")).one()
    assert (event.actor_type, event.actor_patient_id) == ("patient", enrolled.patient.id)
    # The link works: it signs in Ana, in Spanish.
    other = app.test_client()
    assert other.get(link.split("localhost", 1)[-1]).status_code == 302
    assert '<html lang="es">' in other.get("/me/").get_data(as_text=True)


def test_a_daily_reminder_takes_the_patients_channel(patient_client, session):
    assert _add(patient_client, reminder="yes").status_code == 200
    assert session.scalars(select(Caregiver.reminder_channel)).one() == "log"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "", "phone": ""}, "Please give their email or their mobile phone number"),
        ({"name": "x" * 201}, "Please write their name (up to 200 letters)."),
        ({"name": ""}, "Please write their name (up to 200 letters)."),
        ({"relation": "y" * 41}, "Please write how they are related to you"),
        ({"scope": "admin"}, "Please choose what they may do."),
        ({"email": "ana at home"}, "Please check the email."),
        ({"phone": "call me"}, "Please check the phone number."),
        ({"language": "xx"}, "Please choose a language from the list."),
        ({"reminder": "maybe"}, "Please choose Yes or No for the daily reminder."),
    ],
)
def test_bad_input_shows_a_clear_error_and_stores_nothing(patient_client, session, fields, message):
    response = _add(patient_client, **fields)
    assert response.status_code == 400
    page = text_of(response)
    assert "This person was not added. Please check the form." in page
    assert message in page
    assert "/p/" not in response.get_data(as_text=True)
    assert count(session, Caregiver) == count(session, AuditEvent) - 1 == 0  # the sign-in's


def test_removing_asks_first_then_ends_their_access(
    app, patient_client, session, enrolled, add_caregiver
):
    caregiver, raw = add_caregiver(enrolled)
    their_client = open_link(app.test_client(), raw)
    assert their_client.get("/me/").status_code == 200
    confirm = patient_client.get(f"{PAGE}{caregiver.id}/remove")
    assert "Remove Ana Ruiz?" in text_of(confirm)
    assert (
        count(session, Caregiver) == 1 and session.get(Caregiver, caregiver.id).removed_at is None
    )
    response = post_form(patient_client, f"{PAGE}{caregiver.id}/remove")
    assert response.status_code == 302
    page = text_of(patient_client.get(PAGE))
    assert "Ana Ruiz was removed. Their link no longer works." in page
    assert "No one yet." in page
    session.expire_all()
    assert session.get(Caregiver, caregiver.id).removed_at == NOW
    assert their_client.get("/me/").status_code == 401
    assert app.test_client().get(f"/p/{raw}").status_code == 404
    # Removing again: they are no longer listed, so a 404.
    token = csrf_token(patient_client.get(PAGE).get_data(as_text=True))
    again = patient_client.post(f"{PAGE}{caregiver.id}/remove", data={"csrf_token": token})
    assert again.status_code == 404


def test_a_patient_cannot_remove_another_patients_caregiver(
    patient_client, session, enroll_patient, add_caregiver
):
    other = enroll_patient(name="Other Person")
    theirs, _raw = add_caregiver(other)
    assert patient_client.get(f"{PAGE}{theirs.id}/remove").status_code == 404
    token = csrf_token(patient_client.get(PAGE).get_data(as_text=True))
    response = patient_client.post(f"{PAGE}{theirs.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Caregiver, theirs.id).removed_at is None


@pytest.mark.parametrize("scope", ["view", "act"])
def test_a_caregiver_cannot_manage_caregivers(client, session, enrolled, add_caregiver, scope):
    me, raw = add_caregiver(enrolled, scope=scope)
    other, _ = add_caregiver(enrolled, name="Luis Ruiz", relation="son")
    open_link(client, raw)
    assert "See or change who helps me" not in text_of(client.get("/me/"))
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "Only Pat Example can add or remove the people who help them." in text_of(response)
    token = csrf_token(client.get("/me/pain").get_data(as_text=True))
    assert client.post(PAGE, data={**GOOD, "csrf_token": token}).status_code == 403
    for target in (me.id, other.id):
        url = f"{PAGE}{target}/remove"
        assert client.post(url, data={"csrf_token": token}).status_code == 403
    session.expire_all()
    assert count(session, Caregiver) == 2
    assert all(c.removed_at is None for c in session.scalars(select(Caregiver)))


def test_signed_out_visitors_get_the_signed_out_page(client, enrolled):
    assert client.get(PAGE).status_code == 401
    assert client.post(PAGE, data=GOOD).status_code == 401
