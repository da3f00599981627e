"""The enrolment form: every error at once, in plain words, beside its field; hints that
agree with the inputs; the time-zone picker; nothing stored on any error (issue 20)."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tracker.care.enrolment import COMMON_ZONES, timezone_groups
from tracker.cli.commands import main
from tracker.core.models import AuditEvent, CarePlan, Patient, PatientLinkToken
from tracker.core.timeutil import common_timezones

GOOD = {
    "name": "Jo Sample",
    "procedure": "kyphoplasty",
    "procedure_date": "2026-11-19",
    "levels": "L1",
    "timezone": "America/Chicago",
    "reminder_time": "08:30",
    "email": "jo@example.org",
    "phone": "+1 555 201 0142",
}

# Every field wrong at once, and the message each one gets (plain words, no code words).
ALL_BAD = {
    "name": "",
    "procedure": "spinal fusion",
    "procedure_date": "2026-02-30",
    "levels": "Z9",
    "timezone": "Mars/Olympus",
    "reminder_time": "25:00",
    "email": "not-an-email",
    "phone": "call me",
}
MESSAGES = {
    "name": "Enter the patient's full name.",
    "procedure": "Choose the procedure: kyphoplasty or vertebroplasty.",
    "procedure_date": '"2026-02-30" is not a real date. Enter it as year-month-day, '
    "like 2026-11-21.",
    "levels": '"Z9" is not a spinal level. Enter levels like T12, or L1, L2 for more than one.',
    "timezone": '"Mars/Olympus" is not a time zone we know. Choose one such as America/Chicago.',
    "reminder_time": '"25:00" is not a time of day. Enter hours and minutes on a 24-hour '
    "clock, like 09:00 or 18:30.",
    "email": "Enter an email address like jo@example.org, or leave it empty.",
    "phone": "Enter a phone number like +1 555 201 0142, or leave it empty.",
}
CODE_WORDS = ("must be one of", "is required", "IANA", "HH:MM", "YYYY-MM-DD")


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _nothing_stored(session) -> None:
    for model in (Patient, CarePlan, PatientLinkToken, AuditEvent):
        assert _count(session, model) == 0, model.__name__


def _input_tag(page: str, name: str) -> str:
    match = re.search(rf'<(input|select) id="{name}"[^>]*>', page)
    assert match, f"no input for {name}"
    return match.group(0)


def test_it_shows_every_error_at_once_beside_its_field_and_stores_nothing(
    coordinator_client, session
):
    response = coordinator_client.post("/coordinator/enrol", data=ALL_BAD)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    text = html.unescape(page)
    for field, message in MESSAGES.items():
        # The message is beside its field: the error paragraph with the field's id, named by
        # the input's aria-describedby, and the input marked invalid.
        error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
        assert error, field
        assert html.unescape(error.group(1)) == message
        tag = _input_tag(page, field)
        assert 'aria-invalid="true"' in tag, field
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert f"{field}-error" in described, field
        # ... and listed in the summary at the top, linked to the field.
        assert f'<a href="#{field}">' in page
    assert "Please correct these 8 fields" in text
    assert "Nothing has been saved." in text
    assert not [w for w in CODE_WORDS if w in text.split("<form", 1)[1].split("</form>")[0]]
    _nothing_stored(session)


def test_it_keeps_what_was_typed_escaped(coordinator_client, session):
    typed = GOOD | {"name": "<b>Jo</b> Sample", "levels": "Q7", "email": "jo@@example"}
    page = coordinator_client.post("/coordinator/enrol", data=typed).get_data(as_text=True)
    assert 'value="&lt;b&gt;Jo&lt;/b&gt; Sample"' in page and "<b>Jo</b>" not in page
    assert 'id="levels" name="levels" type="text" value="Q7"' in page
    assert 'value="jo@@example"' in page
    assert '<option value="America/Chicago" selected>' in page
    assert '<option value="kyphoplasty" selected>' in page
    # Only the two bad fields are marked.
    assert page.count('class="field-error"') == 2
    assert 'aria-invalid="true"' not in _input_tag(page, "name")
    _nothing_stored(session)


@pytest.mark.parametrize("field", sorted(MESSAGES))
def test_each_message_belongs_to_its_own_field(coordinator_client, session, field):
    response = coordinator_client.post("/coordinator/enrol", data=GOOD | {field: ALL_BAD[field]})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]*)</p>', page)
    assert [(name, html.unescape(message)) for name, message in errors] == [
        (field, MESSAGES[field])
    ]
    assert "Please correct this field" in html.unescape(page)
    _nothing_stored(session)


def test_the_procedure_date_range_is_exact_in_the_patients_zone(coordinator_client, session):
    # Saturday 2026-11-21 15:00 UTC: 365 days back is 2025-11-21, 180 ahead 2027-05-20.
    first, last = date(2025, 11, 21), date(2027, 5, 20)
    for day, ok in (
        (first, True),
        (last, True),
        (date(2025, 11, 20), False),
        (date(2027, 5, 21), False),
    ):
        response = coordinator_client.post(
            "/coordinator/enrol",
            data=GOOD | {"procedure_date": day.isoformat(), "name": f"Day {day}"},
        )
        assert (response.status_code == 200) is ok, day
        if not ok:
            assert (
                "Enter a procedure date between Nov 21, 2025 and May 20, 2027 (up to 365 days "
                "ago or 180 days ahead)."
            ) in html.unescape(response.get_data(as_text=True))
    assert _count(session, Patient) == 2
    # On Kiritimati (UTC+14) it is already Sunday 22 November: the range moves a day.
    kiritimati = GOOD | {"timezone": "Pacific/Kiritimati"}
    for day, ok in ((date(2027, 5, 21), True), (date(2025, 11, 21), False)):
        response = coordinator_client.post(
            "/coordinator/enrol", data=kiritimati | {"procedure_date": day.isoformat()}
        )
        assert (response.status_code == 200) is ok, day
    assert _count(session, Patient) == 3


def test_inputs_and_hints_agree(coordinator_client):
    page = html.unescape(coordinator_client.get("/coordinator/enrol").get_data(as_text=True))
    # A date picker with the accepted range and no typed-format hint; a time picker likewise.
    date_input = _input_tag(page, "procedure_date")
    assert 'type="date"' in date_input
    assert 'min="2025-11-21"' in date_input and 'max="2027-05-20"' in date_input
    assert 'type="time"' in _input_tag(page, "reminder_time")
    form = page.split("<form", 1)[1]
    assert "YYYY" not in form and "HH:MM" not in form and "IANA" not in form
    # Each hint is named by its input.
    for field in ("procedure_date", "levels", "timezone", "reminder_time", "email", "phone"):
        assert f'aria-describedby="{field}-hint"' in _input_tag(page, field)
        assert f'id="{field}-hint"' in page
    assert 'value="09:00"' in _input_tag(page, "reminder_time")


def _groups(page: str) -> list[tuple[str, list[tuple[str, bool]]]]:
    groups = []
    for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', page, re.S):
        options = re.findall(r'<option value="([^"]+)"( selected)?>', body)
        groups.append((label, [(value, bool(selected)) for value, selected in options]))
    return groups


def test_the_time_zone_picker_lists_the_clinics_zone_then_common_then_all(
    coordinator_client, session, clinic
):
    clinic.timezone = "America/Denver"
    session.commit()
    page = coordinator_client.get("/coordinator/enrol").get_data(as_text=True)
    groups = _groups(
        html.unescape(page.split('<select id="timezone"', 1)[1].split("</select>", 1)[0])
    )
    assert [label for label, _ in groups] == [
        "This clinic's time zone",
        "Common time zones",
        "All time zones",
    ]
    assert groups[0][1] == [("America/Denver", True)]
    assert [value for value, _ in groups[1][1]] == [
        zone for zone, _ in COMMON_ZONES if zone != "America/Denver"
    ]
    assert [value for value, _ in groups[2][1]] == common_timezones()
    assert "America/Denver" in [value for value, _ in groups[2][1]]  # the full list is whole
    # Selected once only, in the first group.
    assert sum(selected for _, options in groups for _, selected in options) == 1
    assert "Central time (Chicago) · America/Chicago</option>" in page


def test_the_picker_keeps_a_chosen_zone_and_selects_it_once():
    groups = timezone_groups("America/New_York", "Asia/Tokyo")
    selected = [(g.label, o.value) for g in groups for o in g.options if o.selected]
    assert selected == [("All time zones", "Asia/Tokyo")]
    groups = timezone_groups("America/New_York", "America/Chicago")
    selected = [(g.label, o.value) for g in groups for o in g.options if o.selected]
    assert selected == [("Common time zones", "America/Chicago")]


def test_a_good_form_enrols_with_the_chosen_zone(coordinator_client, session, clinic):
    response = coordinator_client.post("/coordinator/enrol", data=GOOD)
    assert response.status_code == 200
    patient = session.scalars(select(Patient)).one()
    plan = patient.plans[0]
    assert (plan.timezone, plan.levels, str(plan.reminder_time), patient.phone) == (
        "America/Chicago",
        "L1",
        "08:30:00",
        "+1 555 201 0142",
    )
    assert plan.created_at == NOW


def test_the_cli_lists_every_error_in_the_same_words(runner, session, clinic):
    result = runner.invoke(
        main,
        [
            "enroll",
            "--clinic",
            clinic.name,
            "--name",
            " ",
            "--procedure",
            "fusion",
            "--procedure-date",
            "2026-02-30",
            "--timezone",
            "Mars/Olympus",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--name: Enter the patient's full name." in result.output
    assert "--procedure: Choose the procedure: kyphoplasty or vertebroplasty." in result.output
    assert '--procedure-date: "2026-02-30" is not a real date.' in result.output
    assert '--timezone: "Mars/Olympus" is not a time zone we know.' in result.output
    _nothing_stored(session)
