"""A scheduler that was down catches up on today's reminders and never sends stale ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.reminders.conftest import reminders, tick
from tracker.core.db import session_factory
from tracker.reminders.planning import ChannelSettings, plan_reminders

# Friday 2026-11-20, 08:00 in New York: one hour before the patients' 09:00 reminders.
LAST_TICK = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
RESTART = LAST_TICK + timedelta(hours=30)  # Saturday 14:00 in New York


def test_it_sends_todays_reminders_after_30_hours_down_and_not_yesterdays(app, enroll_patient):
    enroll_patient(name="Morning", procedure_date="2026-11-18")
    enroll_patient(name="Evening", procedure_date="2026-11-18", reminder_time="20:00")
    assert tick(app, LAST_TICK)["planned"] == 0

    summary = tick(app, RESTART)  # Friday's 09:00 and 20:00 reminders were missed entirely
    assert (summary["planned"], summary["sent"]) == (1, 1)
    assert [(r.local_day.isoformat(), r.status) for r in reminders(app)] == [("2026-11-21", "sent")]
    later = tick(app, RESTART + timedelta(hours=7))  # Saturday 21:00: the evening one is due
    assert (later["planned"], later["sent"]) == (1, 1)
    assert {r.local_day.isoformat() for r in reminders(app)} == {"2026-11-21"}


def test_it_expires_rows_planned_just_before_the_crash_instead_of_sending_them_late(
    app, enroll_patient
):
    enroll_patient(procedure_date="2026-11-18")
    # The process died between the plan step and the deliver step on Friday at 09:30.
    with session_factory(app)() as session:
        friday = LAST_TICK + timedelta(hours=1, minutes=30)
        assert plan_reminders(session, now=friday, settings=ChannelSettings()) == 1

    summary = tick(app, RESTART)
    assert (summary["planned"], summary["sent"], summary["expired"]) == (1, 1, 1)
    status = {r.local_day.isoformat(): r.status for r in reminders(app)}
    assert status == {"2026-11-20": "dead", "2026-11-21": "sent"}
