"""Access rules as a matrix: every care team URL x who is asking.

anonymous -> sign-in redirect; a patient's session, or a caregiver's -> 403; a coordinator of
another clinic -> 404 for anything about one of our patients; the clinic's own coordinator ->
success; admin pages -> 403 for a coordinator. The patient's pages, as a patient or one of
their caregivers: tests/patient/test_caregivers_access.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert, sign_in_as
from tests.patient.caregiver_fixtures import open_link
from tracker.core.models import Patient
from tracker.plans import caregivers


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {patient}, {caregiver}, {alert}, {user} are filled in from the world fixture
    ok: int  # status for the clinic's own coordinator (or admin, for admin pages)
    data: tuple[tuple[str, str], ...] = ()
    admin_only: bool = False
    about_patient: bool = False


ENDPOINTS = [
    Endpoint("GET", "/coordinator/", 200),
    Endpoint("GET", "/coordinator/patients/{patient}", 200, about_patient=True),
    Endpoint("GET", "/coordinator/patients/{patient}/fhir.json", 200, about_patient=True),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/alerts/{alert}/acknowledge",
        302,
        (("note", "Called"),),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/alerts/{alert}/resolve",
        302,
        (("note", "Called, fine"),),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/appointments",
        302,
        (("key", "followup_first"), ("date", "2026-12-01")),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/restrictions",
        302,
        (("key", "no_heavy_lifting"), ("end_day", "55")),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/status",
        302,
        (("action", "pause"),),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/link",
        200,
        (("action", "rotate"),),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/caregivers",
        302,
        (
            ("name", "Sam Helper"),
            ("relation", "son"),
            ("phone", "555-0177"),
            ("scope", "view"),
            ("consented", "yes"),
            ("consent_note", "Said yes on the phone"),
        ),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/caregivers/{caregiver}/scope",
        302,
        (("scope", "view"),),
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/caregivers/{caregiver}/link",
        200,
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/caregivers/{caregiver}/remove",
        302,
        about_patient=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/patients/{patient}/language",
        302,
        (("language", "es"),),
        about_patient=True,
    ),
    Endpoint("GET", "/coordinator/enrol", 200),
    Endpoint(
        "POST",
        "/coordinator/enrol",
        200,
        (
            ("name", "New Patient"),
            ("procedure", "kyphoplasty"),
            ("procedure_date", "2026-11-20"),
            ("timezone", "America/New_York"),
        ),
    ),
    Endpoint("GET", "/coordinator/exports", 200),
    Endpoint("GET", "/coordinator/exports/pain.csv?start=2026-11-01&end=2026-11-21", 200),
    Endpoint("GET", "/coordinator/admin/users", 200, admin_only=True),
    Endpoint(
        "POST",
        "/coordinator/admin/users",
        302,
        (
            ("name", "New Nurse"),
            ("email", "nurse@example.org"),
            ("role", "coordinator"),
            ("password", "a-long-enough-password"),
        ),
        admin_only=True,
    ),
    Endpoint(
        "POST",
        "/coordinator/admin/users/{user}/active",
        302,
        (("active", "0"),),
        admin_only=True,
    ),
    Endpoint("GET", "/coordinator/admin/clinic", 200, admin_only=True),
    Endpoint(
        "POST",
        "/coordinator/admin/clinic",
        302,
        (
            ("phone", "555-0143"),
            ("after_hours_phone", ""),
            ("severe_pain_threshold", "7"),
            ("worsening_points", "2"),
            ("worsening_percent", "30"),
            ("not_improving_mean", "4"),
            ("not_improving_day", "14"),
            ("missed_checkin_days", "2"),
            ("opioid_free_days_before_driving", "1"),
        ),
        admin_only=True,
    ),
    Endpoint("GET", "/coordinator/admin/audit", 200, admin_only=True),
]
IDS = [f"{e.method} {e.path}" for e in ENDPOINTS]


@pytest.fixture
def world(session, clinic, other_clinic, enrolled, make_user):
    patient = enrolled(days_ago=4, name="Our Patient")
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10 on day 4")
    colleague = make_user(clinic, email="colleague@example.org")
    helper = caregivers.add_caregiver(
        session,
        patient.patient,
        name="Wendy Neighbour",
        relation="neighbour",
        email=None,
        phone="555-0166",
        scope="act",
        language="en",
        reminder_channel=None,
        consent="patient",
        now=NOW,
    )
    session.commit()
    return {
        "patient": patient.patient.id,
        "caregiver": helper.id,
        "alert": alert.id,
        "user": colleague.id,
        "coordinator": make_user(clinic),
        "admin": make_user(clinic, "admin"),
        "stranger": make_user(other_clinic),
        "stranger_admin": make_user(other_clinic, "admin"),
    }


def call(client, endpoint, world):
    path = endpoint.path.format(**world)
    if endpoint.method == "GET":
        return client.get(path)
    return client.post(path, data=dict(endpoint.data))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_it_sends_anonymous_visitors_to_sign_in(app, world, endpoint):
    response = call(app.test_client(), endpoint, world)
    assert response.status_code == 302
    if endpoint.method == "GET":
        assert response.location.startswith("/coordinator/login?next=/coordinator/")
    else:
        assert response.location == "/coordinator/login"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_it_refuses_a_patient_session(app, world, endpoint):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["patient_id"] = world["patient"]
        sess["patient_v"] = 0
    assert call(client, endpoint, world).status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("scope", ["view", "act"])
def test_it_refuses_a_caregiver_session(app, session, world, endpoint, scope):
    # A caregiver signed in by their own link, for our patient: the care team's pages are
    # not theirs, whatever they may do on the patient's.
    patient = session.get(Patient, world["patient"])
    caregiver = caregivers.add_caregiver(
        session,
        patient,
        name="Ana Ruiz",
        relation="daughter",
        email="ana@example.org",
        phone=None,
        scope=scope,
        language="en",
        reminder_channel=None,
        consent="patient",
        now=NOW,
    )
    raw = caregivers.issue_caregiver_link(
        session,
        caregiver,
        patient.plans[-1],
        actor=caregivers.Actor.patient(patient.id),
        now=NOW,
        grace_days=14,
    )
    session.commit()
    client = open_link(app.test_client(), raw)
    assert call(client, endpoint, world).status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_it_hides_our_patients_from_another_clinic(app, world, endpoint):
    who = world["stranger_admin"] if endpoint.admin_only else world["stranger"]
    response = call(sign_in_as(app.test_client(), who), endpoint, world)
    if endpoint.about_patient or "{user}" in endpoint.path:
        assert response.status_code == 404
    else:
        # Clinic-wide pages work, but show only the other clinic's own data.
        assert response.status_code == endpoint.ok
        assert b"Our Patient" not in response.data


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_it_serves_the_clinic_own_team(app, world, endpoint):
    who = world["admin"] if endpoint.admin_only else world["coordinator"]
    response = call(sign_in_as(app.test_client(), who), endpoint, world)
    assert response.status_code == endpoint.ok


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.admin_only], ids=str)
def test_it_keeps_coordinators_out_of_admin_pages(app, world, endpoint):
    response = call(sign_in_as(app.test_client(), world["coordinator"]), endpoint, world)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/coordinator/patients/999999",
        "/coordinator/patients/999999/fhir.json",
        "/coordinator/patients/abc",
    ],
)
def test_it_answers_404_for_unknown_patients(app, world, path):
    response = sign_in_as(app.test_client(), world["coordinator"]).get(path)
    assert response.status_code == 404


def test_it_answers_404_for_an_alert_of_another_patient(app, session, world, enrolled):
    other = enrolled(days_ago=2, name="Second Patient")
    response = sign_in_as(app.test_client(), world["coordinator"]).post(
        f"/coordinator/patients/{other.patient.id}/alerts/{world['alert']}/resolve",
        data={"note": "wrong patient"},
    )
    assert response.status_code == 404
