"""A caregiver's own daily reminder: planned once a day beside the patient's, at the same
time, by the caregiver's channel, in the caregiver's language, with the red-flag lines and
the caregiver's own link (never the patient's); none for a paused plan or a removed
caregiver, and a text to a caregiver's number that texted STOP is not sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import caregiver_row
from tests.reminders.conftest import reminders, tick
from tracker.core.models import (
    Caregiver,
    PatientLinkToken,
    PatientSession,
    Reminder,
    TextMessage,
    TextOptOut,
)
from tracker.plans.caregivers import Actor, remove_caregiver
from tracker.plans.links import hash_token
from tracker.plans.warning_signs import current_signs
from tracker.reminders.planning import caregiver_idempotency_key
from tracker.reminders.safety import other_signs_line, safety_911_in, safety_lines_in
from tracker.reminders.sms_text import MAX_SEGMENTS, gsm_friendly, sms_segments

# 09:00 in New York on Saturday 2026-11-21 (the default reminder time) is 14:00 UTC.
NINE_NY = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
CAREGIVER_PHONE = "(555) 201-0199"
CAREGIVER_NUMBER = "+15552010199"


def add_caregiver(session, patient, **fields) -> Caregiver:
    """A caregiver who gets the daily reminder by webhook unless told otherwise."""
    values = {"phone": CAREGIVER_PHONE, "reminder_channel": "webhook"}
    return caregiver_row(session, patient, **(values | fields))


@pytest.fixture
def hook_app(reminder_app, webhook):
    return reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)


def test_it_plans_one_caregiver_reminder_a_day_beside_the_patients(app, session, enroll_patient):
    enrolled = enroll_patient()
    plan = enrolled.plan
    caregiver = add_caregiver(session, enrolled.patient, reminder_channel="log")
    first = tick(app, NINE_NY)
    again = tick(app, NINE_NY + timedelta(minutes=1))
    assert (first["planned"], first["sent"]) == (2, 2)
    assert (again["planned"], again["sent"]) == (0, 0)
    rows = reminders(app)
    assert [(r.caregiver_id, r.kind, r.channel, r.status) for r in rows] == [
        (None, "daily", "log", "sent"),
        (caregiver.id, "daily", "log", "sent"),
    ]
    patients, theirs = rows
    assert theirs.local_day == patients.local_day and theirs.due_at == patients.due_at == NINE_NY
    assert patients.idempotency_key == f"reminder-{plan.id}-daily-2026-11-21"
    assert theirs.idempotency_key == caregiver_idempotency_key(
        plan.id, "daily", patients.local_day, caregiver.id
    )
    assert theirs.idempotency_key != patients.idempotency_key
    # The next day: one more each.
    tick(app, NINE_NY + timedelta(days=1))
    assert sorted((r.caregiver_id or 0, r.local_day.day) for r in reminders(app)) == [
        (0, 21),
        (0, 22),
        (caregiver.id, 21),
        (caregiver.id, 22),
    ]


def test_nothing_before_the_reminder_time_and_nothing_for_a_caregiver_without_a_channel(
    app, session, enroll_patient
):
    enrolled = enroll_patient()
    add_caregiver(session, enrolled.patient, reminder_channel=None, name="No Reminders")
    add_caregiver(session, enrolled.patient, reminder_channel="log")
    assert tick(app, NINE_NY - timedelta(minutes=1))["planned"] == 0
    assert reminders(app) == []
    tick(app, NINE_NY)
    assert len([r for r in reminders(app) if r.caregiver_id is not None]) == 1


def test_two_caregivers_each_get_their_own(app, session, enroll_patient):
    enrolled = enroll_patient()
    first = add_caregiver(session, enrolled.patient, reminder_channel="log")
    second = add_caregiver(session, enrolled.patient, name="Luis", reminder_channel="log")
    other = enroll_patient(name="Someone Else")
    tick(app, NINE_NY)
    rows = reminders(app)
    assert sorted((r.plan_id, r.caregiver_id or 0) for r in rows) == sorted(
        [
            (enrolled.plan.id, 0),
            (enrolled.plan.id, first.id),
            (enrolled.plan.id, second.id),
            (other.plan.id, 0),
        ]
    )


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_a_paused_or_ended_plan_plans_none_for_its_caregivers(app, session, enroll_patient, status):
    enrolled = enroll_patient()
    add_caregiver(session, enrolled.patient, reminder_channel="log")
    enrolled.plan.status = status
    session.commit()
    for hours in range(0, 48, 6):
        tick(app, NINE_NY + timedelta(hours=hours))
    assert reminders(app) == []


def test_a_caregiver_added_after_the_reminder_time_starts_the_next_day(
    app, session, enroll_patient
):
    enrolled = enroll_patient()
    tick(app, NINE_NY)
    caregiver = add_caregiver(
        session, enrolled.patient, reminder_channel="log", created_at=NINE_NY + timedelta(hours=1)
    )
    tick(app, NINE_NY + timedelta(hours=2))
    assert [r.caregiver_id for r in reminders(app)] == [None]
    tick(app, NINE_NY + timedelta(days=1))
    assert [(r.caregiver_id, r.local_day.day) for r in reminders(app)][-1] == (caregiver.id, 22)


def test_a_removed_caregiver_gets_nothing_planned_or_sent(
    app, session, enroll_patient, hook_app, webhook
):
    enrolled = enroll_patient()
    caregiver = add_caregiver(session, enrolled.patient)
    # Planned (by a tick that did not deliver), then removed before it went out.
    from tracker.reminders.planning import ChannelSettings, plan_reminders

    plan_reminders(session, now=NINE_NY, settings=ChannelSettings(default_channel="webhook"))
    assert [r.caregiver_id for r in reminders(app)] == [None, caregiver.id]
    remove_caregiver(session, caregiver, actor=Actor.patient(enrolled.patient.id), now=NINE_NY)
    session.commit()
    tick(hook_app, NINE_NY + timedelta(minutes=1))
    patients, theirs = reminders(app)
    assert patients.status == "sent"
    assert theirs.status == "dead"
    assert theirs.last_error == "cancelled: the caregiver was removed"
    assert [r["to"]["name"] for r in webhook.received] == ["Pat Example"]
    # And the next day nothing is planned for them.
    tick(hook_app, NINE_NY + timedelta(days=1))
    assert [r.caregiver_id for r in reminders(app)][2:] == [None]


def test_the_caregivers_text_has_their_link_the_red_flag_lines_and_fits(
    app, session, enroll_patient, hook_app, webhook
):
    enrolled = enroll_patient(phone="(555) 201-0142")
    caregiver = add_caregiver(session, enrolled.patient)
    tick(hook_app, NINE_NY)
    by_name = {r["to"]["name"]: r for r in webhook.received}
    patients, theirs = by_name["Pat Example"], by_name["Ana Ruiz"]
    assert theirs["to"]["phone"] == CAREGIVER_NUMBER
    assert theirs["to"]["email"] is None
    assert theirs["link"] != patients["link"]
    assert theirs["link"] in theirs["sms"] and patients["link"] not in theirs["sms"]
    assert patients["link"] not in theirs["text"]
    sms = theirs["sms"]
    assert sms.startswith("Test Spine Clinic: Day 1 of Pat Example's recovery.")
    assert sms.endswith(
        f"{gsm_friendly(safety_911_in(current_signs(), 'en'))} {other_signs_line('555-0142', 'en')}"
    )
    assert sms_segments(sms)[1] <= MAX_SEGMENTS
    assert theirs["subject"] == "Pat Example's recovery plan for today (day 1)"
    assert theirs["text"].startswith("Hello Ana Ruiz,\n")
    assert "You get this message as their caregiver." in theirs["text"]
    assert safety_lines_in(current_signs(), "555-0142", "en") in theirs["text"]
    # The link is the caregiver's own: stored for them, not for the patient.
    raw = urlsplit(theirs["link"]).path.rsplit("/", 1)[-1]
    token = session.scalar(
        select(PatientLinkToken).where(PatientLinkToken.token_hash == hash_token(raw))
    )
    assert (token.patient_id, token.caregiver_id) == (enrolled.patient.id, caregiver.id)
    patient_raw = urlsplit(patients["link"]).path.rsplit("/", 1)[-1]
    patient_token = session.scalar(
        select(PatientLinkToken).where(PatientLinkToken.token_hash == hash_token(patient_raw))
    )
    assert patient_token.caregiver_id is None
    # The caregiver's text is in the conversation, as to the caregiver, without the link.
    [out] = session.scalars(
        select(TextMessage).where(TextMessage.caregiver_id == caregiver.id)
    ).all()
    assert out.number == CAREGIVER_NUMBER and out.direction == "out"
    assert theirs["link"] not in out.body and "[personal link]" in out.body
    assert out.question is None  # a caregiver's reminder asks for no reply


def test_the_caregivers_link_signs_in_the_caregiver(
    app, session, enroll_patient, hook_app, webhook
):
    enrolled = enroll_patient()
    caregiver = add_caregiver(session, enrolled.patient)
    tick(hook_app, NINE_NY)
    [theirs] = [r for r in webhook.received if r["to"]["name"] == "Ana Ruiz"]
    client = hook_app.test_client()
    response = client.get(urlsplit(theirs["link"]).path)
    assert response.status_code in (200, 302, 303)
    opened = session.scalars(select(PatientSession)).all()
    assert [(s.patient_id, s.caregiver_id) for s in opened] == [(enrolled.patient.id, caregiver.id)]


def test_a_caregiver_reminder_is_in_the_caregivers_language(
    app, session, enroll_patient, hook_app, webhook
):
    enrolled = enroll_patient()  # an English-speaking patient ...
    add_caregiver(session, enrolled.patient, language="es")  # ... and a Spanish-speaking one
    tick(hook_app, NINE_NY)
    by_name = {r["to"]["name"]: r for r in webhook.received}
    theirs = by_name["Ana Ruiz"]
    assert theirs["subject"] == "Plan de recuperación de Pat Example para hoy (día 1)"
    assert theirs["text"].startswith("Hola, Ana Ruiz:\n")
    assert safety_lines_in(current_signs(), "555-0142", "es") in theirs["text"]
    # Both red-flag lines and the link come first: the Spanish 911 line is long, so the
    # words about the day give way (they are in the email and on the page).
    assert theirs["sms"].startswith("Test Spine Clinic: ")
    assert theirs["link"] in theirs["sms"]
    assert gsm_friendly(safety_911_in(current_signs(), "es")) in theirs["sms"]
    assert theirs["sms"].endswith(gsm_friendly(other_signs_line("555-0142", "es")))
    assert sms_segments(theirs["sms"])[1] <= MAX_SEGMENTS
    assert by_name["Pat Example"]["subject"] == "Your recovery plan for today (day 1)"


def test_a_caregivers_number_that_texted_stop_gets_no_text(
    app, session, enroll_patient, hook_app, webhook
):
    enrolled = enroll_patient()
    add_caregiver(session, enrolled.patient)
    session.add(
        TextOptOut(
            number=CAREGIVER_NUMBER,
            opted_out_at=NOW - timedelta(days=1),
            keyword="PARAR",
            updated_at=NOW - timedelta(days=1),
        )
    )
    session.commit()
    tick(hook_app, NINE_NY)
    patients, theirs = reminders(app)
    assert patients.status == "sent"
    assert theirs.status == "dead"
    assert theirs.last_error.startswith(
        "cancelled: the caregiver's number opted out of text messages"
    )
    assert [r["to"]["name"] for r in webhook.received] == ["Pat Example"]


def test_planning_caregivers_is_one_statement_per_step(app, session, enroll_patient):
    """However many plans and caregivers: the caregivers' reminders are one INSERT."""
    from sqlalchemy import event

    from tracker.reminders.planning import ChannelSettings, plan_reminders

    for index in range(5):
        enrolled = enroll_patient(name=f"Patient {index}")
        add_caregiver(session, enrolled.patient, reminder_channel="log", name=f"Carer {index}")
    statements: list[str] = []
    engine = app.extensions["tracker.engine"]

    def count(conn, cursor, statement, parameters, context, executemany):
        if "caregiver" in statement.lower() and statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        planned = plan_reminders(session, now=NINE_NY, settings=ChannelSettings(), batch_size=2)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert planned == 10
    assert len(statements) == 1
    assert len([r for r in reminders(app) if r.caregiver_id is not None]) == 5
    assert session.scalar(select(Reminder.id).where(Reminder.caregiver_id.is_(None))) is not None


