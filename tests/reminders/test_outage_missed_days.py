"""Reminders no tick planned leave a record and one operator alert; a 23:59 reminder
between two ticks around midnight is not lost."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.reminders.conftest import reminders, tick
from tracker.core.db import session_factory
from tracker.core.models import Alert, DeliveryIncident
from tracker.reminders.delivery import NOT_CREATED, incident_notices

# Friday 2026-11-20 in New York (UTC-5): the scheduler's last tick at 08:00, an hour
# before the patients' 09:00 reminders; it comes back at 00:30 on Saturday.
ENROLLED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LAST_TICK = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
BACK = datetime(2026, 11, 21, 5, 30, tzinfo=UTC)


def _incidents(app) -> list[DeliveryIncident]:
    with session_factory(app)() as session:
        return list(session.scalars(select(DeliveryIncident).order_by(DeliveryIncident.id)))


def test_a_scheduler_down_from_0800_to_after_midnight_records_the_missed_day_and_one_alert(
    app, session, clinic, enroll_patient, caplog
):
    plans = [
        enroll_patient(name=f"Pat {n}", procedure_date="2026-11-18", now=ENROLLED).plan
        for n in range(4)
    ]
    assert tick(app, LAST_TICK)["planned"] == 0

    with caplog.at_level(logging.ERROR, logger="tracker.reminders"):
        summary = tick(app, BACK)
        again = tick(app, BACK + timedelta(minutes=1))
    assert (summary["planned"], summary["sent"], again["planned"]) == (0, 0, 0)

    rows = reminders(app)
    assert sorted((r.plan_id, r.local_day.isoformat(), r.status, r.attempts) for r in rows) == [
        (p.id, "2026-11-20", "dead", 0) for p in plans
    ]
    assert all(r.last_error.startswith(NOT_CREATED) for r in rows)
    assert all("no scheduler ran" in r.last_error for r in rows)
    # One operator alert for the gap, not one per patient.
    [incident] = _incidents(app)
    assert (incident.kind, incident.affected) == ("not_created", 4)
    assert incident.detail == {"clinics": {str(clinic.id): 4}, "days": ["2026-11-20"]}
    assert incident.closed_at == BACK + timedelta(minutes=1)  # the next tick found no new gap
    assert session.scalars(select(Alert)).all() == []
    gap_logs = [r for r in caplog.records if "never created" in r.getMessage()]
    assert len(gap_logs) == 1 and gap_logs[0].levelno == logging.ERROR
    [notice] = incident_notices(session, clinic.id, BACK + timedelta(hours=2))
    assert notice.text.startswith("4 daily reminders of 2026-11-20 were never sent")

    # Saturday's reminders go out as usual at 09:00.
    later = tick(app, datetime(2026, 11, 21, 14, 0, tzinfo=UTC))
    assert (later["planned"], later["sent"]) == (4, 4)
    assert len(_incidents(app)) == 1


def test_the_gap_is_looked_for_only_three_local_days_back(app, enroll_patient):
    enroll_patient(procedure_date="2026-11-01", now=datetime(2026, 11, 2, 12, tzinfo=UTC))
    tick(app, datetime(2026, 11, 21, 5, 30, tzinfo=UTC))  # first tick in 19 days
    days = sorted(r.local_day.isoformat() for r in reminders(app))
    assert days == ["2026-11-18", "2026-11-19", "2026-11-20"]  # MISSED_LOOKBACK_DAYS


def test_a_2359_reminder_between_ticks_at_235830_and_000030_is_not_lost(
    app, enroll_patient, webhook, reminder_app
):
    plan = enroll_patient(reminder_time="23:59", phone="555-0100").plan
    hook = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)
    # Saturday 2026-11-21, 23:58:30 and then 00:00:30 on Sunday, in New York (UTC-5).
    before = tick(hook, datetime(2026, 11, 22, 4, 58, 30, tzinfo=UTC))
    after = tick(hook, datetime(2026, 11, 22, 5, 0, 30, tzinfo=UTC))
    assert (before["planned"], after["planned"], after["sent"]) == (0, 1, 1)
    [row] = reminders(app)
    assert (row.local_day.isoformat(), row.status) == ("2026-11-21", "sent")
    assert webhook.keys() == [f"reminder-{plan.id}-daily-2026-11-21"]
    assert _incidents(app) == []


def test_a_2359_reminder_found_long_after_midnight_is_recorded_not_sent(
    app, enroll_patient, webhook, reminder_app
):
    enroll_patient(reminder_time="23:59", phone="555-0100")
    hook = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)
    tick(hook, datetime(2026, 11, 22, 4, 58, 30, tzinfo=UTC))
    summary = tick(hook, datetime(2026, 11, 22, 5, 30, tzinfo=UTC))  # 00:30
    assert (summary["planned"], summary["sent"]) == (0, 0)
    [row] = reminders(app)
    assert (row.local_day.isoformat(), row.status) == ("2026-11-21", "dead")
    assert row.last_error.startswith(NOT_CREATED)
    assert webhook.keys() == []
    [incident] = _incidents(app)
    assert incident.kind == "not_created"
