"""Fixtures for the on-call paging tests: a clinic with an on-call list, apps with SMTP and
webhook receivers (the reminder tests' loopback servers), and fixed instants.

The clinic keeps the default office hours (Monday to Friday, 08:00-17:00 in New York).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import NOW
from tests.reminders.conftest import (  # noqa: F401 (fixtures)
    SMTPServer,
    WebhookReceiver,
    reminder_app,
    smtp_server,
    webhook,
)
from tracker.alerts.rules import RED_FLAG, raise_alert
from tracker.core.db import session_factory
from tracker.core.models import Alert, AlertEvent, AuditEvent, CarePlan, Clinic, OnCallContact, Page
from tracker.scheduler.tick import escalate_step, page_step, run_tick

# Monday 2026-11-23 22:40 in New York (EST, UTC-5): out of office hours.
OUT_OF_HOURS = datetime(2026, 11, 24, 3, 40, tzinfo=UTC)
# Monday 2026-11-23 10:00 in New York: the office is open; it closes at 17:00.
IN_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CLOSING = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)

ANA_EMAIL = "ana.oncall@example.org"
BEN_PHONE = "+15550102"


def add_contact(
    session: Session, clinic: Clinic, *, name: str, channel: str, address: str, position: int
) -> OnCallContact:
    contact = OnCallContact(
        clinic_id=clinic.id,
        name=name,
        channel=channel,
        address=address,
        position=position,
        created_at=NOW,
    )
    session.add(contact)
    session.commit()
    return contact


@pytest.fixture
def on_call(session: Session, clinic: Clinic) -> list[OnCallContact]:
    """Nurse Ana (email) first, then Dr Ben (text message through the webhook)."""
    return [
        add_contact(
            session, clinic, name="Nurse Ana", channel="email", address=ANA_EMAIL, position=1
        ),
        add_contact(
            session, clinic, name="Dr Ben", channel="webhook", address=BEN_PHONE, position=2
        ),
    ]


@pytest.fixture
def paging_app(
    reminder_app,  # noqa: F811 (the reminder tests' fixtures, imported above)
    smtp_server: SMTPServer,  # noqa: F811
    webhook: WebhookReceiver,  # noqa: F811
) -> Flask:
    return reminder_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        WEBHOOK_URL=webhook.url,
        MAIL_FROM="Recovery Tracker <tracker@example.org>",
    )


@pytest.fixture
def raise_urgent(session: Session) -> Callable[..., int]:
    """Raise an alert on ``plan`` (committed) and return its id."""

    def _raise(
        plan: CarePlan,
        *,
        now: datetime = OUT_OF_HOURS,
        rule: str = RED_FLAG,
        urgency: str = "urgent",
        summary: str = "Warning signs on day 4: fever (patient told to call the care team)",
    ) -> int:
        alert = raise_alert(
            session, plan=plan, rule=rule, urgency=urgency, summary=summary, now=now
        )
        session.commit()
        return alert.id

    return _raise


ESCALATE = [("escalate", escalate_step)]
PAGING = [("escalate", escalate_step), ("page", page_step)]


def page_tick(app: Flask, now: datetime, *, steps=PAGING, worker: str = "test-worker") -> dict:
    """The tick's paging steps only (no reminders to muddle the receivers)."""
    summary = run_tick(app, now, worker=worker, steps=steps)
    assert not any(key.endswith("_failed") for key in summary), summary
    return summary


def pages(app: Flask) -> list[Page]:
    with session_factory(app)() as session:
        return list(session.scalars(select(Page).order_by(Page.round, Page.step)))


def alert_row(app: Flask, alert_id: int) -> Alert:
    with session_factory(app)() as session:
        return session.get(Alert, alert_id)


def event_kinds(app: Flask, alert_id: int) -> list[str]:
    with session_factory(app)() as session:
        return list(
            session.scalars(
                select(AlertEvent.kind)
                .where(AlertEvent.alert_id == alert_id)
                .order_by(AlertEvent.at, AlertEvent.id)
            )
        )


def audit_rows(app: Flask, action: str) -> list[AuditEvent]:
    with session_factory(app)() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]
