"""Clinic admins set the escalation: office hours, the paging delay, paging for high alerts,
the severe-pain guidance, and the on-call list (SPEC section 6). Bad input stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, _empty_tables, make_test_app
from tests.coordinator.conftest import sign_in_as
from tracker.core.db import session_factory
from tracker.core.models import DEFAULT_OFFICE_HOURS, AuditEvent, Clinic, OnCallContact

PAGE = "/coordinator/admin/escalation"
WEEKDAY_HOURS = {
    f"{day}_{end}": time
    for day in ("mon", "tue", "wed", "thu", "fri")
    for end, time in (("open", "08:30"), ("close", "17:30"))
}
GOOD = {
    **WEEKDAY_HOURS,
    "sat_open": "09:00",
    "sat_close": "12:00",
    "escalation_delay_minutes": "20",
    "page_high_alerts": "1",
    "severe_pain_guidance": "Call us now.\r\nTell us your score.",
    "severe_pain_guidance_source": "Dr Rivera, spine clinic, 2026",
}


def audit_actions(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def fresh_clinic(session, clinic) -> Clinic:
    session.expire_all()
    return session.get(Clinic, clinic.id)


def add_contact(session, clinic, name, position, active=True) -> OnCallContact:
    contact = OnCallContact(
        clinic_id=clinic.id,
        position=position,
        name=name,
        channel="log",
        address=name.lower(),
        active=active,
        created_at=NOW,
    )
    session.add(contact)
    session.commit()
    return contact


def test_it_saves_office_hours_the_delay_paging_and_the_guidance(admin_client, session, clinic):
    response = admin_client.post(PAGE, data=GOOD)
    assert response.status_code == 302
    saved = fresh_clinic(session, clinic)
    assert saved.office_hours == {
        **{day: ["08:30", "17:30"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": ["09:00", "12:00"],
    }
    assert (saved.escalation_delay_minutes, saved.page_high_alerts) == (20, True)
    assert saved.severe_pain_guidance == "Call us now.\nTell us your score."
    assert saved.severe_pain_guidance_source == "Dr Rivera, spine clinic, 2026"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "clinic.escalation_update")
    ).one()
    assert event.detail["changes"]["escalation_delay_minutes"] == {"from": 15, "to": 20}
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "Escalation settings saved." in page
    assert 'value="08:30"' in page and "Dr Rivera, spine clinic, 2026" in page


def test_it_reads_a_blank_day_as_closed_and_blank_guidance_as_the_default(
    admin_client, session, clinic
):
    clinic.severe_pain_guidance, clinic.severe_pain_guidance_source = "Old text", "Old source"
    session.commit()
    data = {
        **GOOD,
        "fri_open": "",
        "fri_close": "",
        "severe_pain_guidance": "  ",
        "severe_pain_guidance_source": "ignored without a text",
    }
    assert admin_client.post(PAGE, data=data).status_code == 302
    saved = fresh_clinic(session, clinic)
    assert "fri" not in saved.office_hours
    assert (saved.severe_pain_guidance, saved.severe_pain_guidance_source) == (None, None)


def test_it_shows_the_default_guidance_and_its_source(admin_client):
    settings = admin_client.get("/coordinator/admin/clinic").get_data(as_text=True)
    assert f'href="{PAGE}"' in settings
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "Please call your care team now. Tell them your pain score." in page
    assert "SPEC section 2" in page
    assert "A clinician at the clinic must read and confirm this text" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"mon_open": "25:00"}, "hours_mon", "Monday: Times must look like 08:00 or 17:30"),
        ({"tue_open": "8am"}, "hours_tue", "Tuesday: Times must look like 08:00"),
        (
            {"wed_open": "17:00", "wed_close": "09:00"},
            "hours_wed",
            "Wednesday: The closing time must be after the opening time.",
        ),
        (
            {"sun_open": "10:00"},
            "hours_sun",
            "Sunday: Give an opening and a closing time, or leave both blank.",
        ),
        ({"escalation_delay_minutes": "0"}, "escalation_delay_minutes", "from 1 to 240"),
        ({"escalation_delay_minutes": "241"}, "escalation_delay_minutes", "from 1 to 240"),
        ({"escalation_delay_minutes": "soon"}, "escalation_delay_minutes", "Enter a whole number"),
        ({"escalation_delay_minutes": ""}, "escalation_delay_minutes", "Enter a whole number"),
        (
            {"severe_pain_guidance_source": ""},
            "severe_pain_guidance_source",
            "Say where your text comes from",
        ),
        ({"severe_pain_guidance": "x" * 2001}, "severe_pain_guidance", "at most 2000 characters"),
    ],
)
def test_it_refuses_bad_settings_with_a_clear_message_and_stores_nothing(
    admin_client, session, clinic, data, field, message
):
    response = admin_client.post(PAGE, data={**GOOD, **data})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert message in page
    assert f'id="{field}-error"' in page
    saved = fresh_clinic(session, clinic)
    assert saved.office_hours == DEFAULT_OFFICE_HOURS
    assert (saved.escalation_delay_minutes, saved.page_high_alerts) == (15, False)
    assert saved.severe_pain_guidance is None
    assert audit_actions(session) == []


def test_it_adds_on_call_contacts_checking_each_address(admin_client, session, clinic):
    for name, channel, address in (
        ("Night nurse", "webhook", "(555) 201-0142"),
        ("Dr Rivera", "email", "Rivera@Example.org"),
        ("Test line", "log", "night-log"),
        ("Abroad", "webhook", "+44 20 7946 0958"),
    ):
        response = admin_client.post(
            "/coordinator/admin/on-call",
            data={"name": name, "channel": channel, "address": address},
        )
        assert response.status_code == 302, name
    rows = session.scalars(select(OnCallContact).order_by(OnCallContact.position)).all()
    assert [(c.position, c.name, c.channel, c.address) for c in rows] == [
        (1, "Night nurse", "webhook", "+15552010142"),
        (2, "Dr Rivera", "email", "Rivera@Example.org"),
        (3, "Test line", "log", "night-log"),
        (4, "Abroad", "webhook", "+442079460958"),
    ]
    assert audit_actions(session) == ["on_call.add"] * 4
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "Text message (through the clinic&#39;s SMS gateway)" in page
    assert "+15552010142" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name of the person or role on call."),
        ({"name": "N" * 201}, "name", "at most 200 characters"),
        ({"channel": "pager"}, "channel", "Choose how to reach them"),
        ({"address": ""}, "address", "Enter their mobile number."),
        ({"address": "12345"}, "address", "Enter a mobile number that can get text messages"),
        ({"address": "555-0142"}, "address", "Enter a mobile number that can get text messages"),
        ({"address": "+0 555 201 0142"}, "address", "Enter a mobile number"),
        ({"channel": "email", "address": "nurse at clinic"}, "address", "Enter an email address"),
        ({"channel": "log", "address": "L" * 101}, "address", "Enter a label"),
    ],
)
def test_it_refuses_a_bad_contact_and_adds_nobody(admin_client, session, data, field, message):
    form = {"name": "Night nurse", "channel": "webhook", "address": "555 201 0142", **data}
    response = admin_client.post("/coordinator/admin/on-call", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nobody was added" in page
    assert message in page
    assert f'id="{field}-error"' in page
    assert session.scalar(select(func.count()).select_from(OnCallContact)) == 0
    assert audit_actions(session) == []


def test_control_characters_are_refused_and_nothing_is_stored(admin_client, session, clinic):
    # The app's input rules (input_rules.py) refuse them in any form field, before the view.
    for path, data in (
        (PAGE, {**GOOD, "severe_pain_guidance_source": "Dr \x00 Evil"}),
        ("/coordinator/admin/on-call", {"name": "A\x07B", "channel": "log", "address": "x"}),
    ):
        response = admin_client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Nothing was saved." in response.get_data(as_text=True)
    assert fresh_clinic(session, clinic).severe_pain_guidance is None
    assert session.scalar(select(func.count()).select_from(OnCallContact)) == 0
    assert audit_actions(session) == []


def test_it_moves_contacts_up_and_down_and_takes_them_off(admin_client, session, clinic):
    first = add_contact(session, clinic, "First", 1)
    second = add_contact(session, clinic, "Second", 2)
    third = add_contact(session, clinic, "Third", 3)
    move = f"/coordinator/admin/on-call/{third.id}/move"
    assert admin_client.post(move, data={"direction": "up"}).status_code == 302
    session.expire_all()
    assert [c.name for c in fresh_clinic(session, clinic).on_call] == ["First", "Third", "Second"]
    # Moving the first up changes nothing.
    admin_client.post(f"/coordinator/admin/on-call/{first.id}/move", data={"direction": "up"})
    admin_client.post(f"/coordinator/admin/on-call/{first.id}/move", data={"direction": "down"})
    assert [c.name for c in fresh_clinic(session, clinic).on_call] == ["Third", "First", "Second"]
    off = f"/coordinator/admin/on-call/{second.id}/deactivate"
    assert admin_client.post(off).status_code == 302
    assert [c.name for c in fresh_clinic(session, clinic).on_call] == ["Third", "First"]
    assert audit_actions(session) == ["on_call.move", "on_call.move", "on_call.deactivate"]
    moved = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "on_call.move").order_by(AuditEvent.id)
    ).first()
    assert moved.detail["order"] == {
        "from": [first.id, second.id, third.id],
        "to": [first.id, third.id, second.id],
    }
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "No longer paged: Second." in page
    assert admin_client.post(move, data={"direction": "sideways"}).status_code == 400


def test_it_warns_when_nobody_is_on_call(admin_client):
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert "Nobody is on call: outside office hours nobody is paged" in page


def test_another_clinics_contact_is_not_found(admin_client, session, other_clinic):
    theirs = add_contact(session, other_clinic, "Theirs", 1)
    for path, data in (
        (f"/coordinator/admin/on-call/{theirs.id}/deactivate", {}),
        (f"/coordinator/admin/on-call/{theirs.id}/move", {"direction": "down"}),
        ("/coordinator/admin/on-call/999999/deactivate", {}),
    ):
        assert admin_client.post(path, data=data).status_code == 404, path
    session.expire_all()
    assert session.get(OnCallContact, theirs.id).active
    assert audit_actions(session) == []


def test_coordinators_who_are_not_admins_cannot_change_it(coordinator_client, session, clinic):
    contact = add_contact(session, clinic, "Only", 1)
    assert coordinator_client.get(PAGE).status_code == 403
    for path, data in (
        (PAGE, GOOD),
        ("/coordinator/admin/on-call", {"name": "X", "channel": "log", "address": "x"}),
        (f"/coordinator/admin/on-call/{contact.id}/deactivate", {}),
        (f"/coordinator/admin/on-call/{contact.id}/move", {"direction": "down"}),
    ):
        assert coordinator_client.post(path, data=data).status_code == 403, path
    saved = fresh_clinic(session, clinic)
    assert (saved.escalation_delay_minutes, saved.office_hours) == (15, DEFAULT_OFFICE_HOURS)
    assert session.scalar(select(func.count()).select_from(OnCallContact)) == 1
    assert session.get(OnCallContact, contact.id).active
    assert audit_actions(session) == []


@pytest.fixture
def csrf_app(database_url):
    app = make_test_app(database_url, FIXED_NOW=NOW)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


def test_it_refuses_posts_without_a_csrf_token(csrf_app, clinic, make_user, session):
    contact = add_contact(session, clinic, "Only", 1)
    client = sign_in_as(csrf_app.test_client(), make_user(clinic, "admin"))
    for path, data in (
        (PAGE, GOOD),
        ("/coordinator/admin/on-call", {"name": "X", "channel": "log", "address": "x"}),
        (f"/coordinator/admin/on-call/{contact.id}/deactivate", {}),
        (f"/coordinator/admin/on-call/{contact.id}/move", {"direction": "down"}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    with session_factory(csrf_app)() as fresh:
        saved = fresh.get(Clinic, clinic.id)
        assert (saved.escalation_delay_minutes, saved.office_hours) == (15, DEFAULT_OFFICE_HOURS)
        assert fresh.scalar(select(func.count()).select_from(OnCallContact)) == 1
        assert fresh.get(OnCallContact, contact.id).active
        assert fresh.scalar(select(func.count()).select_from(AuditEvent)) == 0
