"""Input rules for the web app (docs/security.md, "Input rules"), on SQLite and PostgreSQL.

Control characters in any form field, an over-long forwarded address behind the proxy fix,
personal-link tokens in any log record, stored text that must fit its column, and names
with line breaks in the log channel. Each was a 500, a stored value PostgreSQL would refuse,
a token in the logs or a forged log line before the rule.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from tests.conftest import NOW, make_test_app
from tests.coordinator import conftest as care_team
from tracker.care import auth as coordinator_auth
from tracker.core import log_redaction
from tracker.core.db import get_session
from tracker.core.models import (
    AuditEvent,
    Clinic,
    PainEntry,
    Patient,
    PlanAdjustment,
    User,
)
from tracker.patient import views as patient_views
from tracker.reminders.channels import LogChannel
from tracker.reminders.messages import OutgoingMessage
from tracker.web.input_rules import CONTROL_CHARACTER_MESSAGE, InputRefused, guard_sessions

TOKEN = "y4ce7mGlhGqiDP8plY9-O5tRx9lw220Y3j9a7asAqpk"
PASSWORD = care_team.PASSWORD

# The care team's fixtures: a frozen clock, CSRF off for direct posts, signed-in clients.
app = care_team.app
make_user = care_team.make_user
coordinator = care_team.coordinator
admin = care_team.admin
coordinator_client = care_team.coordinator_client
admin_client = care_team.admin_client


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def _everything(caplog) -> str:
    """Every captured record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def _patient_client(app: Flask, enroll_patient):
    enrolment = enroll_patient()
    client = app.test_client()
    assert client.get(f"/p/{enrolment.link_token}").status_code == 302
    return client, enrolment


# --- control characters in forms -------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("coordinator-{id}@example.org\x00", PASSWORD),
        ("\x00", "x"),
        ("coordinator-{id}@example.org", PASSWORD + "\x00"),
        ("coordinator-{id}@example.org\t", PASSWORD),
    ],
)
def test_a_control_character_at_sign_in_is_a_400_not_a_500(
    backend, app, session, clinic, coordinator, caplog, email, password
):
    caplog.set_level(logging.INFO)
    response = app.test_client().post(
        "/coordinator/login",
        data={"email": email.format(id=clinic.id), "password": password},
    )
    assert response.status_code == 400
    assert CONTROL_CHARACTER_MESSAGE in _text(response)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback
    assert _count(session, AuditEvent) == 0
    session.expire_all()
    assert session.get(User, coordinator.id).last_login_at is None


@pytest.mark.parametrize(
    "note",
    ["a note\x00", "\x00", "bell\x07", "escape \x1b[31mred", "vertical\x0btab", "del\x7f", "\x85"],
)
def test_a_control_character_in_a_note_is_refused_and_nothing_stored(
    backend, app, session, enroll_patient, note
):
    client, _ = _patient_client(app, enroll_patient)
    response = client.post("/me/pain", data={"score": "5", "note": note})
    assert response.status_code == 400
    assert CONTROL_CHARACTER_MESSAGE in _text(response)
    assert _count(session, PainEntry) == 0


def test_a_multi_line_note_keeps_its_line_breaks_and_tabs(backend, app, session, enroll_patient):
    client, _ = _patient_client(app, enroll_patient)
    note = "Worse after the walk.\r\nBetter lying down:\tyes"
    response = client.post("/me/pain", data={"score": "5", "note": note})
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(PainEntry.note)) == note


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/coordinator/patients/{patient}/restrictions", {"key": "x\x00", "note": "ok"}),
        ("/coordinator/patients/{patient}/status", {"action": "pause", "note": "why\x00"}),
        ("/coordinator/enrol", {"name": "Pat\x00", "procedure": "kyphoplasty"}),
        ("/coordinator/enrol", {"name": "Pat", "email": "pat@example.org\r\nBcc: x@y.org"}),
    ],
)
def test_every_care_team_form_refuses_control_characters(
    backend, coordinator_client, enroll_patient, session, path, data
):
    patient = enroll_patient().patient.id
    before = (_count(session, Patient), _count(session, PlanAdjustment))
    response = coordinator_client.post(path.format(patient=patient), data=data)
    assert response.status_code == 400
    assert CONTROL_CHARACTER_MESSAGE in _text(response)
    assert (_count(session, Patient), _count(session, PlanAdjustment)) == before


@pytest.mark.parametrize("name", ["Nurse\r\nINFO forged line", "Nurse\u2028Two", "Nurse\x85"])
def test_a_line_break_in_a_single_line_field_is_refused(backend, admin_client, session, name):
    form = {"name": name, "email": "new@example.org", "role": "coordinator", "password": "x" * 16}
    response = admin_client.post("/coordinator/admin/users", data=form)
    assert response.status_code == 400
    assert _count(session, User) == 1  # the admin only


