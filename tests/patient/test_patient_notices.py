"""What a patient is told about who knows (patient_notices.who_knows): every branch is true
at that moment, times are in the patient's own zone, and the number to call is the one
that answers now (SPEC section 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.core.models import DEFAULT_OFFICE_HOURS, Alert, Clinic
from tracker.escalation.notices import numbers_now, when, who_knows
from tracker.escalation.paging import PagingState

NEW_YORK = "America/New_York"
# Friday 2026-11-20 10:50 pm in New York: the office (Mon-Fri 8-5) is closed until Monday.
FRIDAY_NIGHT = datetime(2026, 11, 21, 3, 50, tzinfo=UTC)
# Friday 2026-11-20 10:00 am in New York: open until 5:00 pm.
FRIDAY_MORNING = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
AT_10_41_PM = datetime(2026, 11, 21, 3, 41, tzinfo=UTC)
AT_10_45_PM = datetime(2026, 11, 21, 3, 45, tzinfo=UTC)


def clinic(after_hours: str | None = "555-0199", hours=None) -> Clinic:
    return Clinic(
        name="Test Spine Clinic",
        phone="555-0142",
        after_hours_phone=after_hours,
        timezone=NEW_YORK,
        office_hours=dict(DEFAULT_OFFICE_HOURS) if hours is None else hours,
    )


def alert(status: str = "open", **fields) -> Alert:
    return Alert(rule="red_flag", urgency="urgent", status=status, **fields)


def page(status: str, *, created_at=AT_10_41_PM, sent_at=None) -> PagingState:
    return PagingState(
        alert_id=1,
        round=1,
        step=1,
        contact_name="Dana On-Call",
        channel="webhook",
        status=status,
        created_at=created_at,
        sent_at=sent_at,
        last_error=None,
        attempts=1,
        exhausted=False,
        next_escalation_at=None,
    )


def told(a, c, state, now, tz=NEW_YORK, seen_by=None) -> str:
    return who_knows(a, c, state, now, tz_name=tz, seen_by=seen_by).text


def test_it_names_who_saw_it_and_when_once_acknowledged():
    seen = alert("acknowledged", acknowledged_at=AT_10_45_PM)
    text = told(seen, clinic(), page("cancelled"), FRIDAY_NIGHT, seen_by="Nora Nurse")
    assert text.startswith("Nora from your care team saw this at 10:45 pm.")
    assert text.endswith("call our after-hours number: 555-0199.")


def test_it_says_someone_saw_it_when_the_name_is_unknown_or_it_was_resolved_directly():
    resolved = alert("resolved", resolved_at=AT_10_45_PM)
    text = told(resolved, clinic(), None, FRIDAY_NIGHT)
    assert text.startswith("Someone from your care team saw this at 10:45 pm.")


def test_it_does_not_claim_they_saw_newer_answers_than_they_acknowledged():
    updated = alert(
        "acknowledged",
        acknowledged_at=AT_10_41_PM,
        updated_at=AT_10_45_PM,
    )
    text = told(updated, clinic(), None, FRIDAY_NIGHT, seen_by="Nora Nurse")
    assert "saw this" not in text
    assert text.startswith("Our office is closed.")


def test_it_says_when_the_on_call_nurse_was_paged():
    notice = who_knows(
        alert(),
        clinic(),
        page("sent", sent_at=AT_10_41_PM),
        FRIDAY_NIGHT,
        tz_name=NEW_YORK,
    )
    assert notice.kind == "paged"
    assert notice.text == (
        "The on-call nurse was paged at 10:41 pm. "
        "If you do not hear back soon, call our after-hours number: 555-0199."
    )


def test_it_says_we_are_paging_while_the_page_waits_to_go():
    text = told(alert(), clinic(), page("queued"), FRIDAY_NIGHT)
    assert text.startswith("We are paging the on-call nurse now.")


@pytest.mark.parametrize("state", [None, "failed", "cancelled"])
def test_it_says_the_office_is_closed_and_when_it_opens_when_nobody_is_paged(state):
    notice = who_knows(
        alert(), clinic(), page(state) if state else None, FRIDAY_NIGHT, tz_name=NEW_YORK
    )
    assert notice.kind == "closed"
    assert notice.text == (
        "Our office is closed. Your care team will see this when they open on Monday at "
        "8:00 am. If you need help before then, call our after-hours number: 555-0199."
    )
    assert notice.phone == "555-0199"


def test_it_gives_the_daytime_number_when_the_clinic_has_no_after_hours_number():
    text = told(alert(), clinic(after_hours=None), None, FRIDAY_NIGHT)
    assert text.endswith("If you need help before then, call 555-0142.")


def test_it_does_not_promise_an_opening_time_the_clinic_does_not_have():
    text = told(alert(), clinic(hours={}), None, FRIDAY_NIGHT)
    assert "Your care team will see this when the office opens again." in text


@pytest.mark.parametrize("state", [None, "failed"])
def test_it_says_the_care_team_can_see_it_in_office_hours(state):
    notice = who_knows(
        alert(), clinic(), page(state) if state else None, FRIDAY_MORNING, tz_name=NEW_YORK
    )
    assert notice.kind == "open"
    assert notice.text == (
        "Your care team can see this on their list now. They are open until 5:00 pm. "
        "If you do not hear from them soon, call 555-0142."
    )


def test_it_shows_times_in_the_patients_own_zone():
    # The clinic opens at 8:00 am in New York: 5:00 am for a patient in Los Angeles.
    text = told(alert(), clinic(), None, FRIDAY_NIGHT, tz="America/Los_Angeles")
    assert "when they open on Monday at 5:00 am" in text
    sent = told(alert(), clinic(), page("sent", sent_at=AT_10_41_PM), FRIDAY_NIGHT, tz="UTC")
    assert sent.startswith("The on-call nurse was paged at 3:41 am.")


def test_it_tells_the_patient_to_call_when_nothing_reached_the_list():
    notice = who_knows(None, clinic(), None, FRIDAY_MORNING, tz_name=NEW_YORK)
    assert notice.kind == "not_told"
    assert notice.text == (
        "This was not sent to your care team's list. Please tell them yourself. Call 555-0142."
    )


@pytest.mark.parametrize(
    "case",
    [
        (alert("acknowledged", acknowledged_at=AT_10_45_PM), None, FRIDAY_NIGHT),
        (alert(), page("sent", sent_at=AT_10_41_PM), FRIDAY_NIGHT),
        (alert(), page("queued"), FRIDAY_NIGHT),
        (alert(), page("failed"), FRIDAY_NIGHT),
        (alert(), None, FRIDAY_MORNING),
        (None, None, FRIDAY_NIGHT),
    ],
)
def test_it_never_says_the_care_team_has_been_told(case):
    a, state, now = case
    text = told(a, clinic(), state, now).lower()
    assert "has been told" not in text and "have been told" not in text


def test_it_says_which_number_to_call_now():
    open_now = numbers_now(clinic(), FRIDAY_MORNING)
    assert (open_now.is_open, open_now.first, open_now.other) == (True, "555-0142", "555-0199")
    closed = numbers_now(clinic(), FRIDAY_NIGHT)
    assert (closed.after_hours, closed.first, closed.first_label) == (
        True,
        "555-0199",
        "after-hours number",
    )
    assert closed.other == "555-0142"
    no_after_hours = numbers_now(clinic(after_hours=None), FRIDAY_NIGHT)
    assert (no_after_hours.after_hours, no_after_hours.first) == (False, "555-0142")


def test_it_says_a_time_relative_to_the_patients_day():
    at = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday 8:00 am in New York
    assert when(at, NEW_YORK, datetime(2026, 11, 22, 20, 0, tzinfo=UTC)) == "tomorrow at 8:00 am"
    assert when(at, NEW_YORK, datetime(2026, 11, 24, 20, 0, tzinfo=UTC)) == "yesterday at 8:00 am"
    assert when(at, NEW_YORK, FRIDAY_MORNING) == "on Monday at 8:00 am"
    far = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    assert when(far, NEW_YORK, FRIDAY_MORNING) == "on Monday 30 November at 8:00 am"
