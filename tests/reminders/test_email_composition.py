"""What a reminder email looks like once a mail client has parsed it.

The channel writes messages with ``email.mime`` and the ``compat32`` policy (cheap: headers
stay strings). A reader must get exactly what the ``EmailMessage`` API would have produced:
the same headers, the same text and HTML, non-ASCII included. ``reference`` below is that
construction, kept here as the yardstick.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.utils import formatdate, parsedate_to_datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import NOW
from tests.reminders.conftest import tick
from tracker.reminders.channels import EmailChannel, message_id
from tracker.reminders.messages import OutgoingMessage

SENDER = "Care Team <care@clinic.example>"
BASE_URL = "https://tracker.clinic.example"


def outgoing(**fields: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "idempotency_key": "reminder-7-daily-2026-11-21",
        "kind": "daily",
        "local_day": date(2026, 11, 21),
        "subject": "Your recovery plan for today (day 1)",
        "text": "Hello Zoë Ødegård,\n\nCall us at 555-0100 for a fever of 100.4 °F (38 °C).",
        "html": '<p>Hello Zoë Ødegård,</p><p><a href="https://x/p/t">Open</a></p>',
        "short_text": "short",
        "link": "https://x/p/t",
        "patient_id": 7,
        "patient_name": "Zoë Ødegård",
        "email": "zoe@example.org",
        "phone": None,
        "clinic_name": "Clinic",
        "clinic_phone": "555-0100",
    }
    values.update(fields)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def reference(message: OutgoingMessage) -> EmailMessage:
    """The message as EmailMessage with the default policy puts it together."""
    email = EmailMessage()
    email["From"] = SENDER
    email["To"] = message.email or ""
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id(message.idempotency_key, BASE_URL)
    email["X-Idempotency-Key"] = message.idempotency_key
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


def on_the_wire(email: Message) -> bytes:
    """Written as the channel writes it for SMTP (CRLF line ends), as a server receives it."""
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=email.policy.clone(linesep="\r\n")).flatten(
        email
    )
    return out.getvalue()


class SMTPRecorder:
    """Stands in for the channel's SMTP session: keeps what would have gone to the server."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []

    def sendmail(self, sender: str, recipients: list[str], data: bytes) -> None:
        self.sent.append((sender, recipients, data))

    def send_message(self, email: EmailMessage) -> None:
        self.sent.append(("", [], on_the_wire(email)))

    def quit(self) -> None:
        pass

    def close(self) -> None:
        pass


def sent_by(channel: EmailChannel, message: OutgoingMessage) -> bytes:
    """The bytes the channel hands to the SMTP server for ``message``."""
    recorder = SMTPRecorder()
    channel._smtp = recorder  # type: ignore[assignment]
    channel.send(message)
    return recorder.sent[-1][2]


