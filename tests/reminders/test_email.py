"""The email channel against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import NOW
from tests.reminders.conftest import reminders, tick
from tracker.core.models import OpioidCheck
from tracker.plans.links import find_valid_token


def test_it_holds_reminders_while_smtp_is_down_and_sends_them_when_it_returns(
    app, session, enroll_patient, reminder_app, smtp_server
):
    plan = enroll_patient(email="pat@example.org").plan
    mail = reminder_app(
        SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_TIMEOUT=2, MAIL_FROM="c@x.org"
    )
    smtp_server.stop()

    first = tick(mail, NOW)
    second = tick(mail, NOW + timedelta(minutes=1))
    assert (first["planned"], first["retried"], second["retried"]) == (1, 1, 1)
    [reminder] = reminders(app)
    assert (reminder.channel, reminder.status, reminder.attempts) == ("email", "pending", 2)
    assert "SMTP 127.0.0.1" in reminder.last_error

    smtp_server.start()
    assert tick(mail, NOW + timedelta(minutes=2))["sent"] == 0  # still backing off
    assert tick(mail, NOW + timedelta(minutes=3))["sent"] == 1
    [reminder] = reminders(app)
    assert reminder.status == "sent"

    [message] = smtp_server.handler.messages
    key = f"reminder-{plan.id}-daily-2026-11-21"
    assert message["Message-ID"] == f"<{key}@localhost>"
    assert message["To"] == "pat@example.org" and message["From"] == "c@x.org"
    assert message["Subject"] == "Your recovery plan for today (day 1)"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # Day 1 is still bed rest (walking starts on day 2): today's task is the ice.
    assert "Ice on the needle site" in text and "Ice on the needle site" in html
    link = next(line for line in text.splitlines() if "/p/" in line)
    assert f'href="{link}"' in html
    assert find_valid_token(session, link.rsplit("/", 1)[1], now=NOW) is not None


def test_it_escapes_patient_text_in_the_html_part(app, enroll_patient, reminder_app, smtp_server):
    enroll_patient(name="<script>alert(1)</script> Pat", email="pat@example.org")
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    assert tick(mail, NOW)["sent"] == 1
    html = smtp_server.handler.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_it_dead_letters_an_address_the_server_refuses(
    app, enroll_patient, reminder_app, smtp_server
):
    enroll_patient(email="pat@example.org")

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"

    smtp_server.handler.handle_RCPT = refuse
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    assert tick(mail, NOW)["dead"] == 1
    [reminder] = reminders(app)
    assert reminder.status == "dead" and "refused the recipient" in reminder.last_error


def test_each_patients_driving_line_follows_their_own_opioid_answers_in_a_batch(
    app, session, enroll_patient, reminder_app, smtp_server
):
    """The deliver step looks up the opioid answers of a whole batch at once: each message
    still carries its own patient's no-driving rule (one "no" answer lifts it at this
    clinic), never a neighbour's."""
    answered = enroll_patient(name="Ann Said-No", email="ann@example.org").plan
    enroll_patient(name="Bob Silent", email="bob@example.org")
    session.add(
        OpioidCheck(
            plan_id=answered.id,
            local_day=date(2026, 11, 21),
            taking=False,
            recorded_at=NOW - timedelta(hours=1),
        )
    )
    session.commit()
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    assert tick(mail, NOW)["sent"] == 2
    texts = {
        message["To"]: message.get_body(("plain",)).get_content()
        for message in smtp_server.handler.messages
    }
    driving = "- No driving on opioid pain medicine:"
    assert driving not in texts["ann@example.org"]
    assert driving in texts["bob@example.org"]
