"""Every form post without a CSRF token is refused with 400 and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, _empty_tables, make_test_app
from tests.coordinator.conftest import PASSWORD, open_alert, sign_in_as
from tracker.core.db import session_factory
from tracker.core.models import Alert, AuditEvent, CarePlan, Clinic, PlanAdjustment, User


@pytest.fixture
def csrf_app(database_url):
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


def test_posts_without_a_csrf_token_are_refused(csrf_app, clinic, enrolled, make_user, session):
    patient = enrolled(days_ago=3)
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    admin = make_user(clinic, "admin")
    client = sign_in_as(csrf_app.test_client(), admin)
    pid = patient.patient.id
    posts = [
        (f"/coordinator/patients/{pid}/alerts/{alert.id}/acknowledge", {}),
        (f"/coordinator/patients/{pid}/alerts/{alert.id}/resolve", {"note": "x"}),
        (
            f"/coordinator/patients/{pid}/appointments",
            {"key": "followup_first", "date": "2026-12-01"},
        ),
        (f"/coordinator/patients/{pid}/restrictions", {"key": "no_heavy_lifting", "end_day": "60"}),
        (f"/coordinator/patients/{pid}/status", {"action": "end"}),
        (f"/coordinator/patients/{pid}/link", {"action": "revoke"}),
        ("/coordinator/enrol", {"name": "X", "procedure": "kyphoplasty"}),
        ("/coordinator/admin/users", {"name": "Y", "email": "y@example.org"}),
        (f"/coordinator/admin/users/{admin.id}/active", {"active": "0"}),
        ("/coordinator/admin/clinic", {"phone": "555-0100", "severe_pain_threshold": "9"}),
        ("/coordinator/logout", {}),
        ("/coordinator/login", {"email": admin.email, "password": PASSWORD}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 400, path

    with session_factory(csrf_app)() as fresh:
        assert fresh.get(Alert, alert.id).status == "open"
        plan = fresh.get(CarePlan, patient.plan.id)
        assert (plan.status, plan.overrides) == ("active", {})
        assert fresh.scalar(select(func.count()).select_from(PlanAdjustment)) == 0
        assert fresh.scalar(select(func.count()).select_from(User)) == 1
        assert fresh.get(User, admin.id).session_version == 0
        assert fresh.get(Clinic, clinic.id).severe_pain_threshold == 7
        assert fresh.scalar(select(func.count()).select_from(AuditEvent)) == 0
    # Still signed in: the refused sign-out did nothing.
    assert client.get("/coordinator/").status_code == 200


def test_a_form_with_its_token_goes_through(csrf_app, clinic, make_user):
    user = make_user(clinic)
    client = csrf_app.test_client()
    page = client.get("/coordinator/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/coordinator/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
