"""The scheduler's tick evaluates the alert rules of the plans that are due, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.reminders.conftest import tick
from tracker.alerts.rules import MISSED_CHECKIN, WORSENING, mark_due
from tracker.core.models import Alert, PainEntry
from tracker.scheduler import tick as tick_module
from tracker.scheduler.tick import TICK_STEPS, run_tick


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


def test_a_worsening_trend_is_on_the_triage_list_before_the_reminders_go_out(
    reminder_app, enroll_patient, session
):
    # Rising scores recorded over the week; the tick decides "worsening". Its reminders go
    # to a gateway that may be slow; the alert must not wait for them.
    now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    plan = enroll_patient(name="Rising", procedure_date="2026-11-14").plan
    for days_ago, score in zip(range(5, -1, -1), (2, 2, 2, 6, 6, 6), strict=True):
        at = now - timedelta(days=days_ago)
        session.add(PainEntry(plan_id=plan.id, score=score, local_day=at.date(), recorded_at=at))
    mark_due(session, plan.id, now - timedelta(minutes=5))
    session.commit()
    for n in range(3):
        enroll_patient(name=f"Other {n}", procedure_date="2026-11-14")

    seen_when_sending: list[set[str]] = []

    def deliver_after_looking(ctx):
        with ctx.session() as look:
            seen_when_sending.append(set(look.scalars(select(Alert.rule))))
        return tick_module.deliver_step(ctx)

    steps = [(n, deliver_after_looking if n == "deliver" else s) for n, s in TICK_STEPS]
    summary = run_tick(reminder_app(), now, worker="w", steps=steps)
    assert summary["sent"] == 4
    assert seen_when_sending == [{WORSENING}]
