"""Quiet hours: no reminder text between the clinic's quiet hours in the *patient's* zone;
one due then waits for their end (exactly), or is cancelled when they last past its day.
Replies to a patient's own text are not held (test_conversation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from tests.texting.conftest import NUMBER, tick
from tracker.core.models import Reminder
from tracker.reminders.delivery import undeliverable_reminders
from tracker.reminders.sms_rules import quiet_until

LA = "America/Los_Angeles"
NIGHT = (time(21, 0), time(8, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # Saturday 21 November 2026 in Los Angeles (PST, UTC-8).
        (utc(2026, 11, 22, 4, 59, 59), None),  # 20:59:59: not yet
        (utc(2026, 11, 22, 5, 0, 0), utc(2026, 11, 22, 16, 0)),  # 21:00:00: quiet to 08:00
        (utc(2026, 11, 22, 15, 59, 59), utc(2026, 11, 22, 16, 0)),  # 07:59:59: still
        (utc(2026, 11, 22, 16, 0, 0), None),  # 08:00:00: over
    ],
)
def test_quiet_hours_across_midnight_at_their_exact_ends(now, until):
    assert quiet_until(*NIGHT, LA, now) == until


def test_quiet_hours_within_a_day():
    assert quiet_until(time(12, 0), time(13, 0), LA, utc(2026, 11, 21, 19, 59)) is None
    assert quiet_until(time(12, 0), time(13, 0), LA, utc(2026, 11, 21, 20, 0)) == utc(
        2026, 11, 21, 21, 0
    )
    assert quiet_until(time(12, 0), time(13, 0), LA, utc(2026, 11, 21, 21, 0)) is None


def test_the_end_follows_the_clock_across_a_daylight_saving_change():
    # Saturday 31 October 2026, 22:00 PDT; clocks go back at 02:00: 08:00 PST is 16:00 UTC.
    assert quiet_until(*NIGHT, LA, utc(2026, 11, 1, 5, 0)) == utc(2026, 11, 1, 16, 0)
    # Saturday 7 March 2026, 22:00 PST; clocks go forward: 08:00 PDT is 15:00 UTC.
    assert quiet_until(*NIGHT, LA, utc(2026, 3, 8, 6, 0)) == utc(2026, 3, 8, 15, 0)


def test_no_quiet_hours_no_wait():
    assert quiet_until(None, None, LA, utc(2026, 11, 22, 6, 0)) is None


@pytest.fixture
def quiet_clinic(session, clinic):
    clinic.quiet_hours_start, clinic.quiet_hours_end = NIGHT  # the clinic is in New York
    session.commit()
    return clinic


def _daily(fake):
    return [t for t in fake.conversation(NUMBER) if t.kind == "daily"]


def test_a_reminder_due_in_quiet_hours_waits_for_their_end_in_the_patients_zone(
    app, fake, gateway_server, session, quiet_clinic, enroll_patient
):
    # 07:30 in Los Angeles is 10:30 in New York: quiet for the patient, not for the clinic.
    plan = enroll_patient(phone="(555) 201-0142", timezone=LA, reminder_time="07:30").plan
    tick(app, utc(2026, 11, 21, 15, 30))
    assert _daily(fake) == []
    reminder = session.scalars(select(Reminder)).one()
    assert (reminder.status, reminder.attempts) == ("pending", 0)
    assert reminder.next_attempt_at == utc(2026, 11, 21, 16, 0)  # 08:00 in Los Angeles
    tick(app, utc(2026, 11, 21, 15, 59, 59))
    assert _daily(fake) == []
    tick(app, utc(2026, 11, 21, 16, 0, 0))
    assert len(_daily(fake)) == 1
    session.expire_all()
    assert session.get(Reminder, reminder.id).status == "sent"
    assert plan.timezone == LA


def test_a_reminder_at_the_start_of_quiet_hours_is_held_and_one_before_is_not(
    app, fake, gateway_server, session, quiet_clinic, enroll_patient
):
    enroll_patient(name="Early", phone="(555) 201-0142", timezone=LA, reminder_time="20:59")
    enroll_patient(name="Late", phone="(555) 201-0143", timezone=LA, reminder_time="21:00")
    tick(app, utc(2026, 11, 22, 4, 59, 59))  # 20:59:59 Saturday in Los Angeles
    assert len(_daily(fake)) == 1  # the 20:59 one
    tick(app, utc(2026, 11, 22, 5, 0, 0))  # 21:00:00: quiet, the 21:00 one is due
    assert len(_daily(fake)) == 1
    late = session.scalars(select(Reminder).order_by(Reminder.id)).all()[-1]
    # Quiet until 08:00 tomorrow: past its day, so not sent late but cancelled, and not
    # counted as the patient failing to be reached.
    assert late.status == "dead"
    assert late.last_error == (
        "cancelled: the clinic's quiet hours (21:00-08:00) last past the end of its day"
    )
    assert undeliverable_reminders(session, quiet_clinic.id) == []


def test_without_quiet_hours_nothing_waits(app, fake, gateway_server, session, enroll_patient):
    enroll_patient(phone="(555) 201-0142", timezone=LA, reminder_time="23:30")
    tick(app, utc(2026, 11, 22, 7, 30))
    assert len(_daily(fake)) == 1
