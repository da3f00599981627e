"""Logs never carry personal-link tokens; the audit table refuses edits on PostgreSQL."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.conftest import NOW
from tracker.core.audit import record
from tracker.core.log_redaction import RedactLinks, install, redact


def test_it_redacts_link_tokens_from_request_log_lines(caplog):
    install()  # what create_app does; this test may run before any app is made
    logger = logging.getLogger("werkzeug")
    token = "y4ce7mGlhGqiDP8plY9-O5tRx9lw220Y3j9a7asAqpk"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('127.0.0.1 - - "GET /p/%s HTTP/1.1" 302 -', token)
    assert token not in caplog.text
    assert "/p/[redacted]" in caplog.text
    assert any(isinstance(f, RedactLinks) for f in logger.filters) or redact("/p/" + token)


@pytest.mark.postgres_only
def test_the_database_refuses_to_change_or_delete_audit_events(backend, session, clinic):
    record(session, now=NOW, action="patient.view", actor_type="system", clinic_id=clinic.id)
    session.commit()
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            session.execute(sa.text(statement))
        session.rollback()
    assert session.scalar(sa.text("SELECT action FROM audit_event")) == "patient.view"
