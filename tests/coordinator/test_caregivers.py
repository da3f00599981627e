"""The patient page's caregivers and language (care/caregivers.py): who they are and how to
call them, adding one with the patient's consent recorded, what they may do, a new link,
removing one (their sessions end at once), and the patient's language."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.coordinator.conftest import sign_in_as
from tests.patient.conftest import text_of
from tracker.care.audit_words import Names, sentence
from tracker.core.models import (
    AuditEvent,
    Caregiver,
    ContactLogEntry,
    Patient,
    PatientLinkToken,
    PatientSession,
)
from tracker.plans.caregivers import Actor, add_caregiver, issue_caregiver_link


def add_ana(session, patient, **fields) -> Caregiver:
    """Ana Ruiz, the patient's daughter, added by the patient on their own pages."""
    values = dict(
        name="Ana Ruiz",
        relation="daughter",
        email="ana@example.org",
        phone="+1 555 201 0142",
        scope="act",
        language="es",
        reminder_channel="webhook",
        consent="patient",
    )
    values.update(fields)
    caregiver = add_caregiver(session, patient, now=NOW, **values)
    session.commit()
    return caregiver


@pytest.fixture
def jo(enrolled):
    return enrolled(days_ago=5, name="Jo Sample")


def page_of(client, patient) -> str:
    response = client.get(f"/coordinator/patients/{patient.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


ADD_FORM = {
    "name": "Luis Ruiz",
    "relation": "son",
    "phone": "+1 555 201 0199",
    "email": "",
    "scope": "view",
    "language": "es",
    "reminder_channel": "",
    "consented": "yes",
    "consent_note": "Said yes on the phone",
}


def test_it_shows_each_caregiver_and_how_to_call_them(coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    page = page_of(coordinator_client, jo.patient)
    section = page.split('id="caregivers-section"', 1)[1].split("</section>", 1)[0]
    text = html.unescape(re.sub(r"<[^>]+>", " ", section))
    assert "Ana Ruiz" in text and "(daughter)" in text and "View and record" in text
    # The care team calls her from the page: a tel: link, also at the top of the page.
    assert '<a href="tel:+15552010142">Call Ana (daughter)</a>' in section
    assert page.count('href="tel:+15552010142"') == 2
    assert '<a href="mailto:ana@example.org">ana@example.org</a>' in section
    assert "By text message" in text and "Español" in text
    assert "Added by the patient on" in text
    assert f'id="caregiver-{ana.id}"' in section
    assert "Removed caregivers" not in text


def test_a_patient_without_caregivers_says_so(coordinator_client, jo):
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "No caregivers." in page
    assert "Caregivers (0)" in page


def test_it_adds_a_caregiver_with_the_consent_recorded_by_the_user(
    coordinator_client, coordinator, session, jo
):
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers", data=ADD_FORM
    )
    assert response.status_code == 302
    luis = session.scalars(select(Caregiver)).one()
    assert (luis.name, luis.relation) == ("Luis Ruiz", "son")
    assert (luis.scope, luis.language) == ("view", "es")
    assert (luis.consent, luis.added_by_user_id) == ("recorded", coordinator.id)
    assert luis.consent_note == "Said yes on the phone"
    assert response.headers["Location"].endswith(f"#caregiver-{luis.id}")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "caregiver.added")).one()
    assert (event.actor_type, event.actor_user_id) == ("user", coordinator.id)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "Luis Ruiz (son) added, with the patient's consent recorded." in page
    assert f"Consent recorded by {coordinator.name} on Nov 21" in page
    assert ": Said yes on the phone" in page
    assert "View only" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consented": ""}, "Tick “The patient agreed”"),
        ({"consented": "no"}, "nobody is added without it"),
        ({"consent_note": "  "}, "Say how the patient agreed"),
    ],
)
def test_without_the_patients_consent_nothing_is_added(
    coordinator_client, session, jo, changes, message
):
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers", data={**ADD_FORM, **changes}
    )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert message in text and "Nothing was changed" in text
    # The form keeps what was typed, and the section is open.
    assert 'value="Luis Ruiz"' in text
    assert '<details class="fold" id="caregivers" open>' in text
    assert count(session, Caregiver) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "caregiver.added")) is None


