"""Logs never carry personal-link tokens, passwords or pain notes, at any level.

Runs whole patient flows, a care team sign-in (a wrong password, then the right one) and an
export, and a scheduler tick (reminders through the log channel) with the
root logger at DEBUG -- SQLAlchemy's statement log included -- and searches every record,
formatted with its arguments and any traceback.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import post_form, sign_in
from tracker.care.passwords import hash_password
from tracker.core.db import get_session
from tracker.core.models import PainEntry, Reminder, User
from tracker.plans.warning_signs import load_signs, signs_path
from tracker.scheduler.tick import run_tick

NOTE = "private-note-7d3f kept from logs"
PASSWORD = "coordinator-password-5e1b never logged"
CORRECTED_NOTE = "second-note-91ac also private"
_ANY_LINK = re.compile(r"/p/[A-Za-z0-9_\-]{16,}")


def _everything(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def _coordinator_signs_in(app, session, clinic) -> None:
    session.add(
        User(
            clinic_id=clinic.id,
            email="care@log.example",
            name="Care Coordinator",
            password_hash=hash_password(PASSWORD),
            created_at=NOW,
        )
    )
    session.commit()
    coordinator = app.test_client()
    for password in (PASSWORD + " typo", PASSWORD):
        post_form(
            coordinator,
            "/coordinator/login",
            data={"email": "care@log.example", "password": password},
        )
    assert coordinator.get("/coordinator/").status_code == 200
    coordinator.get("/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21")


def test_patient_flows_and_reminders_log_no_tokens_or_notes(
    app, client, enrolled, session, clinic, caplog
):
    caplog.set_level(logging.DEBUG)  # the root logger: every logger in the process
    # An operator turning on SQL statement logging still gets no parameters.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))

    sign_in(client, enrolled)
    post_form(client, "/me/pain", data={"score": "8", "context": "rest", "note": NOTE})
    with app.app_context():
        entry_id = get_session().scalar(select(PainEntry.id))
    post_form(client, f"/me/pain/{entry_id}/fix", data={"score": "6", "note": CORRECTED_NOTE})
    post_form(client, "/me/pain", data={"score": "seven", "note": NOTE})  # refused
    yes = {f"q_{s.key}": "yes" for s in signs}
    post_form(client, "/me/warning-signs", data=yes)
    client.get("/me/progress")
    client.get(f"/p/{enrolled.link_token}x")  # a wrong link, too
    _coordinator_signs_in(app, session, clinic)
    summary = run_tick(app, NOW, worker="log-test")

    with app.app_context():
        sent = get_session().scalars(select(Reminder).where(Reminder.status == "sent")).all()
    assert summary["planned"] >= 1 and sent  # the log channel really wrote a reminder
    logged = _everything(caplog)
    assert "sqlalchemy.engine" in logged  # statements were logged, so the check means something
    assert "reminder" in logged
    assert enrolled.link_token not in logged
    assert NOTE not in logged and CORRECTED_NOTE not in logged
    assert PASSWORD not in logged and "coordinator-password" not in logged
    assert "private-note" not in logged and "second-note" not in logged
    assert not _ANY_LINK.search(logged), _ANY_LINK.search(logged)


def test_a_debug_root_logger_does_not_turn_on_sql_row_logging(app):
    engine_logger = logging.getLogger("sqlalchemy.engine")
    assert engine_logger.level == logging.WARNING
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(previous)
