"""The contact log: calls logged from the triage row and from the patient page, the latest
shown on the row, bad input refused with nothing stored, and only for the clinic's patients.

NOW is Saturday 2026-11-21 10:00 in New York (the clinic's zone).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert
from tracker.care.contact_log import (
    ContactError,
    ContactInput,
    latest_contacts,
    log_contact,
    parse_contact,
)
from tracker.core.models import NOTE_MAX_LENGTH, AuditEvent, ContactLogEntry
from tracker.web.input_rules import CONTROL_CHARACTER_MESSAGE

NEW_YORK = "America/New_York"


def row_of(page: str, patient_id: int) -> str:
    start = page.index(f'id="patient-{patient_id}"')
    return page[start : page.index("</tr>", start)]


def entries(session) -> list[ContactLogEntry]:
    session.expire_all()
    return list(session.scalars(select(ContactLogEntry).order_by(ContactLogEntry.id)))


def audits(session) -> int:
    return session.scalar(select(func.count()).where(AuditEvent.action == "contact.log"))


@pytest.fixture
def patient(enrolled):
    return enrolled(days_ago=4, name="Jo Sample")


def test_a_call_logged_from_the_row_shows_on_the_row_and_comes_back_to_the_list(
    session, coordinator_client, coordinator, patient
):
    alert = open_alert(session, patient.plan, "severe_pain", "high", "Pain 8/10")
    pid = patient.patient.id
    response = coordinator_client.post(
        f"/coordinator/patients/{pid}/contacts",
        data={
            "outcome": "no_answer",
            "note": "Rang twice.",
            "time": "08:00",
            "alert_id": str(alert.id),
            "back": "has_alerts=1",
        },
    )
    assert response.status_code == 302
    assert response.location == f"/coordinator/?has_alerts=1#patient-{pid}"
    [entry] = entries(session)
    assert (entry.outcome, entry.note, entry.user_id, entry.alert_id) == (
        "no_answer",
        "Rang twice.",
        coordinator.id,
        alert.id,
    )
    # 08:00 in New York (EST, UTC-5) on the clinic's day; recorded at NOW.
    assert entry.contacted_at == datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    assert entry.recorded_at == NOW
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.log")).one()
    assert audit.patient_id == pid
    assert audit.detail == {"contact_id": entry.id, "outcome": "no_answer", "alert_id": alert.id}

    page = coordinator_client.get(response.location).get_data(as_text=True)
    assert "Contact logged for Jo Sample: Called · no answer." in page
    row = row_of(page, pid)
    assert "Called · no answer · " in row
    assert ">2 h ago</time> by Coordinator of Test Spine Clinic" in row
    assert "Rang twice." in row


def test_the_row_shows_the_latest_contact_by_when_it_happened(
    session, coordinator_client, coordinator, patient
):
    pid = patient.patient.id
    url = f"/coordinator/patients/{pid}/contacts"
    coordinator_client.post(url, data={"outcome": "spoke", "time": "09:30"})
    # Logged afterwards, but about an earlier call: not the latest.
    coordinator_client.post(url, data={"outcome": "left_message", "time": "07:15"})
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), pid)
    assert "Spoke with patient · " in row and ">30 min ago</time>" in row
    assert "left message" not in row
    assert len(entries(session)) == 2


def test_a_row_without_contacts_says_so(coordinator_client, patient):
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), patient.patient.id)
    assert '<span class="none">None</span>' in row
    assert "Log call" in row


def test_a_call_logged_from_the_patient_page_goes_back_to_it(session, coordinator_client, patient):
    pid = patient.patient.id
    response = coordinator_client.post(
        f"/coordinator/patients/{pid}/contacts",
        data={"outcome": "spoke", "note": "Feeling better.", "back": "patient"},
    )
    assert response.status_code == 302
    assert response.location == f"/coordinator/patients/{pid}#contact-log"
    [entry] = entries(session)
    assert (entry.outcome, entry.contacted_at, entry.alert_id) == ("spoke", NOW, None)
    page = coordinator_client.get(response.location).get_data(as_text=True)
    assert 'id="contact-log"' in page
    assert "Spoke with patient" in page and "Feeling better." in page
    assert "by Coordinator of Test Spine Clinic" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "outcome", "Choose how the contact went: called, left a message, no answer, spoke"),
        ({"outcome": "emailed"}, "outcome", "Choose how the contact went"),
        ({"outcome": "<script>"}, "outcome", "Choose how the contact went"),
        (
            {"outcome": "called", "note": "x" * (NOTE_MAX_LENGTH + 1)},
            "note",
            f"Keep the note to {NOTE_MAX_LENGTH} characters or fewer (it has 501).",
        ),
        ({"outcome": "called", "time": "10:01"}, "time", "That time is still to come today."),
        ({"outcome": "called", "time": "24:00"}, "time", "Enter the time as hours and minutes"),
        ({"outcome": "called", "time": "9.30"}, "time", "Enter the time as hours and minutes"),
        ({"outcome": "called", "time": "yesterday"}, "time", "Enter the time as hours"),
    ],
)
@pytest.mark.parametrize("back", ["procedure=kyphoplasty", "patient"])
def test_bad_contact_input_is_explained_and_nothing_is_stored(
    session, coordinator_client, patient, data, field, message, back
):
    pid = patient.patient.id
    response = coordinator_client.post(
        f"/coordinator/patients/{pid}/contacts", data={**data, "back": back}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "<script>" not in page
    prefix = "contact" if back == "patient" else f"contact-{pid}"
    assert f'id="{prefix}-{field}-error"' in page  # next to its field
    if back != "patient":
        assert "The contact was not saved:" in page
        assert re.search(r'<details class="log-contact" open>', row_of(page, pid))
    assert entries(session) == [] and audits(session) == 0


def test_every_problem_is_listed_at_once(session, coordinator_client, patient):
    pid = patient.patient.id
    response = coordinator_client.post(
        f"/coordinator/patients/{pid}/contacts",
        data={"outcome": "maybe", "note": "y" * 600, "time": "23:59"},
    )
    assert response.status_code == 400
    page = row_of(response.get_data(as_text=True), pid)
    for field in ("outcome", "note", "time"):
        assert f'id="contact-{pid}-{field}-error"' in page
    # What was typed is kept, so nothing needs typing again.
    assert "y" * 600 in page and 'value="23:59"' in page


@pytest.mark.parametrize(
    ("when", "accepted"),
    [("10:00", True), ("10:01", False), ("00:00", True), ("9:59", True), ("23:59", False)],
)
def test_the_time_of_a_call_is_today_up_to_now_on_the_clinics_clock(when, accepted):
    form = {"outcome": "called", "time": when}
    if accepted:
        contact = parse_contact(form, tz_name=NEW_YORK, now=NOW)
        hour, minute = (int(x) for x in when.split(":"))
        # New York is on EST (UTC-5) in November.
        assert contact.contacted_at == datetime(2026, 11, 21, hour + 5, minute, tzinfo=UTC)
    else:
        with pytest.raises(ContactError) as refused:
            parse_contact(form, tz_name=NEW_YORK, now=NOW)
        assert set(refused.value.errors) == {"time"}


def test_a_note_of_exactly_the_limit_is_kept(session, coordinator_client, patient):
    note = "n" * NOTE_MAX_LENGTH
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.patient.id}/contacts",
        data={"outcome": "called", "note": f"  {note}  "},
    )
    assert response.status_code == 302
    assert [e.note for e in entries(session)] == [note]


@pytest.mark.parametrize("note", ["bad\x00byte", "bell\x07", "line\u2028separator", "tab\x0bv"])
def test_control_characters_are_refused_and_nothing_is_stored(
    session, coordinator_client, patient, note
):
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.patient.id}/contacts",
        data={"outcome": "called", "note": note},
    )
    assert response.status_code == 400
    assert CONTROL_CHARACTER_MESSAGE in response.get_data(as_text=True)
    assert entries(session) == [] and audits(session) == 0
    # The same rule holds without the web layer's check.
    with pytest.raises(ContactError):
        parse_contact({"outcome": "called", "note": note}, tz_name=NEW_YORK, now=NOW)


def test_line_breaks_in_a_note_are_kept(session, coordinator_client, patient):
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.patient.id}/contacts",
        data={"outcome": "spoke", "note": "Line one\r\nLine two"},
    )
    assert response.status_code == 302
    assert entries(session)[0].note == "Line one\r\nLine two"


def test_another_clinics_patient_or_alert_is_a_404_and_nothing_is_stored(
    session, coordinator_client, patient, other_clinic, enroll_patient
):
    theirs = enroll_patient(clinic=other_clinic, name="Their Patient")
    their_alert = open_alert(session, theirs.plan, "severe_pain", "high", "Pain 9/10")
    other_mine = open_alert(
        session, patient.plan, "missed_checkin", "normal", "No check-in"
    )  # an alert of this patient: accepted below
    url = f"/coordinator/patients/{theirs.patient.id}/contacts"
    assert coordinator_client.post(url, data={"outcome": "called"}).status_code == 404
    mine = f"/coordinator/patients/{patient.patient.id}/contacts"
    for alert_id in (str(their_alert.id), "987654", "abc"):
        response = coordinator_client.post(mine, data={"outcome": "called", "alert_id": alert_id})
        assert response.status_code == 404, alert_id
    assert coordinator_client.post("/coordinator/patients/987654/contacts").status_code == 404
    assert entries(session) == [] and audits(session) == 0
    ok = coordinator_client.post(mine, data={"outcome": "called", "alert_id": str(other_mine.id)})
    assert ok.status_code == 302


def test_an_alert_of_another_patient_of_the_same_clinic_is_refused(
    session, coordinator_client, patient, enrolled
):
    neighbour = enrolled(days_ago=2, name="Neighbour")
    alert = open_alert(session, neighbour.plan, "severe_pain", "high", "Pain 9/10")
    response = coordinator_client.post(
        f"/coordinator/patients/{patient.patient.id}/contacts",
        data={"outcome": "called", "alert_id": str(alert.id)},
    )
    assert response.status_code == 404
    assert entries(session) == []
    with pytest.raises(ValueError, match="not this patient's"):
        log_contact(
            session,
            patient.patient,
            ContactInput("called", None, NOW),
            user_id=1,
            now=NOW,
            alert=alert,
        )


def test_latest_contacts_reads_one_entry_per_patient(session, coordinator, enrolled):
    one, two, none = (enrolled(days_ago=3, name=n).patient for n in ("One", "Two", "None"))
    for patient, minutes in ((one, 50), (one, 10), (one, 30), (two, 5)):
        log_contact(
            session,
            patient,
            ContactInput("called", f"{minutes}", NOW - timedelta(minutes=minutes)),
            user_id=coordinator.id,
            now=NOW,
        )
    session.commit()
    latest = latest_contacts(session, [one.id, two.id, none.id])
    assert {pid: c.note for pid, c in latest.items()} == {one.id: "10", two.id: "5"}
    assert latest[one.id].by == coordinator.name