def test_a_refused_sign_in_tries_no_password_and_lifts_no_pause(
    backend, app, coordinator, monkeypatch
):
    app.config["SIGNIN_LIMIT_PER_ADDRESS"] = "1 per 15 minutes"
    client = app.test_client()
    wrong = {"email": coordinator.email, "password": "wrong password"}
    assert client.post("/coordinator/login", data=wrong).status_code == 401
    tried = []
    monkeypatch.setattr(coordinator_auth, "verify_password", lambda *a: tried.append(a))
    nul = {"email": coordinator.email + "\x00", "password": PASSWORD}
    assert client.post("/coordinator/login", data=nul).status_code == 400
    assert tried == []  # refused before the view: no password was checked
    assert client.post("/coordinator/login", data=wrong).status_code == 429  # still paused


def test_the_refusal_answers_json_clients_in_json(backend, app):
    response = app.test_client().post(
        "/coordinator/login",
        data={"email": "a@b.org\x00", "password": "x"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["detail"] == CONTROL_CHARACTER_MESSAGE


# --- forwarded addresses -----------------------------------------------------------------------


@pytest.fixture
def proxied_app(app: Flask) -> Iterator[Flask]:
    """The same database behind one reverse proxy (X-Forwarded-For trusted for one hop)."""
    proxied = make_test_app(
        app.config["DATABASE_URL"], FIXED_NOW=NOW, WTF_CSRF_ENABLED=False, PROXY_FIX=1
    )
    yield proxied
    proxied.extensions["tracker.engine"].dispose()


@pytest.mark.parametrize(
    ("forwarded", "recorded"),
    [
        ("a" * 300, "127.0.0.1"),  # junk: the proxy's own address is recorded instead
        ("203.0.113.9, " + "9" * 100, "127.0.0.1"),
        ("2001:db8::" + "1:" * 40 + "1", "127.0.0.1"),
        ("not an address", "127.0.0.1"),
        ("203.0.113.9", "203.0.113.9"),
        ("10.0.0.1, 2001:db8::7", "2001:db8::7"),
    ],
)
def test_a_forwarded_address_is_bounded_to_a_real_address(
    backend, proxied_app, session, enroll_patient, forwarded, recorded
):
    enrolment = enroll_patient()
    response = proxied_app.test_client().get(
        f"/p/{enrolment.link_token}", headers={"X-Forwarded-For": forwarded}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(AuditEvent.remote_addr)) == recorded


# --- personal-link tokens in logs ---------------------------------------------------------------


def test_an_unhandled_error_on_a_link_logs_no_token(backend, app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError(f"cannot open {request.url} for {request.path}")

    monkeypatch.setattr(patient_views.patient_session, "sign_in_with_link", broken)
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get(f"/p/{TOKEN}", headers={"Referer": f"/p/{TOKEN}"})
    assert response.status_code == 500
    logged = _everything(caplog)
    assert "Traceback" in logged and "RuntimeError" in logged  # the traceback is kept...
    assert TOKEN not in logged  # ...without the token
    assert "/p/[redacted]" in logged


@pytest.mark.parametrize(
    "logger_name", ["tracker.anything", "werkzeug", "gunicorn.access", "gunicorn.error", "root"]
)
def test_every_logger_redacts_tokens_in_messages_and_tracebacks(caplog, logger_name):
    log_redaction.install()  # what create_app does; no app is made here
    logger = logging.getLogger(None if logger_name == "root" else logger_name)
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError(f"no link /p/{TOKEN} here")
    except ValueError:
        logger.exception("failed on %s", f"http://localhost/p/{TOKEN}")
    logger.info('127.0.0.1 - - "GET /coordinator/login?next=%%2Fp%%2F%s HTTP/1.1" 200 -', TOKEN)
    # gunicorn's access log: one mapping of atoms as the argument
    logger.info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "r": f"GET /p/{TOKEN} HTTP/1.1", "s": 302})
    logger.warning("in a stack: /p/%s", TOKEN, stack_info=True)
    logged = _everything(caplog)
    assert TOKEN not in logged
    assert logged.count("/p/[redacted]") >= 5
    assert "Traceback" in logged and "ValueError: no link /p/[redacted] here" in logged


def test_redaction_survives_a_formatter_that_formats_the_exception_itself(caplog):
    log_redaction.install()  # what create_app does; no app is made here

    class Raw(logging.Formatter):
        def format(self, record):
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + self.formatException(record.exc_info)
            return text

    caplog.set_level(logging.DEBUG)
    try:
        raise KeyError(f"/p/{TOKEN}")
    except KeyError:
        logging.getLogger("tracker.x").exception("boom")
    raw = Raw()
    assert all(TOKEN not in raw.format(record) for record in caplog.records)


# --- stored text fits its column ----------------------------------------------------------------


def _clinic(**fields):
    values = {"name": "Fits", "phone": "555-0142", "timezone": "UTC", "created_at": NOW}
    return Clinic(**(values | fields))


@pytest.mark.parametrize(
    ("build", "column"),
    [
        (lambda clinic: _clinic(name="C" * 201), "name"),
        (lambda clinic: _clinic(name="Evil\r\nINFO forged"), "name"),
        (lambda clinic: _clinic(name="Evil\x00"), "name"),
        (lambda clinic: _clinic(phone="5" * 41), "phone"),
        (
            lambda clinic: User(
                clinic_id=clinic.id,
                email="u@example.org",
                name="U" * 201,
                password_hash="x",
                created_at=NOW,
            ),
            "name",
        ),
        (
            lambda clinic: User(
                clinic_id=clinic.id,
                email="u@example.org",
                name="Nurse\u2028Two",
                password_hash="x",
                created_at=NOW,
            ),
            "name",
        ),
        (lambda clinic: Patient(clinic_id=clinic.id, name="P" * 201, created_at=NOW), "name"),
        (lambda clinic: Patient(clinic_id=clinic.id, name="P\x1b[2J", created_at=NOW), "name"),
    ],
)
def test_text_that_does_not_fit_its_column_is_refused_on_every_database(
    backend, session, clinic, build, column
):
    before = {m: _count(session, m) for m in (Clinic, User, Patient)}
    session.add(build(clinic))
    with pytest.raises(InputRefused) as refused:
        session.commit()
    assert refused.value.field == column
    session.rollback()
    assert {m: _count(session, m) for m in (Clinic, User, Patient)} == before


def test_an_edit_that_does_not_fit_is_refused_too(backend, session, clinic):
    clinic.name = "x" * 201
    with pytest.raises(InputRefused):
        session.commit()
    session.rollback()
    session.expire_all()
    assert session.get(Clinic, clinic.id).name == "Test Spine Clinic"


def test_a_refusal_at_save_time_is_a_400_on_the_web(backend, app, session, clinic):
    """A view whose own checks let a value through: the rule at save time still holds, the
    request's work is rolled back, and the page says what was wrong."""

    def rename() -> str:
        db = get_session()
        db.get(Clinic, clinic.id).name = request.form["name"]
        db.add(_clinic(name="Added in the same request"))
        db.commit()
        return "saved"

    app.add_url_rule("/test-rename", "test_rename", rename, methods=["POST"])
    response = app.test_client().post("/test-rename", data={"name": "R" * 201})
    assert response.status_code == 400
    assert "The name must be at most 200 characters. Nothing was saved." in _text(response)
    session.expire_all()
    assert session.scalars(select(Clinic.name)).all() == ["Test Spine Clinic"]


# --- names in the log channel -------------------------------------------------------------------


def test_the_log_channel_writes_one_line_whatever_the_names_hold(caplog):
    message = OutgoingMessage(
        idempotency_key="reminder-1-2026-11-21",
        kind="daily",
        local_day=date(2026, 11, 21),
        subject="Your plan\r\nINFO tracker.reminders forged",
        text="",
        html="",
        short_text="North\nClinic\u2028: day 2 /p/" + TOKEN,
        link="",
        patient_id=1,
        patient_name="Pat\r\nINFO tracker.reminders reminder sent to nobody",
        email=None,
        phone=None,
        clinic_name="North\nClinic",
        clinic_phone="555",
    )
    caplog.set_level(logging.INFO, logger="tracker.reminders")
    LogChannel().send(message)
    (record,) = caplog.records
    line = record.getMessage()
    assert len(line.splitlines()) == 1
    assert "Pat\\r\\nINFO" in line and "North\\nClinic\\u2028:" in line
    assert TOKEN not in line


def test_every_new_session_factory_is_guarded_even_when_it_reuses_a_collected_ones_id():
    """SQLAlchemy's event registry keys targets by id(): a factory made after another was
    collected often gets its id, and ``event.contains`` then says it is guarded when it is not
    (seen in CI: a test app's sessions stored a 201-character name). Each factory here is made,
    guarded and dropped in turn, the way the tests' apps are."""
    engine = create_engine("sqlite://")
    for _ in range(20):
        factory = sessionmaker(engine)
        guard_sessions(factory)
        guard_sessions(factory)  # a second call adds nothing
        with factory() as session:
            session.add(Patient(clinic_id=1, name="P" * 201, created_at=NOW))
            with pytest.raises(InputRefused):
                session.flush()
        del factory, session
        gc.collect()
    engine.dispose()