def test_every_problem_is_said_at_once(coordinator_client, session, jo):
    bad = {**ADD_FORM, "name": "", "phone": "", "email": "", "consented": "", "scope": "all"}
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers", data=bad
    )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    for message in (
        "Tick “The patient agreed”",
        "Enter their name",
        "Enter an email address or a mobile phone number",
        "Choose what they may do",
    ):
        assert message in text
    assert count(session, Caregiver) == 0


def test_a_text_reminder_needs_a_number_that_gets_texts(coordinator_client, session, jo):
    form = {**ADD_FORM, "phone": "", "email": "luis@example.org", "reminder_channel": "webhook"}
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers", data=form
    )
    assert response.status_code == 400
    assert "A text reminder needs a mobile phone number" in response.get_data(as_text=True)
    assert count(session, Caregiver) == 0


def test_it_changes_what_a_caregiver_may_do(coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    url = f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/scope"
    assert coordinator_client.post(url, data={"scope": "view"}).status_code == 302
    session.refresh(ana)
    assert ana.scope == "view"
    assert "Make Ana Ruiz view only" not in page_of(coordinator_client, jo.patient)
    assert coordinator_client.post(url, data={"scope": "everything"}).status_code == 400
    session.refresh(ana)
    assert ana.scope == "view"


def test_a_new_link_is_shown_once(coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/link"
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = re.search(r"<code>(http[^<]*/p/([^<]+))</code>", page)
    assert link and "It is shown only once" in " ".join(re.sub(r"</?strong>", "", page).split())
    assert "QR code of Ana Ruiz's personal link" in html.unescape(page)
    token = session.scalars(
        select(PatientLinkToken).where(PatientLinkToken.caregiver_id == ana.id)
    ).one()
    assert token.revoked_at is None
    assert link.group(2) not in page_of(coordinator_client, jo.patient)


def test_removing_a_caregiver_ends_their_sessions_at_once(
    app, coordinator_client, coordinator, session, jo
):
    ana = add_ana(session, jo.patient)
    raw = issue_caregiver_link(
        session, ana, jo.plan, actor=Actor.user(coordinator.id), now=NOW, grace_days=14
    )
    session.commit()
    caregiver_browser = app.test_client()
    assert caregiver_browser.get(f"/p/{raw}").status_code == 302
    assert caregiver_browser.get("/me/").status_code == 200

    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/remove"
    )
    assert response.status_code == 302
    assert caregiver_browser.get("/me/").status_code == 401
    assert app.test_client().get(f"/p/{raw}").status_code != 302  # the link is dead too
    row = session.scalars(select(PatientSession).where(PatientSession.caregiver_id == ana.id)).one()
    assert row.ended_at == NOW
    session.refresh(ana)
    assert (ana.removed_at, ana.removed_by_user_id) == (NOW, coordinator.id)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "Ana Ruiz (daughter) removed: their link no longer works" in page
    assert "Removed caregivers" in page
    assert f"Ana Ruiz (daughter): removed Nov 21, 10:00 AM EST by {coordinator.name}" in page
    assert "Call Ana (daughter)" not in page
    # Removing again changes nothing.
    again = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/remove"
    )
    assert again.status_code == 302
    removed = session.scalars(select(AuditEvent).where(AuditEvent.action == "caregiver.removed"))
    assert len(removed.all()) == 1


def test_a_removed_caregiver_gets_no_new_link(coordinator_client, coordinator, session, jo):
    ana = add_ana(session, jo.patient)
    coordinator_client.post(f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/remove")
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/link"
    )
    assert response.status_code == 409
    assert "This caregiver was removed." in response.get_data(as_text=True)
    assert count(session, PatientLinkToken) == 1  # the patient's own, from enrolment


CAREGIVER_ROUTES = [
    ("post", "/coordinator/patients/{patient}/caregivers"),
    ("post", "/coordinator/patients/{patient}/caregivers/{caregiver}/scope"),
    ("post", "/coordinator/patients/{patient}/caregivers/{caregiver}/link"),
    ("post", "/coordinator/patients/{patient}/caregivers/{caregiver}/remove"),
    ("post", "/coordinator/patients/{patient}/language"),
]


@pytest.mark.parametrize(("method", "route"), CAREGIVER_ROUTES)
def test_a_coordinator_of_another_clinic_gets_404(
    app, session, make_user, other_clinic, jo, method, route
):
    ana = add_ana(session, jo.patient)
    outsider = sign_in_as(app.test_client(), make_user(other_clinic))
    url = route.format(patient=jo.patient.id, caregiver=ana.id)
    data = {**ADD_FORM, "scope": "view", "language": "es"}
    assert getattr(outsider, method)(url, data=data).status_code == 404
    session.refresh(ana)
    session.refresh(jo.patient)
    assert (ana.scope, ana.removed_at, jo.patient.language) == ("act", None, "en")
    assert count(session, Caregiver) == 1
    assert count(session, PatientLinkToken) == 1


