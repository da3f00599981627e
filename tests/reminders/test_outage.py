"""A channel that is down: one incident, reminders held and delivered when it returns.

Real receivers on loopback (aiosmtpd, the webhook receiver); simulated time, one tick a
minute. The guarantees are listed in docs/reminders.md, "When a channel is down".
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import reminders, tick
from tracker.alerts.rules import UNDELIVERABLE
from tracker.core.db import session_factory
from tracker.core.models import Alert, DeliveryIncident
from tracker.reminders.delivery import add_or_join_incident, incident_notices, open_incident

OUTAGE = timedelta(minutes=35)  # longer than the six attempts' backoff (1+2+4+8+16 min)
PATIENTS = 6


def _incidents(app) -> list[DeliveryIncident]:
    with session_factory(app)() as session:
        return list(session.scalars(select(DeliveryIncident).order_by(DeliveryIncident.id)))


def _alerts(app) -> list[Alert]:
    with session_factory(app)() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def _run_outage(app, *, down, up) -> None:
    """Ticks every minute: the channel is down for ``OUTAGE``, then back for 10 minutes."""
    down()
    at = NOW
    while at < NOW + OUTAGE:
        tick(app, at)
        at += timedelta(minutes=1)
    up()
    while at <= NOW + OUTAGE + timedelta(minutes=10):
        tick(app, at)
        at += timedelta(minutes=1)


def _assert_one_closed_incident(app, channel: str) -> DeliveryIncident:
    [incident] = _incidents(app)
    assert (incident.kind, incident.channel) == ("channel_down", channel)
    assert incident.opened_at == NOW
    assert incident.confirmed_at == NOW  # three patients in a row failed in the first tick
    assert incident.closed_at is not None
    # Closed at the first try after the channel returned (tries are at most 5 minutes apart).
    assert NOW + OUTAGE <= incident.closed_at <= NOW + OUTAGE + timedelta(minutes=5)
    assert incident.affected == 0  # nobody's day ended before delivery
    return incident


def test_an_smtp_outage_delivers_every_reminder_after_it_returns_with_one_incident(
    app, session, clinic, enroll_patient, reminder_app, smtp_server
):
    plans = [
        enroll_patient(name=f"Mail {n}", email=f"pat{n}@example.org").plan for n in range(PATIENTS)
    ]
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_TIMEOUT=2)

    _run_outage(mail, down=smtp_server.stop, up=smtp_server.start)

    rows = reminders(app)
    assert len(rows) == PATIENTS
    assert {r.status for r in rows} == {"sent"}
    assert all(NOW + OUTAGE <= r.sent_at <= NOW + OUTAGE + timedelta(minutes=5) for r in rows)
    # Each patient's reminder arrived exactly once.
    ids = sorted(m["Message-ID"] for m in smtp_server.handler.messages)
    assert ids == sorted(f"<reminder-{p.id}-daily-2026-11-21@localhost>" for p in plans)
    assert [a for a in _alerts(app) if a.rule == UNDELIVERABLE] == []
    incident = _assert_one_closed_incident(mail, "email")
    assert incident.target == f"smtp 127.0.0.1:{smtp_server.port}"

    # The care team sees it once, with its duration, on the triage list.
    [notice] = incident_notices(session, clinic.id, NOW + OUTAGE + timedelta(minutes=10))
    assert not notice.open
    assert "could not be delivered for 3" in notice.text and "resumed" in notice.text


def test_an_sms_gateway_answering_503_delivers_every_reminder_after_it_returns(
    app, enroll_patient, reminder_app, webhook
):
    for n in range(PATIENTS):
        enroll_patient(name=f"Text {n}", phone=f"555-01{n:02d}")
    hook = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=webhook.url)

    def down():
        webhook.statuses = [503] * 10_000

    failed_before: list[int] = []

    def up():
        failed_before.append(len(webhook.keys()))  # everything so far was answered 503
        webhook.statuses.clear()

    _run_outage(hook, down=down, up=up)

    rows = reminders(app)
    assert len(rows) == PATIENTS and {r.status for r in rows} == {"sent"}
    assert [a for a in _alerts(app) if a.rule == UNDELIVERABLE] == []
    _assert_one_closed_incident(hook, "webhook")
    delivered = webhook.keys()[failed_before[0] :]
    assert sorted(delivered) == sorted(r.idempotency_key for r in rows)  # once each


def test_while_the_channel_is_down_tries_are_held_back_not_spent_per_patient(
    app, enroll_patient, reminder_app, smtp_server
):
    for n in range(PATIENTS):
        enroll_patient(name=f"Mail {n}", email=f"pat{n}@example.org")
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_TIMEOUT=2)
    smtp_server.stop()

    first = tick(mail, NOW)
    # Three patients failed in a row: the outage is recognised and the other reminders are
    # held back instead of each waiting out its own failure (or timeout).
    assert (first["retried"], first["deferred"], first["dead"]) == (3, PATIENTS - 3, 0)
    at = NOW
    for _ in range(120):  # two hours down: far more than six attempts each
        at += timedelta(minutes=1)
        summary = tick(mail, at)
        assert summary["dead"] == 0 and summary["retried"] <= 1
    rows = reminders(app)
    assert {r.status for r in rows} == {"pending"}
    # Tries are never more than the cap (5 minutes) apart while the channel is down.
    assert all(r.next_attempt_at <= at + timedelta(minutes=5) for r in rows)
    [incident] = _incidents(app)
    assert incident.closed_at is None and incident.confirmed_at == NOW


def test_a_permanent_failure_for_one_address_still_dead_letters_that_reminder_only(
    app, session, enroll_patient, reminder_app, smtp_server
):
    gone = enroll_patient(name="Gone", email="gone@example.org").patient
    for n in range(3):
        enroll_patient(name=f"Fine {n}", email=f"fine{n}@example.org")

    async def rcpt(server, smtp_session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handler.handle_RCPT = rcpt
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_TIMEOUT=2)
    # First the server is down for everyone (an outage: held, no alerts), then it is back
    # and refuses one address for good: that reminder alone is dead, with its alert.
    _run_outage(mail, down=smtp_server.stop, up=smtp_server.start)

    rows = reminders(app)
    assert sorted(r.status for r in rows) == ["dead", "sent", "sent", "sent"]
    [dead] = [r for r in rows if r.status == "dead"]
    assert "refused the recipient" in dead.last_error
    [alert] = _alerts(app)
    assert (alert.rule, alert.patient_id, alert.urgency) == (UNDELIVERABLE, gone.id, "high")
    assert "refused the recipient" in alert.summary
    [incident] = _incidents(app)
    assert incident.closed_at is not None


def test_a_permanent_failure_while_the_channel_is_up_opens_no_incident(
    app, enroll_patient, reminder_app, smtp_server
):
    for n in range(4):
        enroll_patient(name=f"Gone {n}", email=f"gone{n}@example.org")

    async def refuse(server, smtp_session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"

    smtp_server.handler.handle_RCPT = refuse
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port)
    assert tick(mail, NOW)["dead"] == 4  # four bad addresses are four patients' alerts
    assert len([a for a in _alerts(app) if a.rule == UNDELIVERABLE]) == 4
    assert _incidents(app) == []


def test_reminders_still_failing_when_the_day_ends_count_on_the_incident_not_as_alerts(
    app, session, clinic, enroll_patient, reminder_app, smtp_server
):
    for n in range(PATIENTS):
        enroll_patient(name=f"Mail {n}", email=f"pat{n}@example.org")
    mail = reminder_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_TIMEOUT=2)
    smtp_server.stop()
    tick(mail, NOW)
    # Down all day: the first tick after the patients' midnight (05:00 UTC in New York).
    after_midnight = NOW.replace(hour=5, minute=20) + timedelta(days=1)
    summary = tick(mail, after_midnight)
    assert summary["expired"] == PATIENTS
    assert [a for a in _alerts(app) if a.rule == UNDELIVERABLE] == []
    [incident] = _incidents(app)
    assert incident.affected == PATIENTS and incident.closed_at is None
    assert all("the channel was down" in r.last_error for r in reminders(app))
    [notice] = incident_notices(session, clinic.id, after_midnight)
    assert notice.open and f"{PATIENTS} reminders could not be delivered" in notice.text


def _incident(key: str) -> DeliveryIncident:
    return DeliveryIncident(
        kind="channel_down",
        key=key,
        channel="smtp",
        target="smtp://127.0.0.1",
        opened_at=NOW,
        last_failure_at=NOW,
        failures=0,
        affected=0,
        detail={},
    )


def test_an_incident_a_racing_process_opened_meanwhile_is_joined_not_duplicated(app):
    """The insert-or-ignore of open incidents: this process found none open, another
    committed one for the same channel before this insert; both count on that one."""
    factory = session_factory(app)
    with factory() as ours:
        assert open_incident(ours, "smtp") is None
        with factory() as racing:
            racing.add(_incident("smtp"))
            racing.commit()
            theirs = open_incident(racing, "smtp").id
        joined = add_or_join_incident(ours, _incident("smtp"))
        joined.failures += 1
        ours.commit()
        assert joined.id == theirs
    [incident] = _incidents(app)
    assert (incident.id, incident.failures) == (theirs, 1)


def test_a_new_incident_is_added_when_none_is_open(app):
    factory = session_factory(app)
    with factory() as session:
        added = add_or_join_incident(session, _incident("webhook"))
        session.commit()
        assert open_incident(session, "webhook").id == added.id
