"""STOP, START and HELP (and their synonyms): honoured from any number, stored with their
time, and obeyed by the deliver step; the care team sees an opt-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.texting.conftest import NUMBER, at, count, texts, tick
from tracker.core.models import AuditEvent, PainEntry, Reminder, TextOptOut
from tracker.reminders import sms_rules
from tracker.reminders.delivery import undeliverable_reminders

STOP_REPLY = (
    "Test Spine Clinic: You will get no more texts from us. To get them again, text START. "
    "For help, call 555-0142."
)


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "STOPALL", "Unsubscribe", "CANCEL", "end", "Quit"]
)
def test_stop_and_its_synonyms_opt_the_number_out_with_its_time(fake, session, patient, word):
    assert fake.text_from(NUMBER, word) == [STOP_REPLY]
    row = session.get(TextOptOut, NUMBER)
    assert row.opted_out_at == NOW and row.opted_in_at is None
    assert row.keyword == word.upper().rstrip(".")
    (inbound,) = texts(session, direction="in")
    assert (inbound.kind, inbound.meaning) == ("stop", "STOP: no more texts to this number")
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "text.stop")).one()
    assert (audit.actor_type, audit.patient_id) == ("patient", patient.patient.id)


def test_after_stop_nothing_is_read_or_answered_but_the_care_team_sees_it(fake, session, patient):
    fake.text_from(NUMBER, "STOP")
    assert fake.text_from(NUMBER, "5") == []
    assert count(session, PainEntry) == 0
    last = texts(session, direction="in")[-1]
    assert (last.kind, last.body) == ("opted_out", "5")
    assert last.meaning == "Received after this number texted STOP: not read, no reply sent"


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_and_yes_opt_back_in_and_keep_both_times(app, fake, session, patient, word):
    fake.text_from(NUMBER, "STOP")
    at(app, NOW + timedelta(hours=2))
    assert fake.text_from(NUMBER, word) == [
        "Test Spine Clinic: You will get texts from us again. Text HELP for help. "
        "Text STOP to stop."
    ]
    session.expire_all()
    row = session.get(TextOptOut, NUMBER)
    assert row.opted_out_at is None and row.opted_in_at == NOW + timedelta(hours=2)
    assert sms_rules.opted_out_at(session, NUMBER) is None
    # Answers are read again.
    assert fake.text_from(NUMBER, "3")[0] == "Thank you. Your pain score of 3 is saved."


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_answers_with_the_clinics_name_and_number(fake, session, patient, word):
    (reply,) = fake.text_from(NUMBER, word)
    assert reply.startswith("Test Spine Clinic: Texts about your recovery.")
    assert "For help, call 555-0142. Text STOP to stop." in reply
    assert "Call 911 now for chest pain" in reply


def test_help_is_answered_even_after_stop(fake, session, patient):
    fake.text_from(NUMBER, "STOP")
    (reply,) = fake.text_from(NUMBER, "HELP")
    assert reply.startswith("Test Spine Clinic: Texts about your recovery.")


def test_stop_from_a_number_of_no_patient_is_honoured_and_names_no_one(fake, session, patient):
    stranger = "+15552019999"
    (reply,) = fake.text_from(stranger, "STOP")
    assert reply == "You will get no more texts from us. To get them again, text START."
    assert session.get(TextOptOut, stranger).opted_out_at == NOW
    (row,) = texts(session)
    assert row.patient_id is None and row.body is None


def test_no_reminder_text_goes_to_a_number_that_opted_out(
    app, fake, gateway_server, session, patient
):
    fake.text_from(NUMBER, "STOP")
    tick(app, NOW)
    assert [t for t in fake.conversation(NUMBER) if t.kind == "daily"] == []
    reminder = session.scalars(select(Reminder)).one()
    assert reminder.status == "dead"
    assert reminder.last_error.startswith(
        "cancelled: the patient's number opted out of text messages (STOP at 2026-11-21T15:00"
    )
    # Not the patient failing to be reached: no "undeliverable" alert for it.
    assert undeliverable_reminders(session, patient.plan.clinic_id) == []


def test_after_start_the_next_days_reminder_goes_out(app, fake, gateway_server, session, patient):
    fake.text_from(NUMBER, "STOP")
    tick(app, NOW)
    at(app, NOW + timedelta(hours=3))
    fake.text_from(NUMBER, "START")
    tick(app, NOW + timedelta(days=1))
    daily = [t for t in fake.conversation(NUMBER) if t.kind == "daily"]
    assert len(daily) == 1 and "Day 2 of your recovery." in daily[0].body


def test_help_in_the_middle_of_a_question_leaves_it_open(fake, session, patient):
    fake.text_from(NUMBER, "4")  # asks warning signs, part 1
    fake.text_from(NUMBER, "HELP")
    assert fake.text_from(NUMBER, "0")[0] == "Thank you. Your answers are saved."
