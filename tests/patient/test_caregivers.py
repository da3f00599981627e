"""Caregivers on the patient's side (SPEC section 6, "Caregivers"): their own link signs them
in as themselves, what they record carries their name, a "view" caregiver records nothing,
and removing one (or changing what they may do) ends their sessions at once.

The fixed clock is Saturday 2026-11-21 10:00 in New York (tests.conftest.NOW); the default
patient had the procedure the day before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import add_caregiver_fixture, open_link  # noqa: F401
from tests.patient.conftest import count, csrf_token, post_form, text_of
from tracker.core.models import (
    AuditEvent,
    Caregiver,
    CheckOff,
    OpioidCheck,
    PainEntry,
    PatientLinkToken,
    PatientSession,
    QuestionnaireResponse,
    SymptomReport,
)
from tracker.plans import caregivers as domain

TODAY = "2026-11-21"
ANSWERS = {"bed": "2", "walk": "1", "dress": "1", "chores": "2", "sit": "3", "sleep": "1"}


@pytest.fixture
def carer(add_caregiver, enrolled):
    return add_caregiver(enrolled)


@pytest.fixture
def carer_client(client, carer):
    return open_link(client, carer[1])


@pytest.fixture
def viewer(add_caregiver, enrolled):
    return add_caregiver(enrolled, name="Luis Ruiz", relation="son", scope="view")


@pytest.fixture
def viewer_client(client, viewer):
    return open_link(client, viewer[1])


def _rows(session, model):
    session.expire_all()
    return session.scalars(select(model).order_by(model.id)).all()


# --- signing in -------------------------------------------------------------------------------


def test_it_signs_in_the_caregiver_as_themselves(carer_client, carer, enrolled, session):
    caregiver, _raw = carer
    page = text_of(carer_client.get("/me/"))
    assert "Signed in as Ana Ruiz (daughter), helping Pat Example." in page
    row = session.scalars(select(PatientSession)).one()
    assert (row.patient_id, row.caregiver_id) == (enrolled.patient.id, caregiver.id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "caregiver.link_sign_in")
    ).one()
    assert (event.actor_type, event.actor_caregiver_id, event.actor_patient_id) == (
        "caregiver",
        caregiver.id,
        None,
    )
    assert event.patient_id == enrolled.patient.id


def test_the_patient_sees_no_banner(patient_client):
    assert "Signed in as" not in text_of(patient_client.get("/me/"))


def test_a_caregiver_gets_the_pages_in_their_language(client, add_caregiver, enrolled):
    _caregiver, raw = add_caregiver(enrolled, language="es")
    open_link(client, raw)
    html = client.get("/me/").get_data(as_text=True)
    assert '<html lang="es">' in html


def test_the_link_shows_once_and_only_its_hash_is_stored(carer, session):
    caregiver, raw = carer
    token = session.scalars(
        select(PatientLinkToken).where(PatientLinkToken.caregiver_id == caregiver.id)
    ).one()
    assert token.token_hash != raw and len(token.token_hash) == 64
    assert token.expires_at > NOW + timedelta(days=14)


# --- acting for the patient: attributed to the caregiver --------------------------------------


def test_a_pain_score_is_entered_by_the_caregiver(carer_client, carer, session):
    response = post_form(carer_client, "/me/pain", data={"score": "4", "context": "rest"})
    assert response.status_code == 302
    entry = _rows(session, PainEntry)[0]
    assert (entry.score, entry.entered_by_caregiver_id) == (4, carer[0].id)


def test_a_corrected_pain_score_is_entered_and_audited_as_the_caregiver(
    carer_client, carer, session
):
    post_form(carer_client, "/me/pain", data={"score": "4"})
    first = _rows(session, PainEntry)[0]
    page = f"/me/pain/{first.id}/fix"
    assert post_form(carer_client, page, data={"score": "3"}).status_code == 302
    fixed = _rows(session, PainEntry)[-1]
    assert (fixed.score, fixed.entered_by_caregiver_id) == (3, carer[0].id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.pain_corrected")
    ).one()
    assert (event.actor_type, event.actor_caregiver_id) == ("caregiver", carer[0].id)


def test_the_patients_own_score_has_no_caregiver(patient_client, session):
    post_form(patient_client, "/me/pain", data={"score": "4"})
    assert _rows(session, PainEntry)[0].entered_by_caregiver_id is None


def test_a_check_off_is_entered_by_the_caregiver(client, session, enroll_patient, add_caregiver):
    caregiver, raw = add_caregiver(enroll_patient(procedure_date="2026-11-19"))  # day 2: walk
    open_link(client, raw)
    response = post_form(client, "/me/", "/me/tasks/walk", data={"action": "done", "day": TODAY})
    assert response.status_code == 302
    assert _rows(session, CheckOff)[0].entered_by_caregiver_id == caregiver.id


def test_warning_sign_answers_are_entered_by_the_caregiver(carer_client, carer, session):
    html = carer_client.get("/me/warning-signs").get_data(as_text=True)
    fields = dict.fromkeys(_sign_fields(html), "no")
    fields["csrf_token"] = csrf_token(html)
    assert carer_client.post("/me/warning-signs", data=fields).status_code == 302
    report = _rows(session, SymptomReport)[0]
    assert report.entered_by_caregiver_id == carer[0].id
    # A change of the answers too, with the audit row naming the caregiver.
    page = f"/me/warning-signs/{report.id}/change"
    html = carer_client.get(page).get_data(as_text=True)
    fields["csrf_token"] = csrf_token(html)
    assert carer_client.post(page, data=fields).status_code == 302
    assert _rows(session, SymptomReport)[-1].entered_by_caregiver_id == carer[0].id
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.symptom_report_corrected")
    ).one()
    assert (event.actor_type, event.actor_caregiver_id, event.actor_patient_id) == (
        "caregiver",
        carer[0].id,
        None,
    )


def _sign_fields(html: str) -> list[str]:
    import re

    return sorted(set(re.findall(r'name="(q_[^"]+)"', html)))


def test_an_opioid_answer_is_entered_by_the_caregiver(carer_client, carer, session):
    assert post_form(carer_client, "/me/", "/me/opioids", {"taking": "yes", "day": TODAY})
    post_form(carer_client, "/me/", "/me/opioids", {"taking": "no", "day": TODAY})
    rows = _rows(session, OpioidCheck)
    assert [(r.taking, r.entered_by_caregiver_id) for r in rows] == [
        (True, carer[0].id),
        (False, carer[0].id),
    ]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.opioid_check_changed")
    ).one()
    assert (event.actor_type, event.actor_caregiver_id) == ("caregiver", carer[0].id)


def test_questionnaire_answers_are_entered_by_the_caregiver(
    client, session, enroll_patient, add_caregiver
):
    enrolment = enroll_patient(procedure_date="2026-11-07")  # day 14: a time point
    caregiver, raw = add_caregiver(enrolment)
    open_link(client, raw)
    page = "/me/questions/daily_life"
    assert post_form(client, page, data={"point": "14", **ANSWERS}).status_code == 302
    assert _rows(session, QuestionnaireResponse)[0].entered_by_caregiver_id == caregiver.id
    assert post_form(client, page, data={"point": "14", **ANSWERS}).status_code == 302
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.questionnaire_replaced")
    ).one()
    assert (event.actor_type, event.actor_caregiver_id) == ("caregiver", caregiver.id)


# --- view only: nothing stored ----------------------------------------------------------------

VIEW_ONLY = "You can look at these pages, but you cannot add or change anything here."


def test_a_view_caregiver_sees_every_page(viewer_client):
    for page in ("/me/", "/me/pain", "/me/warning-signs", "/me/progress", "/me/card"):
        response = viewer_client.get(page)
        assert response.status_code == 200, page
        text = text_of(response)
        assert "Signed in as Luis Ruiz (son), helping Pat Example." in text
        assert "You can view these pages only." in text


@pytest.mark.parametrize(
    ("page", "url", "data"),
    [
        ("/me/pain", None, {"score": "4"}),
        ("/me/", "/me/tasks/walk", {"action": "done", "day": TODAY}),
        ("/me/", "/me/opioids", {"taking": "yes", "day": TODAY}),
        ("/me/warning-signs", None, {}),
    ],
)
def test_a_view_caregiver_records_nothing(viewer_client, session, page, url, data):
    response = post_form(viewer_client, page, url, data)
    assert response.status_code == 403
    assert VIEW_ONLY in text_of(response)
    assert "Nothing was saved." in text_of(response)
    for model in (PainEntry, CheckOff, OpioidCheck, SymptomReport):
        assert count(session, model) == 0


def test_a_view_caregiver_cannot_fix_or_change(
    viewer_client, session, enrolled, viewer, patient_client_for
):
    # The patient's own rows, which the view caregiver may see but not change.
    patient = patient_client_for(enrolled)
    post_form(patient, "/me/pain", data={"score": "4"})
    entry = _rows(session, PainEntry)[0]
    assert viewer_client.get(f"/me/pain/{entry.id}/fix").status_code == 403
    token = csrf_token(viewer_client.get("/me/pain").get_data(as_text=True))
    response = viewer_client.post(
        f"/me/pain/{entry.id}/fix", data={"csrf_token": token, "score": "2"}
    )
    assert response.status_code == 403
    assert count(session, PainEntry) == 1


def test_a_view_caregiver_answers_no_questionnaire(client, session, enroll_patient, add_caregiver):
    enrolment = enroll_patient(procedure_date="2026-11-07")
    _caregiver, raw = add_caregiver(enrolment, scope="view")
    open_link(client, raw)
    page = "/me/questions/daily_life"
    assert client.get(page).status_code == 200
    response = post_form(client, page, data={"point": "14", **ANSWERS})
    assert response.status_code == 403
    assert count(session, QuestionnaireResponse) == 0


def test_a_view_caregiver_sees_no_buttons_to_record(viewer_client):
    today = text_of(viewer_client.get("/me/"))
    assert "Are you taking opioid pain medicine today?" in today
    assert "Yes, I am taking it" not in today
    assert "Mark as done" not in today
    for page, button in (("/me/pain", "Save my pain score"), ("/me/warning-signs", "Send my")):
        text = text_of(viewer_client.get(page))
        assert button not in text
        assert "You can view only, so you cannot send this." in text


def test_an_act_caregiver_sees_the_buttons(carer_client):
    assert "Yes, I am taking it" in text_of(carer_client.get("/me/"))
    assert "Save my pain score" in text_of(carer_client.get("/me/pain"))


@pytest.fixture
def patient_client_for(app):
    def _client(enrollment):
        return open_link(app.test_client(), enrollment.link_token)

    return _client


# --- removal and scope change end sessions at once --------------------------------------------


def test_removal_ends_an_open_session_at_once_and_the_link_stops(app, carer_client, carer, session):
    caregiver, raw = carer
    assert carer_client.get("/me/").status_code == 200
    caregiver = session.get(Caregiver, caregiver.id)
    assert domain.remove_caregiver(
        session, caregiver, actor=domain.Actor.patient(caregiver.patient_id), now=NOW
    )
    session.commit()
    response = carer_client.get("/me/")
    assert response.status_code == 401
    assert "Please open your personal link" in text_of(response)
    assert session.scalars(select(PatientSession)).one().ended_at == NOW
    # The link is now like any link that does not work.
    again = app.test_client().get(f"/p/{raw}")
    assert again.status_code == 404
    assert "This link is not working" in text_of(again)
    assert count(session, PatientSession) == 1  # nothing new started


def test_removal_refuses_a_pain_score_already_on_its_way(carer_client, carer, session):
    token = csrf_token(carer_client.get("/me/pain").get_data(as_text=True))
    caregiver = session.get(Caregiver, carer[0].id)
    domain.remove_caregiver(session, caregiver, actor=domain.Actor.patient(1), now=NOW)
    session.commit()
    response = carer_client.post("/me/pain", data={"csrf_token": token, "score": "5"})
    assert response.status_code == 401
    assert count(session, PainEntry) == 0


def test_removal_is_audited_and_done_once(carer, session):
    caregiver = session.get(Caregiver, carer[0].id)
    actor = domain.Actor.patient(caregiver.patient_id)
    assert domain.remove_caregiver(session, caregiver, actor=actor, now=NOW)
    assert not domain.remove_caregiver(session, caregiver, actor=actor, now=NOW)
    session.commit()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "caregiver.removed")
    ).all()
    assert len(events) == 1
    assert events[0].detail["links_revoked"] == 1
    revoked = select(PatientLinkToken.revoked_at).where(PatientLinkToken.caregiver_id.is_not(None))
    assert session.scalars(revoked).all() == [NOW]


def test_a_scope_change_ends_their_sessions(app, carer_client, carer, session):
    caregiver = session.get(Caregiver, carer[0].id)
    actor = domain.Actor.patient(caregiver.patient_id)
    assert domain.set_scope(session, caregiver, "view", actor=actor, now=NOW)
    assert not domain.set_scope(session, caregiver, "view", actor=actor, now=NOW)
    session.commit()
    assert carer_client.get("/me/").status_code == 401
    # Their link still works, and now signs them in to view only.
    open_link(carer_client, carer[1])
    assert post_form(carer_client, "/me/pain", data={"score": "4"}).status_code == 403
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "caregiver.scope_changed")
    ).one()
    assert event.detail["from"] == "act" and event.detail["to"] == "view"
    with pytest.raises(domain.CaregiverError):
        domain.set_scope(session, caregiver, "admin", actor=actor, now=NOW)


def test_the_patients_own_link_rotation_leaves_caregivers_signed_in(
    carer_client, enrolled, session
):
    from tracker.plans.links import revoke_links

    patient = session.get(type(enrolled.patient), enrolled.patient.id)
    revoke_links(session, patient, now=NOW)
    session.commit()
    assert carer_client.get("/me/").status_code == 200


def test_a_patient_session_is_not_ended_by_a_caregivers_removal(patient_client, carer, session):
    caregiver = session.get(Caregiver, carer[0].id)
    domain.remove_caregiver(session, caregiver, actor=domain.Actor.patient(1), now=NOW)
    session.commit()
    assert patient_client.get("/me/").status_code == 200


# --- a caregiver reaches only their patient ---------------------------------------------------


def test_a_caregiver_cannot_reach_another_patients_rows(
    carer_client, session, enroll_patient, patient_client_for
):
    other = enroll_patient(name="Other Person")
    other_client = patient_client_for(other)
    post_form(other_client, "/me/pain", data={"score": "9"})
    html = other_client.get("/me/warning-signs").get_data(as_text=True)
    fields = dict.fromkeys(_sign_fields(html), "no")
    other_client.post("/me/warning-signs", data={**fields, "csrf_token": csrf_token(html)})
    entry, report = _rows(session, PainEntry)[0], _rows(session, SymptomReport)[0]
    for page in (
        f"/me/pain/{entry.id}/fix",
        f"/me/pain/{entry.id}/severe",
        f"/me/warning-signs/{report.id}",
        f"/me/warning-signs/{report.id}/change",
    ):
        assert carer_client.get(page).status_code == 404, page
    assert "Other Person" not in text_of(carer_client.get("/me/"))


def test_a_forged_cookie_for_another_patient_is_signed_out(carer_client, enroll_patient, session):
    other = enroll_patient(name="Other Person")
    with carer_client.session_transaction() as cookie:
        cookie["patient_id"] = other.patient.id
    assert carer_client.get("/me/").status_code == 401


def test_a_caregiver_link_of_a_removed_caregiver_of_one_patient_is_invalid_for_all(
    client, add_caregiver, enrolled, session
):
    caregiver, raw = add_caregiver(enrolled)
    caregiver = session.get(Caregiver, caregiver.id)
    caregiver.removed_at = NOW  # removed without revoking (belt and braces)
    session.commit()
    assert client.get(f"/p/{raw}").status_code == 404


# --- the domain refuses bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": None, "phone": None}, "contact"),
        ({"email": " ", "phone": ""}, "contact"),
        ({"name": "x" * 201}, "name"),
        ({"name": "  "}, "name"),
        ({"relation": "y" * 41}, "relation"),
        ({"relation": ""}, "relation"),
        ({"scope": "admin"}, "scope"),
        ({"scope": None}, "scope"),
        ({"email": "not an email"}, "email"),
        ({"email": None, "phone": "call me"}, "phone"),
        ({"language": "fr"}, "language"),
        ({"reminder_channel": "pigeon"}, "reminder_channel"),
        ({"reminder_channel": "webhook"}, "reminder_channel"),  # email only: no texts
        ({"consent": "recorded"}, "consent"),  # needs the team member who recorded it
        ({"consent": "assumed"}, "consent"),
        ({"consent_note": "z" * 501}, "consent_note"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(session, enrolled, fields, field):
    values = {
        "name": "Ana Ruiz",
        "relation": "daughter",
        "email": "ana@example.org",
        "phone": None,
        "scope": "act",
        "language": "en",
        "reminder_channel": None,
        "consent": "patient",
        **fields,
    }
    with pytest.raises(domain.CaregiverError) as refused:
        domain.add_caregiver(session, enrolled.patient, now=NOW, **values)
    assert field in refused.value.errors
    assert refused.value.message
    session.rollback()
    assert count(session, Caregiver) == 0
    assert count(session, AuditEvent) == 0


def test_the_care_team_records_consent_with_their_name(session, enrolled, make_staff):
    user = make_staff()
    caregiver = domain.add_caregiver(
        session,
        enrolled.patient,
        name="Ana Ruiz",
        relation="daughter",
        email=None,
        phone="(555) 201-0142",
        scope="view",
        language=None,
        reminder_channel="webhook",
        consent="recorded",
        consent_note="Patient agreed on the phone",
        added_by_user=user,
        now=NOW,
    )
    session.commit()
    assert caregiver.sms_number == "+15552010142"
    assert caregiver.language == enrolled.patient.language
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "caregiver.added"))
    event = event.one()
    assert (event.actor_type, event.actor_user_id) == ("user", user.id)
    assert event.detail["consent"] == "recorded"


@pytest.fixture
def make_staff(session, clinic):
    from tracker.core.models import User

    def _make():
        user = User(
            clinic_id=clinic.id,
            email="nurse@example.org",
            name="Nurse Example",
            role="coordinator",
            password_hash="x",
            created_at=NOW,
        )
        session.add(user)
        session.commit()
        return user

    return _make


def test_a_caregiver_changes_their_own_language_not_the_patients(
    viewer_client, viewer, enrolled, session
):
    response = post_form(viewer_client, "/me/", "/me/language", {"language": "es", "next": "/me/"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Caregiver, viewer[0].id).language == "es"
    assert session.get(type(enrolled.patient), enrolled.patient.id).language == "en"
    assert '<html lang="es">' in viewer_client.get("/me/").get_data(as_text=True)


def test_a_reminder_link_for_a_caregiver_signs_in_that_caregiver(app, carer, enrolled, session):
    from tracker.plans.links import reminder_link_tokens

    caregiver = session.get(Caregiver, carer[0].id)
    patient, plan = caregiver.patient, caregiver.patient.plans[-1]
    messages = [(patient, plan, "key-1", caregiver), (patient, plan, "key-2")]
    raws = reminder_link_tokens(session, messages, secret_key="s", now=NOW, grace_days=14)
    session.commit()
    again = reminder_link_tokens(session, messages, secret_key="s", now=NOW, grace_days=14)
    assert again == raws  # a retry carries the same link
    theirs = open_link(app.test_client(), raws["key-1"])
    assert "Signed in as Ana Ruiz (daughter)" in text_of(theirs.get("/me/"))
    patients = open_link(app.test_client(), raws["key-2"])
    assert "Signed in as" not in text_of(patients.get("/me/"))
    domain.remove_caregiver(session, caregiver, actor=domain.Actor.patient(1), now=NOW)
    session.commit()
    assert app.test_client().get(f"/p/{raws['key-1']}").status_code == 404
