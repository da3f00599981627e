"""Texts from a caregiver's number: attributed to the caregiver (``TextMessage.caregiver_id``,
``entered_by_caregiver_id`` on what they record) when their scope is "act"; a "view"
caregiver's score or answers are not recorded, they are told so with whom to call, and the
text waits on the care team's list. A number the patient shares with a caregiver is the
patient's; a removed caregiver's number is nobody's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import caregiver_row
from tests.texting.conftest import NUMBER, count, texts
from tracker.core.models import (
    Alert,
    AuditEvent,
    Caregiver,
    OpioidCheck,
    PainEntry,
    SymptomReport,
    TextOptOut,
)
from tracker.plans.warning_signs import current_signs
from tracker.reminders.safety import safety_911_in
from tracker.reminders.sms_text import gsm_friendly

CAREGIVER_PHONE = "(555) 201-0177"
CAREGIVER_NUMBER = "+15552010177"
SAFETY = safety_911_in(current_signs(), "en")


def add_caregiver(session, enrolled, **fields) -> Caregiver:
    return caregiver_row(session, enrolled.patient, **({"phone": CAREGIVER_PHONE} | fields))


def test_an_act_caregivers_score_and_answers_are_theirs(fake, session, patient):
    caregiver = add_caregiver(session, patient)
    replies = fake.text_from(CAREGIVER_NUMBER, "4")
    assert replies[0] == "Thank you. Your pain score of 4 is saved."
    assert replies[1].startswith("Warning signs (1 of 2).")
    entry = session.scalars(select(PainEntry)).one()
    assert (entry.plan_id, entry.score, entry.entered_by_caregiver_id) == (
        patient.plan.id,
        4,
        caregiver.id,
    )
    inbound, ack, question = texts(session)
    assert (inbound.direction, inbound.caregiver_id, inbound.patient_id) == (
        "in",
        caregiver.id,
        patient.patient.id,
    )
    assert inbound.number == CAREGIVER_NUMBER
    assert ack.caregiver_id == question.caregiver_id == caregiver.id
    assert question.number == CAREGIVER_NUMBER
    # The question asked of the caregiver is read from the caregiver's next text ...
    fake.text_from(CAREGIVER_NUMBER, "0")
    fake.text_from(CAREGIVER_NUMBER, "none")
    done = fake.text_from(CAREGIVER_NUMBER, "no")
    assert done[0].startswith("Saved: you do not take opioid pain medicine today.")
    reports = session.scalars(select(SymptomReport)).all()
    assert reports and {r.entered_by_caregiver_id for r in reports} == {caregiver.id}
    check = session.scalars(select(OpioidCheck)).one()
    assert (check.taking, check.entered_by_caregiver_id) == (False, caregiver.id)
    # ... and not from the patient's: a number from the patient now is a pain score.
    fake.text_from(NUMBER, "3")
    patients = session.scalars(select(PainEntry).where(PainEntry.score == 3)).one()
    assert patients.entered_by_caregiver_id is None


def test_a_red_flag_from_a_caregiver_is_alerted_and_answered(fake, session, patient):
    caregiver = add_caregiver(session, patient)
    fake.text_from(CAREGIVER_NUMBER, "6")
    replies = fake.text_from(CAREGIVER_NUMBER, "1")  # chest pain now
    assert replies[0].startswith("Call 911 now.")
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.urgency) == ("red_flag", "critical")
    report = session.scalars(select(SymptomReport)).one()
    assert report.severity == "call_911" and report.entered_by_caregiver_id == caregiver.id


@pytest.mark.parametrize("reply", ["4", "pain 7", "cinco"])
def test_a_view_caregiver_cannot_record_and_is_told_whom_to_call(fake, session, patient, reply):
    add_caregiver(session, patient, scope="view")
    [answer] = fake.text_from(CAREGIVER_NUMBER, reply)
    assert answer.startswith(
        "You can see Pat Example's page but not record for them, so this was not saved."
    )
    assert "For help, call 555-0142." in answer
    assert answer.endswith(SAFETY)
    assert count(session, PainEntry) == 0
    assert count(session, OpioidCheck) == 0
    assert count(session, SymptomReport) == 0
    [inbound] = texts(session, direction="in")
    # Kept as it came, on the care team's list of texts to read.
    assert (inbound.kind, inbound.body) == ("unparsed", reply)
    assert inbound.meaning.startswith("From Ana Ruiz (daughter), who may only view: not recorded")


def test_an_alarming_text_from_a_view_caregiver_still_reaches_the_care_team(fake, session, patient):
    add_caregiver(session, patient, scope="view")
    [answer] = fake.text_from(CAREGIVER_NUMBER, "She has chest pain")
    assert answer.startswith("Sorry, we could not read that. Your care team will see your text.")
    assert answer.endswith(SAFETY)
    [inbound] = texts(session, direction="in")
    assert inbound.kind == "unparsed" and inbound.body == "She has chest pain"


def test_a_number_shared_by_the_patient_and_a_caregiver_is_the_patients(fake, session, patient):
    add_caregiver(session, patient, phone="(555) 201-0142")  # the patient's own number
    fake.text_from(NUMBER, "5")
    entry = session.scalars(select(PainEntry)).one()
    assert entry.entered_by_caregiver_id is None
    assert {t.caregiver_id for t in texts(session)} == {None}


def test_a_removed_caregiver_is_an_unknown_sender(fake, session, patient):
    add_caregiver(session, patient, removed_at=NOW - timedelta(hours=1))
    [answer] = fake.text_from(CAREGIVER_NUMBER, "5")
    assert answer.startswith("This number is not set up for recovery texts")
    assert count(session, PainEntry) == 0
    [inbound] = texts(session, direction="in")
    assert (inbound.kind, inbound.patient_id, inbound.body) == ("unknown_sender", None, None)


def test_a_caregiver_of_two_patients_is_not_guessed(fake, session, patient, enroll_patient):
    add_caregiver(session, patient)
    other = enroll_patient(name="Other Patient", phone="(555) 201-0100")
    add_caregiver(session, other)
    [answer] = fake.text_from(CAREGIVER_NUMBER, "5")
    assert answer.startswith("This number is not set up for recovery texts")
    assert count(session, PainEntry) == 0
    [inbound] = texts(session, direction="in")
    assert inbound.meaning == "Sent from a number that 2 caregivers share"


def test_a_spanish_speaking_caregiver_is_answered_in_spanish(fake, session, patient):
    add_caregiver(session, patient, language="es")
    replies = fake.text_from(CAREGIVER_NUMBER, "cuatro")
    assert replies[0] == "Gracias. Su nivel de dolor de 4 está guardado."
    assert replies[1].startswith("Señales de alarma (1 de ")
    [answer] = fake.text_from(CAREGIVER_NUMBER, "???")
    assert answer.endswith(gsm_friendly(safety_911_in(current_signs(), "es")))


def test_stop_from_a_caregiver_opts_their_number_out(fake, session, patient):
    caregiver = add_caregiver(session, patient)
    fake.text_from(CAREGIVER_NUMBER, "STOP")
    assert session.scalars(select(TextOptOut.number)).all() == [CAREGIVER_NUMBER]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "text.stop")).one()
    assert (event.actor_type, event.actor_caregiver_id) == ("caregiver", caregiver.id)


def test_the_care_teams_conversation_says_which_texts_were_the_caregivers(
    app, fake, session, patient
):
    from tests.coordinator.conftest import sign_in_as
    from tests.texting.test_care_texts import _user

    add_caregiver(session, patient)
    add_caregiver(session, patient, name="Luis Ruiz", relation="son", phone="(555) 201-0178")
    fake.text_from(NUMBER, "3")
    fake.text_from(CAREGIVER_NUMBER, "what is this?")
    client = sign_in_as(app.test_client(), _user(session, patient.plan.clinic))
    page = client.get(f"/coordinator/patients/{patient.patient.id}/texts").get_data(as_text=True)
    assert "<td>Patient</td>" in page
    assert "<td>Caregiver Ana Ruiz (daughter)</td>" in page
    assert 'Tracker <span class="sub">to caregiver Ana Ruiz (daughter)</span>' in page
    assert "Luis Ruiz" not in page  # no texts of his
