"""Patient sessions live on the server (patient_session.py, models.PatientSession): signing
out ends every copy of the cookie, and a session ends after an hour unused or twelve hours
in all (OWASP ASVS 5.0 V7.3.1, V7.3.2, V7.4.1). A link that works always works, even from an
address that sent many that do not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from tests.conftest import NOW, make_test_app
from tests.patient.conftest import count, csrf_token, post_form, sign_in
from tracker.core.models import PainEntry, PatientSession


def _copy(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_signing_out_ends_a_copied_cookie_too(app, patient_client, session):
    copy = _copy(app, patient_client)
    assert copy.get("/me/").status_code == 200
    token = csrf_token(copy.get("/me/pain").get_data(as_text=True))

    assert post_form(patient_client, "/me/", "/me/sign-out").status_code == 200
    assert patient_client.get("/me/").status_code == 401
    # The copy, replayed on another device, is refused as well, and stores nothing.
    assert copy.get("/me/").status_code == 401
    assert copy.post("/me/pain", data={"csrf_token": token, "score": "4"}).status_code == 401
    assert count(session, PainEntry) == 0
    row = session.scalars(select(PatientSession)).one()
    assert row.ended_at == NOW


def test_the_cookie_carries_a_random_id_stored_only_as_its_hash(patient_client, session):
    with patient_client.session_transaction() as cookie:
        raw = cookie["patient_sid"]
    assert len(raw) >= 43
    row = session.scalars(select(PatientSession)).one()
    assert raw not in (row.token_hash,) and len(row.token_hash) == 64


def test_a_session_ends_after_an_hour_unused(app, patient_client):
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=59)
    assert patient_client.get("/me/").status_code == 200
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=59 + 61)
    response = patient_client.get("/me/")
    assert response.status_code == 401
    assert "Please open your personal link" in response.get_data(as_text=True)
    # The link (in every reminder) starts a new session.
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=59 + 62)


def test_use_keeps_a_session_alive_until_its_twelve_hours_are_up(app, patient_client):
    for minutes in range(50, 12 * 60, 50):  # in use every 50 minutes
        app.config["FIXED_NOW"] = NOW + timedelta(minutes=minutes)
        assert patient_client.get("/me/").status_code == 200, minutes
    app.config["FIXED_NOW"] = NOW + timedelta(hours=12, minutes=1)
    assert patient_client.get("/me/").status_code == 401


def test_an_expired_session_saves_no_pain_score(app, patient_client, session):
    token = csrf_token(patient_client.get("/me/pain").get_data(as_text=True))
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=61)
    response = patient_client.post("/me/pain", data={"csrf_token": token, "score": "5"})
    assert response.status_code == 401
    assert count(session, PainEntry) == 0


def test_the_idle_limit_is_configurable(database_url, enroll_patient):
    enrolled = enroll_patient()
    app = make_test_app(database_url, FIXED_NOW=NOW, PATIENT_IDLE_MINUTES=5)
    try:
        client = sign_in(app.test_client(), enrolled)
        app.config["FIXED_NOW"] = NOW + timedelta(minutes=6)
        assert client.get("/me/").status_code == 401
    finally:
        app.extensions["tracker.engine"].dispose()


@pytest.mark.parametrize("setting", ["PATIENT_IDLE_MINUTES", "PATIENT_SESSION_HOURS"])
def test_a_zero_session_limit_is_refused_at_start(database_url, setting):
    from tracker.core.config import ConfigError

    with pytest.raises(ConfigError, match=f"TRACKER_{setting} must be at least 1"):
        make_test_app(database_url, **{setting: 0})


def _statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()).lower())

    engine = app.extensions["tracker.engine"]
    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_the_pain_post_checks_the_session_in_its_one_query(app, patient_client, session):
    token = csrf_token(patient_client.get("/me/pain").get_data(as_text=True))
    seen, stop = _statements(app)
    try:
        response = patient_client.post("/me/pain", data={"csrf_token": token, "score": "3"})
        assert response.status_code == 302
        selects = [s for s in seen if s.startswith("select")]
        touching = [s for s in seen if "patient_session" in s]
        assert len(selects) == 1 and touching == selects  # no extra query within a minute
        seen.clear()
        app.config["FIXED_NOW"] = NOW + timedelta(minutes=2)
        patient_client.post("/me/pain", data={"csrf_token": token, "score": "4"})
        updates = [s for s in seen if s.startswith("update patient_session")]
        assert len(updates) == 1  # last use noted: one cheap UPDATE, at most once a minute
    finally:
        stop()
    row = session.scalars(select(PatientSession)).one()
    session.refresh(row)
    assert row.last_seen_at == NOW + timedelta(minutes=2)


def test_signing_in_again_ends_the_earlier_session_on_that_browser(app, client, enrolled, session):
    sign_in(client, enrolled)
    first = _copy(app, client)
    sign_in(client, enrolled)
    assert client.get("/me/").status_code == 200
    assert first.get("/me/").status_code == 401
    # Finished sessions of the patient are removed at the next sign-in (the table stays
    # small); a live one on another device is kept.
    phone = sign_in(app.test_client(), enrolled)
    sign_in(client, enrolled)
    assert len(session.scalars(select(PatientSession)).all()) == 2
    assert phone.get("/me/").status_code == client.get("/me/").status_code == 200


def test_valid_links_always_work_from_an_address_sending_bad_ones(client, enroll_patient):
    # A clinic's Wi-Fi or a carrier's NAT: one address, many patients, someone scanning.
    patients = [enroll_patient(name=f"Patient {n}") for n in range(3)]
    shared = {"REMOTE_ADDR": "192.0.2.77"}
    for n in range(40):
        bad = client.get(f"/p/not-a-real-link-{n:04d}-xxxxxxxxxxxxxxxx", environ_base=shared)
        assert bad.status_code in (404, 429)
    assert bad.status_code == 429  # the bad ones are paused ...
    for enrolled in patients:  # ... the good ones are not
        response = client.get(f"/p/{enrolled.link_token}", environ_base=shared)
        assert response.status_code == 302
