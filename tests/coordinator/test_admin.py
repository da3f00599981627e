"""Clinic admins: accounts, phone numbers and thresholds, and the audit log."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from tests.coordinator.conftest import sign_in_as
from tracker.care.passwords import verify_password
from tracker.core.models import AuditEvent, Clinic, User

GOOD_CLINIC = {
    "phone": "555-0143",
    "after_hours_phone": "555-0198",
    "severe_pain_threshold": "8",
    "worsening_points": "2.5",
    "worsening_percent": "40",
    "not_improving_mean": "4",
    "not_improving_day": "21",
    "missed_checkin_days": "3",
    "opioid_free_days_before_driving": "2",
}


def test_it_creates_a_coordinator_who_can_sign_in(app, admin_client, session, clinic):
    response = admin_client.post(
        "/coordinator/admin/users",
        data={
            "name": "Nora Nurse",
            "email": "Nora@Example.org",
            "role": "coordinator",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 302
    user = session.scalars(select(User).where(User.email == "nora@example.org")).one()
    assert (user.clinic_id, user.role, user.name) == (clinic.id, "coordinator", "Nora Nurse")
    assert verify_password(user.password_hash, "a-long-enough-password")
    assert "Nora Nurse" in admin_client.get("/coordinator/admin/users").get_data(as_text=True)
    client = app.test_client()
    signed_in = client.post(
        "/coordinator/login",
        data={"email": "nora@example.org", "password": "a-long-enough-password"},
    )
    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "email": "a@example.org"}, "Enter a name"),
        ({"email": "not an email"}, "is not an email address"),
        ({"email": "admin-1@example.org"}, "cannot be used for a new account"),
        ({"password": "short"}, "Use at least 10 characters"),
        ({"role": "superuser"}, "Choose a role"),
    ],
)
def test_it_refuses_a_bad_account(admin_client, admin, session, data, message):
    form = {
        "name": "Someone",
        "email": "someone@example.org",
        "role": "coordinator",
        "password": "a-long-enough-password",
    }
    form.update(data)
    form["email"] = form["email"].replace("admin-1@", admin.email.split("@")[0] + "@")
    response = admin_client.post("/coordinator/admin/users", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_it_disables_an_account_and_signs_it_out(app, admin_client, coordinator, session):
    client = sign_in_as(app.test_client(), coordinator)
    response = admin_client.post(
        f"/coordinator/admin/users/{coordinator.id}/active", data={"active": "0"}
    )
    assert response.status_code == 302
    assert client.get("/coordinator/").status_code == 302
    assert (
        admin_client.post(
            "/coordinator/admin/users/999999/active", data={"active": "1"}
        ).status_code
        == 404
    )


def test_it_saves_phone_numbers_and_thresholds(admin_client, session, clinic):
    response = admin_client.post("/coordinator/admin/clinic", data=GOOD_CLINIC)
    assert response.status_code == 302
    session.refresh(clinic)
    assert (clinic.phone, clinic.after_hours_phone) == ("555-0143", "555-0198")
    assert (clinic.severe_pain_threshold, clinic.worsening_points, clinic.worsening_percent) == (
        8,
        2.5,
        40,
    )
    assert (clinic.not_improving_day, clinic.missed_checkin_days) == (21, 3)
    assert clinic.opioid_free_days_before_driving == 2
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "clinic.update")).one()
    assert event.detail["changes"]["severe_pain_threshold"] == {"from": 7, "to": 8}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("severe_pain_threshold", "11", "Enter a value from 1 to 10."),
        ("severe_pain_threshold", "seven", "Enter a whole number."),
        ("severe_pain_threshold", "7.5", "Enter a whole number."),
        ("worsening_points", "nan", "Enter a value from 0.5 to 10."),
        ("worsening_percent", "0", "Enter a value from 5 to 200."),
        ("not_improving_day", "-3", "Enter a value from 1 to 60."),
        ("missed_checkin_days", "", "Enter a whole number."),
        ("opioid_free_days_before_driving", "0", "Enter a value from 1 to 14."),
        ("opioid_free_days_before_driving", "two", "Enter a whole number."),
        ("phone", "", "Enter the care team phone number."),
        ("after_hours_phone", "call us", "is not a phone number"),
    ],
)
def test_it_refuses_out_of_range_settings_and_saves_nothing(
    admin_client, session, clinic, field, value, message
):
    response = admin_client.post("/coordinator/admin/clinic", data={**GOOD_CLINIC, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    fresh = session.get(Clinic, clinic.id)
    session.refresh(fresh)
    assert (fresh.phone, fresh.severe_pain_threshold, fresh.worsening_points) == (
        "555-0142",
        7,
        2.0,
    )


def test_it_lists_the_audit_log_by_patient(
    admin_client, coordinator_client, session, enrolled, coordinator
):
    first = enrolled(days_ago=2, name="First Audited")
    second = enrolled(days_ago=2, name="Second Audited")
    coordinator_client.get(f"/coordinator/patients/{first.patient.id}")
    coordinator_client.get(f"/coordinator/patients/{second.patient.id}/fhir.json")
    page = html.unescape(admin_client.get("/coordinator/admin/audit").get_data(as_text=True))
    assert f"{coordinator.name} viewed First Audited's record." in page
    assert f"{coordinator.name} exported Second Audited's record (FHIR)." in page
    # The raw codes stay available beside each sentence.
    assert "<code>patient.view</code>" in page and "<code>export.fhir</code>" in page
    only_first = admin_client.get("/coordinator/admin/audit?patient=first audited")
    text = html.unescape(only_first.get_data(as_text=True))
    assert "1 event about patients whose name contains “first audited”" in text
    assert "export.fhir" not in text
    nobody = admin_client.get("/coordinator/admin/audit?patient=Nobody Here")
    assert nobody.status_code == 200
    assert "No events match these filters." in nobody.get_data(as_text=True)


def test_the_audit_log_pages(admin_client, session, admin):
    from tests.conftest import NOW
    from tracker.core.audit import record

    for n in range(120):
        record(
            session,
            now=NOW,
            action=f"test.event{n}",
            actor_type="system",
            clinic_id=admin.clinic_id,
        )
    session.commit()
    first = admin_client.get("/coordinator/admin/audit").get_data(as_text=True)
    assert "Page 1 of 3" in first and "test.event119" in first and "test.event0<" not in first
    last = admin_client.get("/coordinator/admin/audit?page=3").get_data(as_text=True)
    assert "test.event0<" in last


def test_the_audit_log_includes_a_patient_own_sign_ins(
    admin_client, session, enrolled, other_clinic
):
    from tests.conftest import NOW
    from tracker.core.audit import record

    ours = enrolled(days_ago=2, name="Link User")
    record(
        session,
        now=NOW,
        action="patient.link_sign_in",
        actor_type="patient",
        actor_patient_id=ours.patient.id,
        patient_id=ours.patient.id,
    )
    record(
        session,
        now=NOW,
        action="other.clinic.thing",
        actor_type="system",
        clinic_id=other_clinic.id,
    )
    session.commit()
    page = admin_client.get("/coordinator/admin/audit?patient=Link User").get_data(as_text=True)
    assert "patient.link_sign_in" in page and "Link User opened their personal link." in page
    everything = admin_client.get("/coordinator/admin/audit").get_data(as_text=True)
    assert "other.clinic.thing" not in everything
