"""The scheduler's tick evaluates time-based alert rules, in batches, for every active plan."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.reminders.conftest import tick
from tracker import tick as tick_module
from tracker.alerts import MISSED_CHECKIN
from tracker.models import Alert


def test_it_raises_a_missed_check_in_alert_for_each_silent_patient(
    reminder_app, enroll_patient, session, monkeypatch
):
    app = reminder_app()
    monkeypatch.setattr(tick_module, "ALERT_BATCH_SIZE", 2)  # several batches
    quiet = [
        enroll_patient(
            name=f"Quiet {i}",
            procedure_date="2026-11-15",
            now=datetime(2026, 11, 15, 15, tzinfo=UTC),
        ).plan
        for i in range(5)
    ]
    summary = tick(app, datetime(2026, 11, 21, 15, 0, tzinfo=UTC))
    assert summary["alerts_raised"] >= 5
    missed = session.scalars(select(Alert).where(Alert.rule == MISSED_CHECKIN)).all()
    assert sorted(a.plan_id for a in missed) == sorted(p.id for p in quiet)

    again = tick(app, datetime(2026, 11, 21, 15, 5, tzinfo=UTC))
    assert again["alerts_raised"] == 0
