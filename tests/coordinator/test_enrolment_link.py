"""After enrolment: the new personal link as a QR code on screen, a printed handout, or sent
now by email or text message through the reminder channels; never stored in clear."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import textstat
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import NOW, _empty_tables, make_test_app
from tests.reminders.conftest import (  # noqa: F401 (fixtures)
    SMTPServer,
    WebhookReceiver,
    smtp_server,
    webhook,
)
from tracker.core.db import Base
from tracker.core.models import AuditEvent, Patient, PatientLinkToken, TextOptOut
from tracker.plans.card import link_qr_svg
from tracker.plans.links import LINK_PATH, find_valid_token, hash_token
from tracker.reminders import welcome
from tracker.reminders.sms_text import fits

ENROL = {
    "name": "Jo Sample",
    "procedure": "kyphoplasty",
    "procedure_date": "2026-11-19",
    "timezone": "America/Chicago",
    "reminder_time": "09:00",
    "email": "jo@example.org",
    "phone": "(555) 201-0142",
}
LINK = re.compile(r"http://localhost/p/([A-Za-z0-9_-]{43})")


@pytest.fixture
def app(database_url: str, smtp_server: SMTPServer, webhook: WebhookReceiver) -> Iterator[Flask]:  # noqa: F811
    app = make_test_app(
        database_url,
        FIXED_NOW=NOW,
        WTF_CSRF_ENABLED=False,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
        MAIL_FROM="Recovery Tracker <tracker@example.org>",
        WEBHOOK_URL=webhook.url,
        WEBHOOK_TIMEOUT=5,
    )
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


def _enrol(client, **changes: str) -> tuple[str, str]:
    """Enrol through the form; returns the page and the raw token it shows."""
    response = client.post("/coordinator/enrol", data=ENROL | changes)
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    page = response.get_data(as_text=True)
    raw = LINK.search(page).group(1)
    return page, raw


def _text(page: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" :", ":")


def _patient(session) -> Patient:
    session.expire_all()
    return session.scalars(select(Patient).where(Patient.name == "Jo Sample")).one()


def _audits(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_new_link_is_shown_with_its_qr_code_and_every_way_to_hand_it_over(
    coordinator_client, session
):
    page, raw = _enrol(coordinator_client)
    link = f"http://localhost{LINK_PATH}{raw}"
    patient = _patient(session)
    assert f"<code>{link}</code>" in page
    # The QR code on screen is the link itself (the same code segno makes of it).
    qr = link_qr_svg(link, label="QR code of Jo Sample's personal link")
    assert str(qr) in page
    assert 'role="img" aria-label="QR code of Jo Sample&#39;s personal link"' in page
    handout = f'action="/coordinator/patients/{patient.id}/link/handout"'
    send = f'action="/coordinator/patients/{patient.id}/link/send"'
    assert handout in page and page.count(send) == 2
    assert "Send by email to jo@example.org" in page
    assert "Send by text message to (555) 201-0142" in page
    assert page.count(f'name="token" value="{raw}"') == 3


def test_a_channel_that_is_not_set_up_says_why(coordinator_client, session, app):
    app.config.update(SMTP_HOST=None, WEBHOOK_URL=None)
    page, _ = _enrol(coordinator_client)
    text = _text(page)
    assert "Email: Email is not set up for this clinic." in text
    assert "Text message: Text messages are not set up for this clinic." in text
    assert "Send by" not in text
    assert "Print a handout with this link" in text  # printing and the QR code still work


def test_a_patient_without_an_address_or_number_is_not_sent_to(coordinator_client, session):
    page, _ = _enrol(coordinator_client, email="", phone="")
    text = _text(page)
    assert "Email: Jo Sample has no email address on file." in text
    assert "Text message: Jo Sample has no mobile number on file." in text
    assert "Send by" not in text


def test_a_number_that_cannot_get_texts_or_texted_stop_is_not_offered(coordinator_client, session):
    page, _ = _enrol(coordinator_client, phone="0044 20 7946")
    assert "cannot get text messages" in html.unescape(page)
    assert "Send by text message" not in page
    session.add(TextOptOut(number="+15552010142", opted_out_at=NOW, keyword="STOP", updated_at=NOW))
    session.commit()
    page, _ = _enrol(coordinator_client, name="Jo Stopped")
    text = html.unescape(page)
    assert "texted STOP: no text goes to it until it texts START." in text
    assert "Send by text message" not in text


def test_the_handout_is_one_page_of_qr_code_link_and_warning_signs(coordinator_client, session):
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/handout", data={"token": raw}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = f"http://localhost{LINK_PATH}{raw}"
    assert str(link_qr_svg(link, label="QR code of Jo Sample's personal link")) in page
    assert f'<p class="link-box"><code>{link}</code></p>' in page
    assert 'class="plan-card link-handout"' in page  # the card's print stylesheet applies
    words = re.sub(r"<[^>]+>", "", page)  # the numbers are links to call
    assert "Call 911 now if" in words and "555-0142" in words
    assert "Keep this sheet to yourself." in page
    assert [e.detail for e in _audits(session, "link.handout")] == [{}]
    assert _audits(session, "link.handout")[0].patient_id == patient.id


def test_a_stale_or_foreign_link_prints_nothing(coordinator_client, session, enroll_patient):
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    other = enroll_patient(name="Someone Else")
    url = f"/coordinator/patients/{patient.id}/link/handout"
    for token in ("", "not-a-token", other.link_token):
        response = coordinator_client.post(url, data={"token": token})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/coordinator/patients/{patient.id}#link")
    follow = coordinator_client.get(f"/coordinator/patients/{patient.id}")
    assert "That personal link no longer works" in html.unescape(follow.get_data(as_text=True))
    # Issuing a new link (on the record) makes the enrolment page's link stale too.
    coordinator_client.post(f"/coordinator/patients/{patient.id}/link", data={"action": "rotate"})
    assert coordinator_client.post(url, data={"token": raw}).status_code == 302
    assert (
        coordinator_client.post(
            f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "email"}
        ).status_code
        == 302
    )
    assert _audits(session, "link.handout") == [] and _audits(session, "link.send") == []


def test_another_clinics_patient_is_not_found(
    coordinator_client, session, enroll_patient, other_clinic
):
    theirs = enroll_patient(name="Their Patient", clinic=other_clinic)
    for path in ("link/handout", "link/send"):
        response = coordinator_client.post(
            f"/coordinator/patients/{theirs.patient.id}/{path}",
            data={"token": theirs.link_token, "channel": "email"},
        )
        assert response.status_code == 404
    assert _audits(session, "link.send") == [] and _audits(session, "link.handout") == []


def test_it_sends_the_link_by_email_now(coordinator_client, session, smtp_server):  # noqa: F811
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "email"}
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Sent by email to jo@example.org at 10:00 AM EST." in page
    assert f"http://localhost{LINK_PATH}{raw}" in page  # still on the page, to print too
    (message,) = smtp_server.handler.messages
    assert smtp_server.handler.envelopes[0][1] == ["jo@example.org"]
    assert message["Subject"] == "Your recovery page at Test Spine Clinic"
    body = message.get_body(("plain",)).get_content()
    assert f"http://localhost{LINK_PATH}{raw}" in body and "Call 911 now for" in body
    (event,) = _audits(session, "link.send")
    assert event.patient_id == patient.id
    assert event.detail == {"channel": "email", "to": "jo@example.org"}


def test_smtp_down_says_the_email_was_not_sent(coordinator_client, session, smtp_server):  # noqa: F811
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    smtp_server.stop()
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "email"}
    )
    assert response.status_code == 502
    page = html.unescape(response.get_data(as_text=True))
    assert "The email was not sent: SMTP 127.0.0.1:" in page
    assert "Jo Sample has not received the link." in page
    assert "Sent by" not in page
    assert f"http://localhost{LINK_PATH}{raw}" in page  # print or show it instead
    assert _audits(session, "link.send") == []
    (failed,) = _audits(session, "link.send_failed")
    assert failed.detail["channel"] == "email" and "SMTP" in failed.detail["error"]


def test_it_sends_the_link_by_text_message_through_the_gateway(
    coordinator_client,
    session,
    webhook,  # noqa: F811
):
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "webhook"}
    )
    assert response.status_code == 200
    assert "Sent by text message to (555) 201-0142" in response.get_data(as_text=True)
    (posted,) = webhook.received
    link = f"http://localhost{LINK_PATH}{raw}"
    assert posted["kind"] == "link" and posted["link"] == link
    assert posted["to"]["phone"] == "+15552010142"
    assert link in posted["sms"] and "Call 911 now" in posted["sms"] and fits(posted["sms"])
    (event,) = _audits(session, "link.send")
    assert event.detail == {"channel": "webhook", "to": "(555) 201-0142"}


def test_a_gateway_error_says_the_text_was_not_sent(coordinator_client, session, webhook):  # noqa: F811
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    webhook.statuses = [503]
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "webhook"}
    )
    assert response.status_code == 502
    page = html.unescape(response.get_data(as_text=True))
    assert "The text message was not sent:" in page and "answered HTTP 503" in page
    assert "Sent by" not in page


def test_a_channel_not_offered_is_refused(coordinator_client, session):
    _, raw = _enrol(coordinator_client, email="")
    patient = _patient(session)
    url = f"/coordinator/patients/{patient.id}/link/send"
    for channel, message in (
        ("email", "Jo Sample has no email address on file."),
        ("log", "Choose email or text message."),
        ("", "Choose email or text message."),
    ):
        response = coordinator_client.post(url, data={"token": raw, "channel": channel})
        assert response.status_code == 400
        assert message in html.unescape(response.get_data(as_text=True))
    assert _audits(session, "link.send") == [] and _audits(session, "link.send_failed") == []


def test_the_link_is_stored_nowhere_in_clear(app, coordinator_client, session, smtp_server):  # noqa: F811
    _, raw = _enrol(coordinator_client)
    patient = _patient(session)
    for path, data in (
        ("link/handout", {"token": raw}),
        ("link/send", {"token": raw, "channel": "email"}),
        ("link/send", {"token": raw, "channel": "webhook"}),
    ):
        coordinator_client.post(f"/coordinator/patients/{patient.id}/{path}", data=data)
    smtp_server.stop()
    coordinator_client.post(
        f"/coordinator/patients/{patient.id}/link/send", data={"token": raw, "channel": "email"}
    )
    engine = app.extensions["tracker.engine"]
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                assert raw not in repr(tuple(row)), table.name
    token = find_valid_token(session, raw, now=NOW)
    assert token is not None and token.token_hash == hash_token(raw)
    assert session.scalar(select(func.count()).select_from(PatientLinkToken)) == 1


def test_the_message_is_in_plain_words():
    for sentence in (welcome.INTRO, welcome.KEEP_PRIVATE):
        assert textstat.flesch_kincaid_grade(sentence) <= 6.0, sentence
