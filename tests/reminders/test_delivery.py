"""The deliver step: claims, retries with backoff, dead letters and what a message carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import free_port, reminders, tick
from tracker.alerts.rules import UNDELIVERABLE
from tracker.core.db import session_factory
from tracker.core.models import Alert, PainEntry, Reminder
from tracker.plans.links import find_valid_token, revoke_links
from tracker.reminders.delivery import DeliverySettings, claim, undeliverable_reminders
from tracker.reminders.planning import ChannelSettings, plan_reminders


def _hook_app(reminder_app, webhook, **config):
    return reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url, **config)


def test_it_retries_a_webhook_500_and_429_with_backoff_then_delivers(
    app, enroll_patient, reminder_app, webhook
):
    plan = enroll_patient(phone="555-0102").plan
    hook = _hook_app(reminder_app, webhook)
    webhook.statuses = [500, 429]

    assert tick(hook, NOW)["retried"] == 1
    [reminder] = reminders(app)
    assert (reminder.status, reminder.attempts) == ("pending", 1)
    assert reminder.next_attempt_at == NOW + timedelta(seconds=60)
    assert "HTTP 500" in reminder.last_error

    assert tick(hook, NOW + timedelta(seconds=59))["retried"] == 0  # not due yet
    assert tick(hook, NOW + timedelta(seconds=60))["retried"] == 1
    [reminder] = reminders(app)
    assert reminder.attempts == 2 and "HTTP 429" in reminder.last_error
    assert reminder.next_attempt_at == NOW + timedelta(seconds=60 + 120)

    assert tick(hook, NOW + timedelta(seconds=180))["sent"] == 1
    [reminder] = reminders(app)
    assert (reminder.status, reminder.attempts, reminder.last_error) == ("sent", 3, None)
    key = f"reminder-{plan.id}-daily-2026-11-21"
    assert webhook.keys() == [key, key, key]
    assert {h["Idempotency-Key"] for h in webhook.headers} == {key}
    # Every attempt carried the same personal link.
    assert len({m["link"] for m in webhook.received}) == 1


def test_it_dead_letters_a_4xx_at_once_and_alerts_the_care_team(
    app, session, clinic, enroll_patient, reminder_app, webhook
):
    patient = enroll_patient(phone="555-0102").patient
    webhook.statuses = [400]
    summary = tick(_hook_app(reminder_app, webhook), NOW)

    assert (summary["dead"], summary["retried"]) == (1, 0)
    [reminder] = reminders(app)
    assert (reminder.status, reminder.attempts) == ("dead", 1)
    [alert] = session.scalars(select(Alert)).all()
    assert (alert.rule, alert.urgency, alert.status) == (UNDELIVERABLE, "high", "open")
    assert alert.patient_id == patient.id
    assert "HTTP 400" in alert.summary
    listed = undeliverable_reminders(session, clinic.id)
    assert [(r.id, p.id) for r, p in listed] == [(reminder.id, patient.id)]
    assert tick(_hook_app(reminder_app, webhook), NOW + timedelta(hours=1))["sent"] == 0
    assert len(webhook.received) == 1


def test_it_gives_up_after_the_configured_attempts(
    app, session, enroll_patient, reminder_app, webhook
):
    enroll_patient()
    webhook.statuses = [503] * 10
    hook = _hook_app(reminder_app, webhook, REMINDER_MAX_ATTEMPTS=3)
    at = NOW
    for _ in range(5):
        tick(hook, at)
        at += timedelta(hours=1)
    [reminder] = reminders(app)
    assert (reminder.status, reminder.attempts) == ("dead", 3)
    assert len(webhook.received) == 3
    assert session.scalar(select(Alert.rule)) == UNDELIVERABLE


def test_it_retries_when_the_webhook_is_unreachable(app, enroll_patient, reminder_app):
    enroll_patient()
    closed = f"http://127.0.0.1:{free_port()}/hook"
    summary = tick(reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=closed), NOW)
    assert summary["retried"] == 1
    [reminder] = reminders(app)
    assert reminder.status == "pending" and "ConnectionRefused" in reminder.last_error


def test_it_dead_letters_a_webhook_channel_without_a_url(
    app, session, enroll_patient, reminder_app
):
    enroll_patient()
    assert tick(reminder_app(REMINDER_CHANNEL="webhook"), NOW)["dead"] == 1
    assert "no webhook URL" in session.scalar(select(Alert.summary))


def test_it_cancels_pending_reminders_of_a_plan_paused_after_planning(
    app, session, clinic, enroll_patient
):
    plan = enroll_patient().plan
    with session_factory(app)() as other:
        plan_reminders(other, now=NOW, settings=ChannelSettings())
    plan.status = "paused"
    session.commit()
    summary = tick(app, NOW)
    assert (summary["sent"], summary["expired"]) == (0, 1)
    [reminder] = reminders(app)
    assert reminder.status == "dead" and reminder.last_error.startswith("cancelled: ")
    assert session.scalar(select(Alert)) is None
    assert undeliverable_reminders(session, clinic.id) == []


def test_it_claims_each_row_for_one_worker_and_reclaims_a_lapsed_lease(app, enroll_patient):
    for n in range(5):
        enroll_patient(name=f"Patient {n}")
    settings = DeliverySettings(base_url="http://x", secret_key="k", batch_size=3)
    with session_factory(app)() as session:
        plan_reminders(session, now=NOW, settings=ChannelSettings())
        first = claim(session, now=NOW, worker="a", settings=settings)
        second = claim(session, now=NOW, worker="b", settings=settings)
        third = claim(session, now=NOW, worker="c", settings=settings)
        assert (len(first), len(second), third) == (3, 2, [])
        assert not set(first) & set(second)
        # Worker "a" died: its lease lapses and another worker takes the rows over.
        later = NOW + timedelta(seconds=settings.lease_seconds + 1)
        assert (
            sorted(claim(session, now=later, worker="d", settings=settings))
            == sorted(first + second)[:3]
        )


def test_it_sends_a_personal_link_that_signs_in_and_follows_revocation(
    app, session, enroll_patient, reminder_app, webhook
):
    patient = enroll_patient().patient
    hook = _hook_app(reminder_app, webhook)
    webhook.statuses = [500]
    tick(hook, NOW)
    first_link = webhook.received[0]["link"]
    raw = urlsplit(first_link).path.removeprefix("/p/")
    assert first_link.startswith("http://localhost/p/")
    assert find_valid_token(session, raw, now=NOW) is not None

    revoke_links(session, patient, now=NOW)
    session.commit()
    tick(hook, NOW + timedelta(minutes=5))
    second_link = webhook.received[1]["link"]
    assert second_link != first_link
    assert find_valid_token(session, raw, now=NOW) is None
    assert find_valid_token(session, second_link.rsplit("/", 1)[1], now=NOW) is not None


def test_the_digest_lists_today_and_nudges_after_a_day_without_check_in(
    app, session, enroll_patient, reminder_app, webhook
):
    quiet = enroll_patient(name="Quiet Patient").plan
    logged = enroll_patient(name="Logged Patient").plan
    session.add(
        PainEntry(
            plan_id=logged.id,
            score=4,
            local_day=datetime(2026, 11, 20).date(),
            recorded_at=NOW - timedelta(days=1),
        )
    )
    session.commit()
    tick(_hook_app(reminder_app, webhook), NOW)
    texts = {m["to"]["name"]: m["text"] for m in webhook.received}
    assert "We did not get a check-in from you yesterday" in texts["Quiet Patient"]
    assert "We did not get a check-in" not in texts["Logged Patient"]
    text = texts["Logged Patient"]
    assert "day 1 of your recovery after kyphoplasty" in text
    # Through the six-week visit's window (day 44), under the day it lasts until.
    assert "Until Sunday 3 January:\n- No heavy lifting: Do not lift" in text
    assert "Log your pain score" in text and "Call your care team at 555-0142" in text
    assert quiet.id != logged.id


def test_it_expires_yesterdays_unsent_reminder_without_sending_it(
    app, session, clinic, enroll_patient, reminder_app, webhook
):
    enroll_patient()
    yesterday_nine = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    with session_factory(app)() as other:
        plan_reminders(other, now=yesterday_nine, settings=ChannelSettings())
    summary = tick(_hook_app(reminder_app, webhook), NOW)
    assert (summary["planned"], summary["sent"], summary["expired"]) == (1, 1, 1)
    by_day = {r.local_day.isoformat(): r for r in reminders(app)}
    assert by_day["2026-11-20"].status == "dead"
    assert by_day["2026-11-20"].last_error.startswith("expired: ")
    assert by_day["2026-11-21"].status == "sent"
    assert [m["local_day"] for m in webhook.received] == ["2026-11-21"]
    assert session.scalar(select(Alert)) is None
    assert undeliverable_reminders(session, clinic.id) == []


def test_a_reminder_failing_until_its_day_ends_is_reported_undeliverable(
    app, session, clinic, enroll_patient, reminder_app, webhook
):
    enroll_patient()
    webhook.statuses = [500] * 3
    hook = _hook_app(reminder_app, webhook, REMINDER_RETRY_BASE_SECONDS=6 * 3600)
    tick(hook, NOW)  # 10:00 in New York: fails, next try 16:00
    tick(hook, NOW + timedelta(hours=6))  # fails again, next try in 12 hours: tomorrow
    tick(hook, NOW + timedelta(hours=19))  # 05:00 the next day: too late to send
    yesterday = session.scalars(
        select(Reminder).where(Reminder.local_day == datetime(2026, 11, 21).date())
    ).one()
    assert yesterday.status == "dead" and "HTTP 500" in yesterday.last_error
    assert session.scalar(select(Alert.rule)) == UNDELIVERABLE
    assert [r.id for r, _ in undeliverable_reminders(session, clinic.id)] == [yesterday.id]