@pytest.mark.parametrize("action", ["scope", "link", "remove"])
def test_another_patients_caregiver_is_a_404(coordinator_client, session, enrolled, jo, action):
    other = enrolled(days_ago=3, name="Sam Other")
    ana = add_ana(session, other.patient)
    url = f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/{action}"
    assert coordinator_client.post(url, data={"scope": "view"}).status_code == 404
    session.refresh(ana)
    assert (ana.scope, ana.removed_at) == ("act", None)


def test_signed_out_the_routes_go_to_sign_in(client, session, jo):
    ana = add_ana(session, jo.patient)
    for _, route in CAREGIVER_ROUTES:
        response = client.post(route.format(patient=jo.patient.id, caregiver=ana.id))
        assert response.status_code in (302, 401)
        assert "/coordinator/login" in response.headers.get("Location", "/coordinator/login")
    assert count(session, Caregiver) == 1


# --- the patient's language ---------------------------------------------------------------


def test_it_changes_the_patients_language_audited(coordinator_client, coordinator, session, jo):
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "Language · English" in page
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/language", data={"language": "es"}
    )
    assert response.status_code == 302
    session.refresh(jo.patient)
    assert jo.patient.language == "es"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.language")).one()
    assert event.detail == {"from": "en", "to": "es"} and event.actor_user_id == coordinator.id
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "pages, reminders and texts are now in Español" in page
    assert (
        sentence(event, Names(users={coordinator.id: "Casey"}, patients={jo.patient.id: "Jo"}))
        == "Casey changed Jo's language to Spanish."
    )


@pytest.mark.parametrize("value", ["", "fr", "es; drop table"])
def test_a_language_it_does_not_speak_is_refused(coordinator_client, session, jo, value):
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/language", data={"language": value}
    )
    assert response.status_code == 400
    assert "Choose English or Español." in response.get_data(as_text=True)
    session.refresh(jo.patient)
    assert jo.patient.language == "en"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.language")) is None


# --- a call with a caregiver, in the contact log -----------------------------------------


def test_the_contact_log_says_which_caregiver_was_reached(coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{jo.patient.id}"))
    assert "Who was the call with?" in page and "The patient" in page
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/contacts",
        data={
            "back": "patient",
            "outcome": "spoke",
            "with": f"caregiver-{ana.id}",
            "note": "Mum is walking more.",
        },
    )
    assert response.status_code == 302
    entry = session.scalars(select(ContactLogEntry)).one()
    assert entry.note == "With Ana Ruiz (daughter): Mum is walking more."
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.log")).one()
    assert event.detail["caregiver_id"] == ana.id
    names = Names(
        users={event.actor_user_id: "Casey"},
        patients={jo.patient.id: "Jo Sample"},
        caregivers={ana.id: ("Ana Ruiz", "daughter")},
    )
    assert sentence(event, names) == (
        "Casey logged a contact with Ana Ruiz (daughter), Jo Sample's caregiver: "
        "spoke with patient."
    )


def test_a_call_with_the_patient_has_no_caregiver_in_its_note(coordinator_client, session, jo):
    add_ana(session, jo.patient)
    coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/contacts",
        data={"back": "patient", "outcome": "no_answer", "with": "patient"},
    )
    entry = session.scalars(select(ContactLogEntry)).one()
    assert entry.note is None


@pytest.mark.parametrize("who", ["caregiver-999", "caregiver-x", "somebody"])
def test_a_call_with_someone_not_listed_is_refused(coordinator_client, session, enrolled, jo, who):
    other = enrolled(days_ago=3, name="Sam Other")
    stranger = add_ana(session, other.patient)
    who = who.replace("999", str(stranger.id))  # another patient's caregiver
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/contacts",
        data={"back": "patient", "outcome": "spoke", "with": who},
    )
    assert response.status_code == 400
    assert "Choose who the call was with" in response.get_data(as_text=True)
    assert count(session, ContactLogEntry) == 0


