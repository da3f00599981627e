"""Signing in by personal link, and the ways a link or a session stops working."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, sign_in, text_of
from tracker.core.log_redaction import RedactLinks
from tracker.core.models import (
    AuditEvent,
    CheckOff,
    PainEntry,
    Patient,
    PatientLinkToken,
    SymptomReport,
)
from tracker.plans import links

KIND_PAGE = "This link is not working"
PATIENT_PAGES = ["/me/", "/me/pain", "/me/warning-signs", "/me/progress"]


def test_it_signs_in_with_the_link_and_lands_on_today(client, enrolled, session):
    response = client.get(f"/p/{enrolled.link_token}")
    assert response.status_code == 302
    assert response.location.endswith("/me/")
    today = client.get("/me/")
    assert today.status_code == 200
    assert "Day 1 of your recovery" in text_of(today)
    token = session.scalar(select(PatientLinkToken))
    session.refresh(token)
    assert token.last_used_at == NOW
    event = session.scalar(select(AuditEvent))
    assert (event.action, event.actor_type) == ("patient.link_sign_in", "patient")
    assert event.patient_id == event.actor_patient_id == enrolled.patient.id
    assert enrolled.link_token not in str(event.detail)


def test_it_starts_a_fresh_session_on_sign_in(client, enrolled):
    with client.session_transaction() as cookie:
        cookie["left_over"] = "from an earlier visitor"
    sign_in(client, enrolled)
    with client.session_transaction() as cookie:
        assert "left_over" not in cookie
        assert cookie["patient_id"] == enrolled.patient.id


@pytest.mark.parametrize(
    "raw",
    ["unknown-token-" + "x" * 30, "a", "y" * 500, "%00"],
    ids=["unknown", "short", "too-long", "nul"],
)
def test_it_shows_the_kind_page_for_an_unknown_link(client, enrolled, raw, session):
    response = client.get(f"/p/{raw}")
    assert response.status_code == 404
    assert KIND_PAGE in text_of(response)
    assert "call your clinic" in text_of(response)
    assert session.scalar(select(AuditEvent)) is None
    assert client.get("/me/").status_code == 401


def test_it_shows_the_same_kind_page_for_expired_revoked_and_unknown_links(
    app, client, enrolled, session
):
    unknown = client.get("/p/" + "z" * 43).get_data(as_text=True)

    token = session.scalar(select(PatientLinkToken))
    app.config["FIXED_NOW"] = token.expires_at + timedelta(seconds=1)
    expired = client.get(f"/p/{enrolled.link_token}")
    assert expired.status_code == 404
    assert expired.get_data(as_text=True) == unknown

    app.config["FIXED_NOW"] = NOW
    patient = session.get(Patient, enrolled.patient.id)
    links.revoke_links(session, patient, now=NOW)
    session.commit()
    revoked = client.get(f"/p/{enrolled.link_token}")
    assert revoked.status_code == 404
    assert revoked.get_data(as_text=True) == unknown


def test_it_works_until_just_before_the_link_expires(app, client, enrolled, session):
    token = session.scalar(select(PatientLinkToken))
    app.config["FIXED_NOW"] = token.expires_at - timedelta(seconds=1)
    assert client.get(f"/p/{enrolled.link_token}").status_code == 302


@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_it_asks_for_the_link_when_nobody_is_signed_in(client, enrolled, page):
    response = client.get(page)
    assert response.status_code == 401
    assert "Please open your personal link" in text_of(response)
    assert "Pat Example" not in text_of(response)


@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_it_ends_open_sessions_when_the_link_is_revoked(patient_client, enrolled, session, page):
    assert patient_client.get(page).status_code == 200
    with patient_client.session_transaction() as cookie:
        copied = dict(cookie)
    links.revoke_links(session, session.get(Patient, enrolled.patient.id), now=NOW)
    session.commit()

    response = patient_client.get(page)
    assert response.status_code == 401
    assert "Pat Example" not in text_of(response)
    # A copy of the old cookie, replayed on another device, is refused as well.
    with patient_client.session_transaction() as cookie:
        cookie.update(copied)
    assert patient_client.get(page).status_code == 401


def test_a_rotated_link_signs_in_and_the_old_one_does_not(client, enrolled, session):
    patient = session.get(Patient, enrolled.patient.id)
    new_raw = links.rotate_link(session, patient, enrolled.plan, now=NOW, grace_days=14)
    session.commit()
    assert client.get(f"/p/{enrolled.link_token}").status_code == 404
    assert client.get(f"/p/{new_raw}").status_code == 302
    assert client.get("/me/").status_code == 200


def test_it_switches_patient_when_another_link_is_opened(client, enrolled, enroll_patient):
    other = enroll_patient(name="Robin Other")
    sign_in(client, enrolled)
    sign_in(client, other)
    page = text_of(client.get("/me/"))
    assert "Robin Other" in page
    assert "Pat Example" not in page


def test_it_signs_out_on_request(patient_client):
    from tests.patient.conftest import post_form

    response = post_form(patient_client, "/me/", "/me/sign-out")
    assert response.status_code == 200
    assert "You are signed out" in text_of(response)
    assert patient_client.get("/me/").status_code == 401


def test_patient_pages_are_never_cached_and_carry_security_headers(patient_client):
    for page in PATIENT_PAGES:
        headers = patient_client.get(page).headers
        assert headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("page", PATIENT_PAGES)
def test_patient_pages_have_no_inline_script_or_style(patient_client, page):
    html = patient_client.get(page).get_data(as_text=True)
    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html
    assert '<html lang="en">' in html


def test_it_keeps_link_tokens_out_of_the_request_log():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /p/SeCrEt-token_123 HTTP/1.1", "302", "-"),
        None,
    )
    RedactLinks().filter(record)
    assert "SeCrEt" not in record.getMessage()
    assert "/p/[redacted]" in record.getMessage()


POSTS = [
    ("/me/pain", {"score": "3"}),
    ("/me/warning-signs", {"q_chest_pain": "yes"}),
    ("/me/tasks/walk", {"action": "done", "day": "2026-11-21"}),
]


@pytest.mark.parametrize(("url", "data"), POSTS, ids=["pain", "warning-signs", "task"])
def test_it_refuses_posts_from_nobody(client, enrolled, session, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 401
    assert "Please open your personal link" in text_of(response)
    assert count(session, PainEntry) == count(session, SymptomReport) == 0
    assert count(session, CheckOff) == 0


@pytest.mark.parametrize(("url", "data"), POSTS, ids=["pain", "warning-signs", "task"])
def test_it_refuses_posts_after_the_link_is_revoked(patient_client, enrolled, session, url, data):
    from tests.patient.conftest import csrf_token

    token = csrf_token(patient_client.get("/me/pain").get_data(as_text=True))
    links.revoke_links(session, session.get(Patient, enrolled.patient.id), now=NOW)
    session.commit()
    response = patient_client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 401
    assert count(session, PainEntry) == count(session, SymptomReport) == 0
    assert count(session, CheckOff) == 0
