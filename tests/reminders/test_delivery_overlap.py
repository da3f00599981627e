"""The deliver step writes the next message while the previous one is on its way, yet
hands a message over only once the one before it is recorded."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import reminders
from tracker.core.db import session_factory
from tracker.core.models import Reminder
from tracker.scheduler.tick import run_tick


def _enroll(enroll_patient, count: int) -> None:
    for n in range(count):
        enroll_patient(name=f"Patient {n}", phone="555-0100")


def test_it_records_each_message_before_handing_over_the_next(
    app, enroll_patient, reminder_app, webhook
) -> None:
    _enroll(enroll_patient, 7)
    hooks = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)

    def everything_before_is_recorded(key: str) -> None:
        with session_factory(app)() as session:
            sent = set(
                session.scalars(select(Reminder.idempotency_key).where(Reminder.status == "sent"))
            )
        assert set(webhook.keys()) <= sent, f"{key} arrived before {set(webhook.keys()) - sent}"

    webhook.on_message = everything_before_is_recorded
    summary = run_tick(hooks, NOW, worker="test-worker")

    assert summary["sent"] == 7 and webhook.failures == []
    assert len(webhook.keys()) == len(set(webhook.keys())) == 7
    assert {r.status for r in reminders(app)} == {"sent"}


def test_a_stop_during_a_send_ends_the_step_after_recording_it(
    app, enroll_patient, reminder_app, webhook
) -> None:
    _enroll(enroll_patient, 6)
    hooks = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)
    stop = threading.Event()

    def stop_at_the_second(key: str) -> None:
        if len(webhook.keys()) == 1:
            stop.set()  # SIGTERM while the second message is on its way

    webhook.on_message = stop_at_the_second
    run_tick(hooks, NOW, worker="test-worker", stop=stop)

    # The message on its way was recorded; the one already written out was not sent.
    received = webhook.keys()
    assert len(received) == 2
    rows = {r.idempotency_key: r for r in reminders(app)}
    assert {rows[key].status for key in received} == {"sent"}
    rest = [r for key, r in rows.items() if key not in received]
    assert len(rest) == 4
    assert all(r.status == "pending" and r.locked_by is None for r in rest)