def test_a_removed_caregiver_cannot_be_chosen_for_a_call(coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    coordinator_client.post(f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/remove")
    assert "Who was the call with?" not in page_of(coordinator_client, jo.patient)
    response = coordinator_client.post(
        f"/coordinator/patients/{jo.patient.id}/contacts",
        data={"back": "patient", "outcome": "spoke", "with": f"caregiver-{ana.id}"},
    )
    assert response.status_code == 400


# --- enrolment: the patient's language ----------------------------------------------------

ENROL = {
    "name": "Rosa Díaz",
    "procedure": "kyphoplasty",
    "procedure_date": "2026-11-20",
    "levels": "",
    "timezone": "America/New_York",
    "reminder_time": "09:00",
    "email": "",
    "phone": "",
}


def test_enrolment_stores_the_chosen_language(coordinator_client, session):
    form = text_of(coordinator_client.get("/coordinator/enrol"))
    assert "Patient's language" in form and "Español" in form
    response = coordinator_client.post("/coordinator/enrol", data={**ENROL, "language": "es"})
    assert response.status_code == 200
    patient = session.scalars(select(Patient)).one()
    assert patient.language == "es"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.enrol")).one()
    assert event.detail["language"] == "es"


def test_enrolment_without_a_choice_is_in_english(coordinator_client, session):
    assert coordinator_client.post("/coordinator/enrol", data=ENROL).status_code == 200
    assert session.scalars(select(Patient)).one().language == "en"


def test_enrolment_refuses_a_language_it_does_not_speak(coordinator_client, session):
    response = coordinator_client.post("/coordinator/enrol", data={**ENROL, "language": "fr"})
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert '<p class="field-error" id="language-error">Choose the language' in page
    assert '<a href="#language">' in page
    assert count(session, Patient) == 0


# --- the audit log in words --------------------------------------------------------------


def test_the_audit_log_names_caregivers(session, jo, coordinator):
    ana = add_ana(session, jo.patient)
    names = Names(
        users={coordinator.id: "Casey"},
        patients={jo.patient.id: "Jo Sample"},
        caregivers={ana.id: ("Ana Ruiz", "daughter")},
    )
    added = session.scalars(select(AuditEvent).where(AuditEvent.action == "caregiver.added")).one()
    assert sentence(added, names) == "Jo Sample added Ana Ruiz (daughter) as a caregiver."
    by_ana = AuditEvent(
        at=NOW,
        action="patient.pain_corrected",
        actor_type="caregiver",
        actor_caregiver_id=ana.id,
        patient_id=jo.patient.id,
        detail={},
    )
    assert sentence(by_ana, names) == "Ana Ruiz (Jo Sample's daughter) corrected a pain score."
    assert sentence(by_ana, Names()) == "A caregiver corrected a pain score."
    opioid = AuditEvent(
        at=NOW,
        action="patient.opioid_check_changed",
        actor_type="caregiver",
        actor_caregiver_id=ana.id,
        patient_id=jo.patient.id,
        detail={},
    )
    assert sentence(opioid, names) == (
        "Ana Ruiz (Jo Sample's daughter) changed the answer about opioid pain medicine."
    )
    for action, words in [
        ("caregiver.removed", "Casey removed Ana Ruiz (daughter) as Jo Sample's caregiver."),
        (
            "caregiver.link_issued",
            "Casey issued a new personal link for Ana Ruiz (daughter), Jo Sample's caregiver.",
        ),
    ]:
        event = AuditEvent(
            at=NOW,
            action=action,
            actor_type="user",
            actor_user_id=coordinator.id,
            patient_id=jo.patient.id,
            detail={"caregiver_id": ana.id},
        )
        assert sentence(event, names) == words
    scope = AuditEvent(
        at=NOW,
        action="caregiver.scope_changed",
        actor_type="user",
        actor_user_id=coordinator.id,
        patient_id=jo.patient.id,
        detail={"caregiver_id": ana.id, "from": "act", "to": "view"},
    )
    assert sentence(scope, names) == (
        "Casey changed what Ana Ruiz (daughter), Jo Sample's caregiver, may do: view only."
    )


def test_the_audit_page_names_the_caregiver(admin_client, coordinator_client, session, jo):
    ana = add_ana(session, jo.patient)
    coordinator_client.post(f"/coordinator/patients/{jo.patient.id}/caregivers/{ana.id}/remove")
    page = text_of(admin_client.get("/coordinator/admin/audit"))
    assert "Jo Sample added Ana Ruiz (daughter) as a caregiver." in page
    assert "removed Ana Ruiz (daughter) as Jo Sample's caregiver." in page
