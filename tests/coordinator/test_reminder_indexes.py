"""Every read of the reminder table that the plan step and the patient page make can use an
index. The table is the largest after pain scores (a row a day per patient and caregiver);
a statement that can only scan it costs seconds at 1,000,000 patients, and as it did when two
partial unique indexes replaced the one unique key, makes two schedulers slower than one.

PostgreSQL is asked for each statement's plan with sequential scans priced out of reach
(``enable_seqscan = off``): a plan that still scans ``reminder`` has no index to use."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import statements_of
from tests.reminders.conftest import tick
from tests.reminders.test_caregiver_reminders import NINE_NY, add_caregiver

pytestmark = pytest.mark.postgres_only

READS_REMINDER = re.compile(r"\b(FROM|JOIN)\s+reminder\b", re.IGNORECASE)


def _statements(app, run) -> list[tuple[str, object]]:
    """The statements of ``run`` that read the reminder table, with their parameters."""
    engine = app.extensions["tracker.engine"]
    return [(sql, args) for sql, args in statements_of(engine, run) if READS_REMINDER.search(sql)]


def _scans(app, statement: str, parameters: object) -> list[str]:
    """The lines of the statement's plan that read all of ``reminder``."""
    engine = app.extensions["tracker.engine"]
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        conn.rollback()
    return [line for line in plan if re.search(r"Seq Scan on reminder\b", line)]


@pytest.fixture
def planned_days(app, session, enroll_patient):
    """A patient with a caregiver who gets reminders, and three days of them planned."""
    enrolled = enroll_patient()
    add_caregiver(session, enrolled.patient, reminder_channel="log")
    for back in (2, 1):
        tick(app, NINE_NY - timedelta(days=back))
    return enrolled


def test_the_plan_steps_reads_of_reminders_use_an_index(app, planned_days):
    statements = _statements(app, lambda: tick(app, NINE_NY))
    assert statements, "the plan step read no reminders: the test sees nothing"
    for statement, parameters in statements:
        assert _scans(app, statement, parameters) == [], statement


def test_the_patient_pages_list_of_messages_uses_an_index(
    app, planned_days, coordinator_client, session
):
    url = f"/coordinator/patients/{planned_days.patient.id}"
    pages = _statements(app, lambda: coordinator_client.get(url))
    listing = [(s, p) for s, p in pages if "ORDER BY reminder.local_day DESC" in s]
    assert len(listing) == 1
    assert _scans(app, *listing[0]) == []


def test_the_check_can_fail(app, planned_days):
    """A read that no index serves is reported."""
    assert _scans(app, "SELECT id FROM reminder WHERE status = %(status)s", {"status": "sent"})
