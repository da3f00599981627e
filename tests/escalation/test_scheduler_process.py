"""The real scheduler process pages the on-call contact, and a kill -9 mid-page loses nothing.

As in tests/reminders/test_scheduler_process.py: ``python -m tracker scheduler`` children on
the real clock (ticking every second) against the test database, on SQLite and PostgreSQL,
and a loopback webhook receiver that answers slowly, so the page is visibly in flight when
the process is killed. The clinic has no office hours, so it is out of hours whenever the
test runs.
"""

from __future__ import annotations

import signal
from collections import Counter

from sqlalchemy import select

from tests.escalation.conftest import BEN_PHONE, add_contact, event_kinds
from tests.reminders.conftest import WebhookReceiver
from tests.reminders.test_scheduler_process import (  # noqa: F401 (the spawner fixture)
    Spawner,
    spawner,
    wait_for,
)
from tracker.alerts.rules import RED_FLAG, raise_alert
from tracker.core.db import session_factory, utcnow
from tracker.core.models import Page
from tracker.escalation.paging import page_if_needed


def _page(app) -> Page | None:
    with session_factory(app)() as session:
        return session.scalars(select(Page)).one_or_none()


def test_it_delivers_a_page_after_the_scheduler_is_killed_mid_page(
    app,
    session,
    clinic,
    enroll_patient,
    spawner: Spawner,  # noqa: F811
):
    clinic.office_hours = {}  # closed every day: out of hours whenever this runs
    session.commit()
    add_contact(session, clinic, name="Dr Ben", channel="webhook", address=BEN_PHONE, position=1)
    now = utcnow()
    plan = enroll_patient(
        name="Pat Example", procedure_date=now.date().isoformat(), timezone="UTC", now=now
    ).plan
    alert = raise_alert(
        session, plan=plan, rule=RED_FLAG, urgency="urgent", summary="Fever 101 F", now=now
    )
    assert page_if_needed(session, alert.id, now)
    session.commit()
    key = f"page-{alert.id}-0-1"

    with WebhookReceiver(delay=2.0) as receiver:
        settings = {"WEBHOOK_URL": receiver.url, "REMINDER_LEASE_SECONDS": 3}
        first = spawner.start(**settings)
        # Received, and the sender is waiting for the answer: kill it mid-page.
        wait_for(lambda: len(receiver.keys()) >= 1, spawner, "the page to arrive")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        page = _page(app)
        assert (page.status, page.locked_by is not None) == ("pending", True)

        spawner.start(**settings)
        wait_for(lambda: (_page(app) or page).status == "sent", spawner, "the page marked sent")
        counts = Counter(receiver.keys())

    # Delivered; the only duplicate is the page in flight at the kill, with the same key.
    assert counts == Counter({key: 2})
    assert {h["Idempotency-Key"] for h in receiver.headers} == {key}
    assert all(m["to"]["phone"] == BEN_PHONE for m in receiver.received)
    assert event_kinds(app, alert.id).count("page_sent") == 1