def test_a_schedulers_shards_plan_only_their_plans_caregivers(app, session, enroll_patient):
    from tracker.reminders.planning import ChannelSettings, plan_reminders

    first = enroll_patient(name="First")
    second = enroll_patient(name="Second")
    mine = add_caregiver(session, first.patient, reminder_channel="log")
    add_caregiver(session, second.patient, reminder_channel="log", name="Other Carer")
    ranges = [(first.plan.id, first.plan.id)]
    planned = plan_reminders(
        session, now=NINE_NY, settings=ChannelSettings(), id_ranges=ranges, since=NINE_NY
    )
    assert planned == 2
    assert [(r.plan_id, r.caregiver_id) for r in reminders(app)] == [
        (first.plan.id, None),
        (first.plan.id, mine.id),
    ]


def test_a_racing_scheduler_cannot_store_a_second_copy_for_the_same_caregiver(
    app, session, enroll_patient
):
    # Two schedulers planning at once both pass NOT EXISTS; the unique index on
    # (plan, kind, day, channel, caregiver or 0) is what keeps the second row out, whatever its
    # idempotency key; the patient's own row of that day does not collide with it.
    from sqlalchemy.exc import IntegrityError

    enrolled = enroll_patient()
    caregiver = add_caregiver(session, enrolled.patient, reminder_channel="log")
    tick(app, NINE_NY)
    theirs = next(r for r in reminders(app) if r.caregiver_id == caregiver.id)
    session.add(
        Reminder(
            plan_id=theirs.plan_id,
            kind=theirs.kind,
            local_day=theirs.local_day,
            channel=theirs.channel,
            due_at=theirs.due_at,
            next_attempt_at=theirs.due_at,
            caregiver_id=caregiver.id,
            idempotency_key="a-racing-schedulers-key",
            created_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert len([r for r in reminders(app) if r.caregiver_id == caregiver.id]) == 1
