"""Delivery reports from the gateway: queued, sent, delivered move the reminder's gateway
status forward; undelivered or failed make it dead and count as undeliverable (the alert).
Also: what the reminder text says when replies are read, and that it is in the conversation
without the personal link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.texting.conftest import BASE_URL, NUMBER, SECRET, count, texts, tick
from tracker.core.models import Alert, AlertEvent, Reminder
from tracker.reminders.delivery import undeliverable_reminders
from tracker.reminders.sms_rules import LINK_PLACEHOLDER, PAIN_PROMPT
from tracker.texting.gateways import TwilioGateway

GATEWAY = TwilioGateway()


def report(client, key: str, status: str, *, error: str | None = None, signed: bool = True):
    path = f"/sms/status?key={key}"
    fields = {"MessageSid": "SM" + "b" * 32, "MessageStatus": status}
    if error:
        fields["ErrorCode"] = error
    headers = GATEWAY.signed_headers(f"{BASE_URL}{path}", fields, SECRET) if signed else {}
    return client.post(path, data=fields, headers=headers)


def test_the_reminder_text_asks_for_the_pain_score_and_for_reports(
    app, fake, gateway_server, session, patient
):
    tick(app, NOW)
    (sent,) = [t for t in fake.conversation(NUMBER) if t.kind == "daily"]
    assert sent.body.startswith(f"Test Spine Clinic: Day 1 of your recovery. {PAIN_PROMPT}")
    reminder = session.scalars(select(Reminder)).one()
    assert reminder.channel == "webhook" and reminder.status == "sent"
    # The conversation keeps the text, without the personal link (a credential).
    (row,) = texts(session)
    assert (row.direction, row.kind, row.question, row.reminder_id) == (
        "out",
        "reminder",
        "pain",
        reminder.id,
    )
    assert LINK_PLACEHOLDER in row.body and "/p/" not in row.body
    assert row.body == re.sub(r"http://localhost/p/\S+", LINK_PLACEHOLDER, sent.body)
    # A number texted back is today's pain score.
    assert fake.text_from(NUMBER, "3")[0] == "Thank you. Your pain score of 3 is saved."


def test_delivery_reports_move_the_reminder_forward(app, fake, gateway_server, session, patient):
    tick(app, NOW)
    assert fake.flush_callbacks() == [204, 204, 204]
    session.expire_all()
    reminder = session.scalars(select(Reminder)).one()
    assert (reminder.status, reminder.gateway_status) == ("sent", "delivered")
    assert reminder.gateway_status_at == NOW
    # A late "sent" does not move it back.
    client = app.test_client()
    assert report(client, reminder.idempotency_key, "sent").status_code == 204
    session.expire_all()
    assert session.get(Reminder, reminder.id).gateway_status == "delivered"


def test_the_status_callback_url_carries_the_reminders_key(app, fake, gateway_server, patient):
    tick(app, NOW)
    url, _ = fake.callbacks[0]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE_URL}/sms/status"
    assert parse_qs(parts.query)["key"][0].startswith(f"reminder-{patient.plan.id}-daily-")


def test_a_failed_text_is_undeliverable_and_alerts_once(
    app, fake, gateway_server, session, patient
):
    fake.failing.add(NUMBER)
    tick(app, NOW)
    assert fake.flush_callbacks() == [204, 204, 204]
    session.expire_all()
    reminder = session.scalars(select(Reminder)).one()
    assert (reminder.status, reminder.gateway_status) == ("dead", "failed")
    assert reminder.last_error == "the SMS gateway reported the text failed (error 30003)"
    assert [r.id for r, _ in undeliverable_reminders(session, patient.plan.clinic_id)] == [
        reminder.id
    ]
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.status) == ("undeliverable", "open")
    assert "the SMS gateway reported the text failed (error 30003)" in alert.summary
    # The same report again changes nothing.
    client = app.test_client()
    assert report(client, reminder.idempotency_key, "failed", error="30003").status_code == 204
    assert report(client, reminder.idempotency_key, "undelivered").status_code == 204
    assert count(session, Alert) == 1
    assert count(session, AlertEvent) == 1


@pytest.mark.parametrize("status", ["undelivered", "failed", "canceled"])
def test_every_final_failure_counts(app, fake, gateway_server, session, patient, status):
    tick(app, NOW)
    reminder = session.scalars(select(Reminder)).one()
    assert report(app.test_client(), reminder.idempotency_key, status).status_code == 204
    session.expire_all()
    assert session.get(Reminder, reminder.id).status == "dead"
    assert count(session, Alert) == 1


def test_reports_that_are_not_signed_or_not_ours_change_nothing(
    app, fake, gateway_server, session, patient
):
    tick(app, NOW)
    reminder = session.scalars(select(Reminder)).one()
    client = app.test_client()
    assert report(client, reminder.idempotency_key, "failed", signed=False).status_code == 403
    assert report(client, "reminder-999-daily-2026-11-21", "failed").status_code == 204
    assert report(client, reminder.idempotency_key, "received").status_code == 204
    assert report(client, reminder.idempotency_key, "exploded").status_code == 400
    no_key = client.post(
        "/sms/status",
        data={"MessageStatus": "failed"},
        headers=GATEWAY.signed_headers(
            f"{BASE_URL}/sms/status", {"MessageStatus": "failed"}, SECRET
        ),
    )
    assert no_key.status_code == 400
    session.expire_all()
    assert session.get(Reminder, reminder.id).status == "sent"
    assert count(session, Alert) == 0
