"""Webhook hardening: Retry-After is honoured, and the URL's secrets never leak."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import free_port, reminders, tick
from tracker.core.models import Alert
from tracker.reminders.channels import redact_url


def _hook(reminder_app, url, **config):
    return reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=url, **config)


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [
        (429, "120", timedelta(seconds=120)),
        (503, "600", timedelta(seconds=600)),
        (503, format_datetime(NOW + timedelta(minutes=7), usegmt=True), timedelta(minutes=7)),
        # Already past, or 0: not at once, which would retry in a tight loop.
        (429, format_datetime(NOW - timedelta(minutes=7), usegmt=True), timedelta(seconds=10)),
        (503, "0", timedelta(seconds=10)),
        (429, "86400", timedelta(hours=1)),  # capped (REMINDER_RETRY_AFTER_MAX_SECONDS)
        (503, "soon", timedelta(seconds=60)),  # unreadable: the usual backoff
    ],
)
def test_it_retries_when_the_webhooks_retry_after_says(
    app, enroll_patient, reminder_app, webhook, status, retry_after, wait
):
    enroll_patient(phone="555-0102")
    webhook.statuses = [status]
    webhook.response_headers = [{"Retry-After": retry_after}]
    hook = _hook(reminder_app, webhook.url)

    assert tick(hook, NOW)["retried"] == 1
    [reminder] = reminders(app)
    assert reminder.next_attempt_at == NOW + wait
    assert tick(hook, NOW + wait)["sent"] == 1


def test_the_retry_after_cap_is_configurable(app, enroll_patient, reminder_app, webhook):
    enroll_patient(phone="555-0102")
    webhook.statuses = [503]
    webhook.response_headers = [{"Retry-After": "3000"}]
    hook = _hook(reminder_app, webhook.url, REMINDER_RETRY_AFTER_MAX_SECONDS=900)
    tick(hook, NOW)
    [reminder] = reminders(app)
    assert reminder.next_attempt_at == NOW + timedelta(seconds=900)


SECRETS = ("s3cr3t-pass", "gateway-user", "tok3n-value", "api_key", "token=")


def _assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_webhook_credentials_and_query_never_reach_last_error_alerts_or_logs(
    app, session, enroll_patient, reminder_app, webhook, caplog
):
    enroll_patient(phone="555-0102")
    port = webhook.url.split(":")[2].split("/")[0]
    url = f"http://gateway-user:s3cr3t-pass@127.0.0.1:{port}/hook?api_key=tok3n-value"
    hook = _hook(reminder_app, url)
    webhook.statuses = [503, 400]

    with caplog.at_level(logging.DEBUG):
        assert tick(hook, NOW)["retried"] == 1
        [reminder] = reminders(app)
        first_error = reminder.last_error
        assert tick(hook, NOW + timedelta(minutes=1))["dead"] == 1
    [reminder] = reminders(app)
    [alert] = session.scalars(select(Alert)).all()
    assert f"webhook http://127.0.0.1:{port}/hook answered HTTP 503" in first_error
    assert f"webhook http://127.0.0.1:{port}/hook answered HTTP 400" in reminder.last_error
    _assert_no_secrets(first_error, reminder.last_error, alert.summary, str(alert.detail))
    _assert_no_secrets(caplog.text)
    assert len(webhook.received) == 2  # the query string still reaches the gateway


def test_an_unreachable_or_invalid_webhook_url_is_redacted_too(
    app, session, enroll_patient, reminder_app, caplog
):
    enroll_patient(phone="555-0102")
    refused = f"https://gateway-user:s3cr3t-pass@127.0.0.1:{free_port()}/in?token=tok3n-value"
    with caplog.at_level(logging.DEBUG):
        tick(_hook(reminder_app, refused), NOW)
    [reminder] = reminders(app)
    assert reminder.last_error.startswith(f"webhook {redact_url(refused)}: ")
    _assert_no_secrets(reminder.last_error, caplog.text)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@sms.example:8443/a/b?token=x#f", "https://sms.example:8443/a/b"),
        ("http://sms.example/hook", "http://sms.example/hook"),
        ("https://api_key@sms.example", "https://sms.example"),
        ("ftp://gateway-user:s3cr3t-pass@files.example/x?api_key=1", "ftp://files.example/x"),
        ("http://u:p@[::1]:9000/h?k=v", "http://[::1]:9000/h"),
        ("http://u:p@host:notaport/h?token=x", "http://host/h"),
        ("", "(none)"),
    ],
)
def test_redact_url_keeps_scheme_host_port_and_path_only(url, shown):
    assert redact_url(url) == shown


def test_a_webhook_url_that_is_not_http_is_dead_lettered_with_the_url_redacted(
    app, session, enroll_patient, reminder_app
):
    enroll_patient(phone="555-0102")
    tick(_hook(reminder_app, "ftp://gateway-user:s3cr3t-pass@files.example/x?api_key=1"), NOW)
    [reminder] = reminders(app)
    assert reminder.status == "dead"
    assert reminder.last_error == "webhook URL ftp://files.example/x is not http(s)"
    [alert] = session.scalars(select(Alert)).all()
    _assert_no_secrets(alert.summary)
