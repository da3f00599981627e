"""The plan step: today's reminders, in the patient's time zone, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import NOW
from tests.reminders.conftest import reminders, tick
from tracker.reminders.planning import ChannelSettings, choose_channel

# 09:00 in New York on Saturday 2026-11-21 is 14:00 UTC.
NINE_NY = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def test_it_plans_nothing_before_the_local_reminder_time(app, enroll_patient):
    enroll_patient()
    summary = tick(app, NINE_NY - timedelta(minutes=1))
    assert summary["planned"] == 0
    assert reminders(app) == []


def test_it_plans_and_sends_one_daily_reminder_once_the_time_has_passed(app, enroll_patient):
    plan = enroll_patient().plan
    first = tick(app, NINE_NY)
    again = tick(app, NINE_NY + timedelta(minutes=1))
    later = tick(app, NOW + timedelta(hours=8))

    assert (first["planned"], first["sent"]) == (1, 1)
    assert (again["planned"], again["sent"]) == (0, 0)
    assert (later["planned"], later["sent"]) == (0, 0)
    [reminder] = reminders(app)
    assert (reminder.plan_id, reminder.kind, reminder.channel) == (plan.id, "daily", "log")
    assert reminder.local_day.isoformat() == "2026-11-21"
    assert reminder.status == "sent" and reminder.sent_at == NINE_NY
    assert reminder.due_at == NINE_NY
    assert reminder.idempotency_key == f"reminder-{plan.id}-daily-2026-11-21"


def test_it_follows_each_patients_own_time_zone_and_reminder_time(app, enroll_patient):
    enroll_patient(name="Tokyo", timezone="Asia/Tokyo", reminder_time="08:00")
    enroll_patient(name="Los Angeles", timezone="America/Los_Angeles", reminder_time="07:30")
    # 2026-11-21 23:30 UTC: 08:30 on Sunday the 22nd in Tokyo, 15:30 on the 21st in LA.
    tick(app, datetime(2026, 11, 21, 23, 30, tzinfo=UTC))
    days = sorted((r.local_day.isoformat(), r.due_at.isoformat()) for r in reminders(app))
    assert days == [
        ("2026-11-21", "2026-11-21T15:30:00+00:00"),
        ("2026-11-22", "2026-11-21T23:00:00+00:00"),
    ]


def test_it_plans_nothing_for_paused_or_ended_plans(app, session, enroll_patient):
    paused = enroll_patient(name="Paused").plan
    ended = enroll_patient(name="Ended").plan
    active = enroll_patient(name="Active").plan
    paused.status = "paused"
    ended.status = "ended"
    session.commit()

    for hours in range(0, 72, 6):
        tick(app, NINE_NY + timedelta(hours=hours))
    assert {r.plan_id for r in reminders(app)} == {active.id}


def test_it_plans_nothing_before_the_procedure_or_after_the_plans_last_day(app, enroll_patient):
    enroll_patient(name="Booked", procedure_date="2026-11-23")
    enroll_patient(name="Finished", procedure_date="2026-10-07")  # day 45: past its 45 days
    last = enroll_patient(name="Last day", procedure_date="2026-10-08").plan  # day 44
    tick(app, NOW)
    assert [(r.plan_id, r.kind) for r in reminders(app)] == [(last.id, "daily")]


def test_it_reminds_the_day_before_an_appointment_with_an_actual_date(
    app, session, enroll_patient, webhook, reminder_app
):
    plan = enroll_patient(procedure_date="2026-11-11").plan  # day 10 on the 21st
    plan.overrides = {"followup_first": {"date": "2026-11-22"}}
    session.commit()
    hook_app = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)

    tick(hook_app, NOW)
    tick(hook_app, NOW + timedelta(days=1))  # the visit day itself: no second reminder

    kinds = sorted((r.kind, r.local_day.isoformat(), r.status) for r in reminders(app))
    assert kinds == [
        ("appointment", "2026-11-21", "sent"),
        ("daily", "2026-11-21", "sent"),
        ("daily", "2026-11-22", "sent"),
    ]
    [visit] = [m for m in webhook.received if m["kind"] == "appointment"]
    assert visit["subject"].startswith("Reminder: First follow-up visit tomorrow")
    assert "Sunday 22 November" in visit["text"]


def test_it_does_not_remind_about_a_visit_whose_date_is_not_set(app, enroll_patient):
    enroll_patient(procedure_date="2026-11-11")  # window days 10-14, no actual date
    for days in range(6):
        tick(app, NOW + timedelta(days=days))
    assert {r.kind for r in reminders(app)} == {"daily"}


def test_it_picks_email_when_the_patient_has_an_address_and_smtp_is_set_up():
    smtp = ChannelSettings(default_channel="log", email_enabled=True)
    no_smtp = ChannelSettings(default_channel="webhook", email_enabled=False)
    assert choose_channel(smtp, patient_email="a@b.org", clinic_channel="log") == "email"
    assert choose_channel(smtp, patient_email=None, clinic_channel="log") == "log"
    assert choose_channel(smtp, patient_email=None, clinic_channel="webhook") == "webhook"
    assert choose_channel(no_smtp, patient_email="a@b.org", clinic_channel="log") == "webhook"


def test_it_plans_the_chosen_channel_per_patient(
    app, enroll_patient, reminder_app, smtp_server, webhook
):
    with_email = enroll_patient(name="Mail", email="pat@example.org").plan
    without = enroll_patient(name="Phone", phone="555-0101").plan
    configured = reminder_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        REMINDER_CHANNEL="webhook",
        WEBHOOK_URL=webhook.url,
    )
    summary = tick(configured, NOW)
    assert summary["sent"] == 2
    channels = {r.plan_id: r.channel for r in reminders(app)}
    assert channels == {with_email.id: "email", without.id: "webhook"}
    assert len(smtp_server.handler.messages) == 1
    assert webhook.received[0]["to"]["phone"] == "555-0101"


def test_it_cancels_an_appointment_reminder_when_the_visit_date_moves_before_sending(
    app, session, enroll_patient, reminder_app, webhook
):
    plan = enroll_patient(procedure_date="2026-11-11").plan
    plan.overrides = {"followup_first": {"date": "2026-11-22"}}
    session.commit()
    webhook.statuses = [200, 500]  # the digest goes out; the visit reminder fails once
    hook_app = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)
    tick(hook_app, NOW)
    plan.overrides = {"followup_first": {"date": "2026-11-24"}}
    session.commit()
    tick(hook_app, NOW + timedelta(minutes=5))

    visit = next(r for r in reminders(app) if r.kind == "appointment")
    assert visit.status == "dead" and visit.last_error.startswith("cancelled: ")
    assert [m["kind"] for m in webhook.received] == ["daily", "appointment"]
