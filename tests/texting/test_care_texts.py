"""What the care team sees of texts: the conversation (in order, with what each reply was
taken to mean), the texting status on the triage row and the patient page (an opt-out, texts
to read), and the clinic's quiet hours. Own clinic only; every view audited."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from tests.conftest import NOW
from tests.coordinator.conftest import password_hash, sign_in_as
from tests.texting.conftest import NUMBER, at, tick
from tracker.care.auth import load_account
from tracker.core.models import AuditEvent, Clinic, User


def _user(session, clinic, role="coordinator", email=None) -> User:
    user = User(
        clinic_id=clinic.id,
        email=email or f"{role}-{clinic.id}@example.org",
        name=f"{role.title()} Example",
        password_hash=password_hash(),
        role=role,
        created_at=NOW,
    )
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def coordinator(session, clinic) -> User:
    return _user(session, clinic)


@pytest.fixture
def other_clinic(session) -> Clinic:
    other = Clinic(
        name="Other Clinic", phone="555-0177", timezone="America/Chicago", created_at=NOW
    )
    session.add(other)
    session.commit()
    return other


def test_the_conversation_shows_texts_in_order_with_their_meaning(
    app, fake, gateway_server, session, patient, coordinator
):
    tick(app, NOW)
    fake.text_from(NUMBER, "4")
    fake.text_from(NUMBER, "I fell over")
    at(app, NOW + timedelta(minutes=5))
    fake.text_from(NUMBER, "STOP")
    client = sign_in_as(app.test_client(), coordinator)
    response = client.get(f"/coordinator/patients/{patient.patient.id}/texts")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    order = [
        "Daily reminder for Nov 21, 2026",
        "Pain score 4 for Nov 21, 2026",
        "Thank you. Your pain score of 4 is saved.",
        "Warning signs (1 of 2).",
        "<strong>Not understood:</strong> I fell over",
        "STOP: no more texts to this number",
    ]
    assert [t for t in order if t not in page] == []
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert "opted out (STOP)" in page
    assert "[personal link]" in page and "/p/" not in page
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.texts_view"))
    assert [(a.actor_user_id, a.patient_id) for a in audit] == [
        (coordinator.id, patient.patient.id)
    ]


def test_another_clinics_patient_texts_are_not_found(app, session, patient, other_clinic):
    stranger = _user(session, other_clinic, email="x@other.example")
    client = sign_in_as(app.test_client(), stranger)
    assert client.get(f"/coordinator/patients/{patient.patient.id}/texts").status_code == 404
    assert client.get("/coordinator/patients/999999/texts").status_code == 404


def test_the_conversation_needs_a_signed_in_care_team_member(app, patient):
    response = app.test_client().get(f"/coordinator/patients/{patient.patient.id}/texts")
    assert response.status_code == 302 and "/coordinator/login" in response.headers["Location"]


def _status(app, user, patient) -> str:
    with app.test_request_context():
        login_user(load_account(f"{user.id}:{user.session_version}"))
        html = render_template_string(
            '{% include "coordinator/_texting_status.html" %}', patient=patient
        )
    return " ".join(html.split())


def test_the_status_include_shows_an_opt_out_and_texts_to_read(
    app, fake, session, patient, coordinator
):
    assert "opted out" not in _status(app, coordinator, patient.patient)
    fake.text_from(NUMBER, "my back is worse since yesterday")
    fake.text_from(NUMBER, "STOP")
    status = _status(app, coordinator, patient.patient)
    assert "Texts: opted out (STOP)" in status
    assert "1 text to read</strong>: “my back is worse since yesterday”" in status
    assert f'href="/coordinator/patients/{patient.patient.id}/texts"' in status
    # Days later only the opt-out stays.
    at(app, NOW + timedelta(days=4))
    assert "to read" not in _status(app, coordinator, patient.patient)


def test_an_admin_sets_the_quiet_hours(app, session, clinic):
    admin = sign_in_as(app.test_client(), _user(session, clinic, "admin"))
    page = admin.get("/coordinator/admin/texting")
    assert page.status_code == 200
    assert "http://localhost/sms/inbound" in page.get_data(as_text=True)
    saved = admin.post(
        "/coordinator/admin/texting", data={"quiet_start": "21:00", "quiet_end": "08:00"}
    )
    assert saved.status_code == 302
    session.expire_all()
    assert (clinic.quiet_hours_start, clinic.quiet_hours_end) == (time(21, 0), time(8, 0))
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "clinic.update")).one()
    assert audit.detail["changes"] == {"quiet_hours": {"from": None, "to": "21:00-08:00"}}
    admin.post("/coordinator/admin/texting", data={"quiet_start": "", "quiet_end": ""})
    session.expire_all()
    assert clinic.quiet_hours_start is None and clinic.quiet_hours_end is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("25:00", "08:00", "Enter both times as hours and minutes"),
        ("21:00", "", "Enter both times as hours and minutes"),
        ("21:00", "21:00", "The start and the end must be different times."),
    ],
)
def test_bad_quiet_hours_are_refused_and_nothing_is_saved(
    app, session, clinic, start, end, message
):
    admin = sign_in_as(app.test_client(), _user(session, clinic, "admin"))
    response = admin.post(
        "/coordinator/admin/texting", data={"quiet_start": start, "quiet_end": end}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert clinic.quiet_hours_start is None


def test_only_admins_set_the_quiet_hours(app, session, clinic, coordinator):
    client = sign_in_as(app.test_client(), coordinator)
    assert client.get("/coordinator/admin/texting").status_code == 403
    assert (
        client.post("/coordinator/admin/texting", data={"quiet_start": "21:00"}).status_code == 403
    )
