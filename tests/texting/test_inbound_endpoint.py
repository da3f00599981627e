"""The inbound endpoint's guards: signature (refused and audited), replay, bad posts, floods.

Whatever is refused stores nothing: no text, no pain score, no opt-out.
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import make_test_app
from tests.texting.conftest import BASE_URL, NUMBER, SECRET, count, texting_config
from tracker.core.db import session_factory
from tracker.core.models import AuditEvent, PainEntry, TextMessage, TextOptOut
from tracker.texting.gateways import TwilioGateway

GATEWAY = TwilioGateway()
SID = "SM" + "a" * 32


def form(body: str = "4", *, sid: str = SID, sender: str = NUMBER) -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+15552010100", "Body": body}


def post(client, fields, *, path="/sms/inbound", secret=SECRET, signed_url=None, headers=None):
    url = signed_url or f"{BASE_URL}{path}"
    signature = {"X-Twilio-Signature": GATEWAY.signature(url, fields, secret)} if secret else {}
    return client.post(path, data=fields, headers={**signature, **(headers or {})})


def nothing_stored(session) -> None:
    assert count(session, TextMessage) == 0
    assert count(session, PainEntry) == 0
    assert count(session, TextOptOut) == 0


def test_it_matches_twilios_published_signature_examples():
    # From Twilio's own SDK tests and its security documentation (token "12345").
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    for caller, expected in (
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
    ):
        params = {
            "CallSid": "CA1234567890ABCDE",
            "Caller": caller,
            "Digits": "1234",
            "From": caller,
            "To": "+18005551212",
        }
        assert GATEWAY.signature(url, params, "12345") == expected


def test_a_signed_text_is_answered_with_twiml(client, session, patient):
    response = post(client, form("4"))
    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    texts = GATEWAY.texts_of_reply(response.get_data(as_text=True))
    assert texts[0] == "Thank you. Your pain score of 4 is saved."
    assert count(session, PainEntry) == 1


@pytest.mark.parametrize(
    ("how", "kwargs"),
    [
        ("unsigned", {"secret": None}),
        ("another secret", {"secret": "another-secret-0123456789abcdef"}),
        ("another URL", {"signed_url": "https://elsewhere.example/sms/inbound"}),
    ],
)
def test_a_post_without_the_gateways_signature_is_refused_and_audited(
    client, session, patient, how, kwargs
):
    response = post(client, form("4"), **kwargs)
    assert response.status_code == 403, how
    nothing_stored(session)
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action.like("text.%"))).all()
    assert [(a.action, a.detail["path"]) for a in audit] == [
        ("text.signature_refused", "/sms/inbound")
    ]
    assert audit[0].detail["signature"] == ("missing" if how == "unsigned" else "wrong")


def test_a_text_changed_after_signing_is_refused(client, session, patient):
    fields = form("2")
    signature = GATEWAY.signature(f"{BASE_URL}/sms/inbound", fields, SECRET)
    tampered = {**fields, "Body": "STOP"}
    response = client.post("/sms/inbound", data=tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    nothing_stored(session)


def test_refusals_beyond_the_limit_are_not_audited_one_by_one(app, client, session, patient):
    app.config["SMS_REFUSED_LIMIT_PER_ADDRESS"] = "3 per 10 minutes"
    statuses = [post(client, form(sid=f"SM{n:032d}"), secret=None).status_code for n in range(5)]
    assert statuses == [403, 403, 403, 429, 429]
    assert count(session, AuditEvent, AuditEvent.action == "text.signature_refused") == 3
    nothing_stored(session)


def test_the_same_message_posted_again_is_answered_once(client, session, patient):
    first = post(client, form("4"))
    again = post(client, form("4"))
    assert GATEWAY.texts_of_reply(first.get_data(as_text=True))
    # The replay is acknowledged (200: the gateway must not retry) but changes nothing.
    assert again.status_code == 200
    assert GATEWAY.texts_of_reply(again.get_data(as_text=True)) == []
    assert count(session, PainEntry) == 1
    assert count(session, TextMessage, TextMessage.direction == "in") == 1


def test_the_same_message_posted_twice_at_once_is_answered_once(app, session, patient):
    """Two workers receive the gateway's retry at the same moment: the unique message id
    lets one of them in (PostgreSQL makes the second wait for the first, then skip)."""
    barrier = threading.Barrier(2)
    results: list[int] = []

    def deliver() -> None:
        client = app.test_client()
        barrier.wait()
        response = post(client, form("6"))
        results.append(len(GATEWAY.texts_of_reply(response.get_data(as_text=True))))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results)[0] == 0 and sorted(results)[1] > 0
    assert count(session, PainEntry) == 1
    assert count(session, TextMessage, TextMessage.direction == "in") == 1


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"From": NUMBER, "Body": "4"}, 400),  # no MessageSid
        ({"MessageSid": "SM<script>", "From": NUMBER, "Body": "4"}, 400),
        ({"MessageSid": SID, "Body": "4"}, 400),  # no sender
        ({"MessageSid": SID, "From": "hello", "Body": "4"}, 400),  # not a phone number
        ({"MessageSid": SID, "From": NUMBER}, 400),  # no Body
        ({"MessageSid": SID, "From": NUMBER, "Body": "4\x00"}, 400),  # a NUL byte
        ({"MessageSid": SID, "From": NUMBER, "Body": "x" * 1601}, 413),
    ],
)
def test_a_malformed_post_is_refused_and_stores_nothing(client, session, patient, fields, status):
    assert post(client, fields).status_code == status
    nothing_stored(session)


def test_a_field_given_twice_is_refused(client, session, patient):
    fields = {"MessageSid": [SID], "From": [NUMBER], "Body": ["4", "STOP"]}
    assert post(client, fields).status_code == 400
    nothing_stored(session)


def test_an_oversized_or_non_form_post_is_refused_before_it_is_read(client, session, patient):
    big = client.post(
        "/sms/inbound",
        data=b"Body=" + b"x" * (40 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413
    json = client.post("/sms/inbound", json=form("4"))
    assert json.status_code == 415
    nothing_stored(session)


def test_a_flood_from_one_number_is_cut_off(app, client, session, patient):
    app.config["SMS_LIMIT_PER_NUMBER"] = "3 per 10 minutes"
    statuses = [post(client, form("2", sid=f"SM{n:032d}")).status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert count(session, TextMessage, TextMessage.direction == "in") == 3
    # Another number is not held up by it.
    other = form("STOP", sid="SM" + "f" * 32, sender="+15552019999")
    assert post(client, other).status_code == 200


def test_without_a_secret_the_endpoints_do_not_exist(database_url, patient):
    app = make_test_app(database_url, **texting_config(SMS_INBOUND_SECRET=None))
    try:
        client = app.test_client()
        assert post(client, form("4")).status_code == 404
        assert post(client, form("4"), path="/sms/status?key=x").status_code == 404
        with session_factory(app)() as session:
            nothing_stored(session)
    finally:
        app.extensions["tracker.engine"].dispose()


def test_a_short_secret_stops_the_app_at_start(database_url):
    from tracker.core.config import ConfigError

    with pytest.raises(ConfigError, match="SMS_INBOUND_SECRET must be at least 16"):
        make_test_app(database_url, SMS_INBOUND_SECRET="short")


def test_the_signature_covers_the_public_url_behind_a_proxy(database_url, patient):
    public = "https://tracker.clinic.example"
    app: Flask = make_test_app(database_url, **texting_config(SMS_PUBLIC_URL=public))
    try:
        client = app.test_client()
        assert post(client, form("4")).status_code == 403  # signed for BASE_URL
        signed = post(client, form("4"), signed_url=f"{public}/sms/inbound")
        assert signed.status_code == 200
    finally:
        app.extensions["tracker.engine"].dispose()


def test_the_database_refuses_a_second_row_with_the_same_message_id(session, patient):
    """The net under the insert-or-ignore: without the unique index, a replay inserts."""
    from sqlalchemy.exc import IntegrityError

    from tests.conftest import NOW

    def row() -> TextMessage:
        return TextMessage(
            direction="in", number=NUMBER, kind="pain", provider_sid=SID, created_at=NOW
        )

    session.add(row())
    session.commit()
    session.add(row())
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