def parse(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def received(message: OutgoingMessage) -> EmailMessage:
    return parse(sent_by(channel(), message))


def expected(message: OutgoingMessage) -> EmailMessage:
    return parse(on_the_wire(reference(message)))


def readable(email: EmailMessage) -> dict[str, object]:
    """Everything a reader sees, with the random multipart boundary left out."""
    parts = {}
    for kind in ("plain", "html"):
        part = email.get_body((kind,))
        assert part is not None
        # Line ends as a reader sees them (a base64 part keeps "\n", others come as CRLF).
        content = part.get_content().replace("\r\n", "\n")
        parts[kind] = (part.get_content_type(), part.get_content_charset(), content)
    headers = {
        name: str(email[name])
        for name in ("From", "To", "Subject", "Message-ID", "X-Idempotency-Key", "MIME-Version")
    }
    return {
        "headers": headers,
        "type": email.get_content_type(),
        "parts": [p.get_content_type() for p in email.iter_parts()],
        "body": parts,
    }


def channel() -> EmailChannel:
    return EmailChannel(host="127.0.0.1", sender=SENDER, base_url=BASE_URL)


def test_it_writes_the_headers_and_parts_a_reader_expects() -> None:
    message = outgoing()
    email = received(message)

    assert readable(email) == readable(expected(message))
    assert email["From"] == SENDER and email["To"] == "zoe@example.org"
    assert email["Message-ID"] == "<reminder-7-daily-2026-11-21@tracker.clinic.example>"
    assert email["X-Idempotency-Key"] == "reminder-7-daily-2026-11-21"
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    # As received over SMTP: CRLF line ends, and a line end after the last line.
    assert email.get_body(("plain",)).get_content() == message.text.replace("\n", "\r\n") + "\r\n"
    assert email.get_body(("html",)).get_content() == message.html + "\r\n"
    sent = parsedate_to_datetime(email["Date"])
    assert sent.utcoffset() == timedelta(0) or sent.tzinfo is None
    # The raw message is 7-bit (quoted-printable), readable by any server.
    wire = sent_by(channel(), message)
    assert wire.isascii() and wire.count(b"Content-Transfer-Encoding: quoted-printable") == 2


def test_it_sends_a_text_mostly_in_a_non_latin_script_as_base64() -> None:
    message = outgoing(text="Здравствуйте, Зоя! Сегодня первый день восстановления.")
    email = received(message)
    assert email.get_body(("plain",))["Content-Transfer-Encoding"] == "base64"
    assert readable(email) == readable(expected(message))


def test_it_encodes_a_non_ascii_subject_so_the_reader_sees_it_unchanged() -> None:
    message = outgoing(subject="Reminder: Kontrolle beim Arzt, Röntgen im Ärztehaus, Sunday")
    email = received(message)
    assert email["Subject"] == message.subject
    assert readable(email) == readable(expected(message))


def test_it_folds_a_long_subject_and_the_reader_sees_it_unchanged() -> None:
    subject = "Reminder: " + ", ".join(f"Follow-up visit number {n}" for n in range(6))
    wire = sent_by(channel(), outgoing(subject=subject))
    assert max(len(line) for line in wire.split(b"\r\n")) <= 78
    assert parse(wire)["Subject"] == subject


def test_it_refuses_a_line_break_in_a_header_as_email_message_does() -> None:
    message = outgoing(subject="Reminder\nBcc: someone@else.example")
    with pytest.raises(ValueError):
        reference(message)
    with pytest.raises(ValueError):
        channel().build(message)


def test_it_keeps_the_email_message_api_for_addresses_that_need_smtputf8() -> None:
    message = outgoing(email="zoë@exämple.org")
    assert isinstance(channel().build(message), EmailMessage)
    assert readable(received(message))["headers"]["To"] == "zoë@exämple.org"


# Header text: anything printable on one line. Subjects start and end with our own words
# ("Reminder: ...", "Your recovery plan ..."); leading blanks are the one place the two
# APIs differ (EmailMessage drops them), and a subject never has any.
header_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=150
).filter(lambda s: s.strip() == s)
body_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=150, deadline=None)
@given(subject=header_text, text=body_text, html=body_text)
# Lines that look like a multipart boundary (the parts are quoted-printable: they cannot).
@example(subject="S", text="a\n--" + "=" * 15 + "1" * 19 + "==\nb", html="--==\r\n--===--")
def test_a_reader_sees_the_same_message_as_with_the_email_message_api(
    subject: str, text: str, html: str
) -> None:
    message = outgoing(subject=subject, text=text, html=html)
    assert readable(received(message)) == readable(expected(message))


def test_a_reminder_with_a_non_ascii_name_arrives_intact(
    app, enroll_patient, reminder_app, smtp_server
) -> None:
    plan = enroll_patient(name="Zoë Ødegård-Łukasz", email="zoe@example.org").plan
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, MAIL_FROM=SENDER)
    assert tick(mail, NOW)["sent"] == 1

    [email] = smtp_server.handler.messages
    [envelope] = smtp_server.handler.envelopes
    assert envelope == ("care@clinic.example", ["zoe@example.org"])
    assert email["From"] == SENDER and email["To"] == "zoe@example.org"
    assert email["Message-ID"] == f"<reminder-{plan.id}-daily-2026-11-21@localhost>"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert text.splitlines()[0] == "Hello Zoë Ødegård-Łukasz,"
    assert "<p>Hello Zoë Ødegård-Łukasz,</p>" in html
    assert "100.4 °F (38 °C)" in text and "100.4 °F (38 °C)" in html
