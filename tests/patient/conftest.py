"""Fixtures for the patient pages: a frozen clock, an enrolled patient, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import NOW

# The care team's fixtures, for the patient tests that look at a patient from the care side.
from tests.coordinator.conftest import coordinator, coordinator_client, make_user  # noqa: F401
from tracker.plans.enrollment import Enrollment

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def app(app: Flask) -> Flask:
    # Saturday 2026-11-21 10:00 in New York; the default patient had the procedure the day before.
    app.config["FIXED_NOW"] = NOW
    return app


@pytest.fixture
def enrolled(enroll_patient: Callable[..., Enrollment]) -> Enrollment:
    return enroll_patient()


def sign_in(client: FlaskClient, enrollment: Enrollment) -> FlaskClient:
    response = client.get(f"/p/{enrollment.link_token}")
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def patient_client(client: FlaskClient, enrolled: Enrollment) -> FlaskClient:
    return sign_in(client, enrolled)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def post_form(client: FlaskClient, page: str, url: str | None = None, data=None, **kwargs):
    """Open ``page`` like a browser, then send its form (with the page's CSRF token)."""
    html = client.get(page).get_data(as_text=True)
    fields = {"csrf_token": csrf_token(html)}
    fields.update(data or {})
    return client.post(url or page, data=fields, **kwargs)


def count(session: Session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    """The page's visible text, whitespace collapsed, for asserting what a patient reads."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(strong|a|span|em|abbr)\b[^>]*>", "", html)  # inline: no gap
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())
