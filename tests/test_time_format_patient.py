"""A patient's times and days (tracker/web/time_format.py), and every place that writes one:
their pages, the reminder emails and text messages, the printed card and the notices about
who knows. One form everywhere: "9:05 am" and "Tuesday 1 December" (weekday, day, month),
shortened to "Tue 1 Dec" or "1 Dec" where room is short, never reordered. The care team's
side (the clinic's clock with its zone) is in tests/coordinator/test_time_format.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tracker.core.config import REPO_ROOT
from tracker.core.models import (
    Alert,
    Clinic,
    ContentApproval,
    OnCallContact,
    Page,
    Patient,
    Reminder,
    User,
)
from tracker.escalation.notices import when
from tracker.escalation.paging import compose_page
from tracker.patient.views import appointment_text
from tracker.plans.agenda import agenda_for_day
from tracker.plans.card import build_card, card_date, card_time, office_hours_text
from tracker.plans.content_review import ApprovalState, review_sheet, state_words
from tracker.plans.warning_signs import WarningSign
from tracker.reminders.messages import compose
from tracker.web.time_format import clock_time, long_day, short_day, wall_clock

NEW_YORK = "America/New_York"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the clock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "shown"),
    [
        (time(0, 0), "12:00 am"),  # midnight
        (time(0, 59), "12:59 am"),
        (time(1, 0), "1:00 am"),
        (time(8, 5), "8:05 am"),
        (time(11, 59), "11:59 am"),
        (time(12, 0), "12:00 pm"),  # noon
        (time(12, 1), "12:01 pm"),
        (time(13, 0), "1:00 pm"),
        (time(23, 59), "11:59 pm"),
    ],
)
def test_a_patients_clock_has_12_hours_with_am_and_pm(wall, shown):
    assert wall_clock(wall) == shown


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        # 05:00 UTC is midnight in New York in winter; a minute before is still the 5th.
        ("2026-12-06T04:59", "11:59 pm"),
        ("2026-12-06T05:00", "12:00 am"),
        ("2026-12-06T17:00", "12:00 pm"),
        ("2026-12-06T14:05", "9:05 am"),
        # Spring change (Sunday 8 March 2026): 1:59 am EST is followed by 3:00 am EDT.
        ("2026-03-08T06:59", "1:59 am"),
        ("2026-03-08T07:00", "3:00 am"),
        ("2026-03-08T16:00", "12:00 pm"),  # noon EDT, four hours behind UTC from now on
        # Autumn change (Sunday 1 November 2026): 1:30 am happens twice; a patient reads
        # their own wall clock, so both read 1:30 am.
        ("2026-11-01T05:30", "1:30 am"),
        ("2026-11-01T06:30", "1:30 am"),
        ("2026-11-01T17:00", "12:00 pm"),  # noon EST
    ],
)
def test_an_instant_reads_on_the_patients_own_wall_clock(instant, shown):
    assert clock_time(at(instant), NEW_YORK) == shown


def test_a_time_without_a_zone_is_refused_not_guessed():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_time(datetime(2026, 12, 6, 3, 41), NEW_YORK)


# --- the day --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "long", "short", "card"),
    [
        (date(2026, 12, 1), "Tuesday 1 December", "1 Dec", "Tue 1 Dec"),  # no leading zero
        (date(2026, 11, 9), "Monday 9 November", "9 Nov", "Mon 9 Nov"),
        (date(2026, 11, 21), "Saturday 21 November", "21 Nov", "Sat 21 Nov"),
        (date(2026, 3, 8), "Sunday 8 March", "8 Mar", "Sun 8 Mar"),  # a clock-change day
        (date(2027, 1, 31), "Sunday 31 January", "31 Jan", "Sun 31 Jan"),
    ],
)
def test_a_day_is_weekday_day_month_in_full_or_short(day, long, short, card):
    assert long_day(day) == long
    assert short_day(day) == short
    assert short_day(day, weekday=True) == card
    assert card_date(day) == card


def test_the_cards_office_hours_use_the_same_clock():
    assert [card_time(c) for c in ("00:00", "08:00", "12:00", "12:30", "17:30")] == [
        "12:00 am",
        "8:00 am",
        "12:00 pm",
        "12:30 pm",
        "5:30 pm",
    ]
    clinic = Clinic(
        name="C", phone="1", timezone=NEW_YORK, office_hours={"sat": ["09:00", "12:00"]}
    )
    assert office_hours_text(clinic) == "Sat 9:00 am\N{EN DASH}12:00 pm"


# --- "when", in the notices about who knows ---------------------------------------------------


def test_when_says_the_day_in_the_same_words():
    friday = at("2026-11-27T15:00")
    assert when(at("2026-11-27T20:05"), NEW_YORK, friday) == "at 3:05 pm"
    assert when(at("2026-12-07T13:00"), NEW_YORK, friday) == "on Monday 7 December at 8:00 am"
    # Midnight: 05:00 UTC is the next day in New York; 04:59 is still today.
    late = at("2026-11-21T04:30")  # 11:30 pm on Friday 20 November
    assert when(at("2026-11-21T04:59"), NEW_YORK, late) == "at 11:59 pm"
    assert when(at("2026-11-21T05:00"), NEW_YORK, late) == "tomorrow at 12:00 am"
    # Across the spring change: Saturday evening, the office opens Monday at 8 am EDT.
    saturday = at("2026-03-07T23:00")
    assert when(at("2026-03-09T12:00"), NEW_YORK, saturday) == "on Monday at 8:00 am"


# --- one form on every channel ----------------------------------------------------------------


def test_a_visit_reads_the_same_on_the_page_in_the_email_the_text_and_the_card(
    session, enroll_patient, clinic
):
    enrolled = enroll_patient()  # procedure on Friday 20 November 2026
    plan = enrolled.plan
    plan.overrides = {"followup_first": {"date": "2026-12-01"}}
    session.commit()
    visit = "Tuesday 1 December"

    # The patient's Today page (appointment_text) and the daily email's "Next visit".
    agenda = agenda_for_day(plan, date(2026, 11, 21))
    assert agenda.next_appointment is not None
    assert appointment_text(agenda.next_appointment) == visit
    link = "https://tracker.example/p/" + "A" * 43
    daily = compose(
        session,
        Reminder(kind="daily", local_day=date(2026, 11, 21), idempotency_key="d"),
        plan,
        enrolled.patient,
        clinic,
        link,
        missed=False,
    )
    assert f"First follow-up visit: {visit}" in daily.text
    assert f"Today, {long_day(date(2026, 11, 21))}, is day 1" in daily.text

    # The reminder the day before: subject, email text and HTML, and the text message.
    before = compose(
        session,
        Reminder(kind="appointment", local_day=date(2026, 11, 30), idempotency_key="a"),
        plan,
        enrolled.patient,
        clinic,
        link,
    )
    assert before.subject == f"Reminder: First follow-up visit tomorrow, {visit}"
    assert f"First follow-up visit is tomorrow, {visit}." in before.text
    assert f"First follow-up visit is tomorrow, {visit}." in before.html
    assert f"First follow-up visit is tomorrow, {visit}." in before.short_text

    # The printed card: the same order, shortened.
    signs = (WarningSign("chest_pain", "Do you have chest pain?", "call_911"),)
    card = build_card(plan, clinic, "Pat Example", signs, today=date(2026, 11, 21))
    assert [v.when for v in card.visits if v.title == "First follow-up visit"] == ["Tue 1 Dec"]


# --- the care team's side of the same helpers -----------------------------------------------


def test_a_page_to_the_on_call_nurse_says_when_on_the_clinics_clock():
    now = at("2026-11-21T15:05")
    clinic = Clinic(name="Test Spine Clinic", phone="555-0142", timezone=NEW_YORK)
    alert = Alert(
        rule="red_flag", urgency="critical", summary="Fever", raised_at=at("2026-11-21T03:41")
    )
    page = Page(step=1, round=0, channel="webhook", address="555-0100", idempotency_key="p-1")
    contact = OnCallContact(name="Dr Ada", channel="webhook", address="555-0100")
    message = compose_page(
        page, alert, Patient(name="Pat Example"), clinic, contact, "https://x/p/1", now=now
    )
    # 03:41 UTC on the 21st is the evening of the 20th in New York.
    assert "Raised Nov 20, 10:41 PM EST." in message.text
    assert "03:41" not in message.text and "UTC" not in message.text


def test_the_content_review_cli_shows_an_approval_on_its_clinics_clock_or_says_utc():
    sheet = review_sheet(REPO_ROOT / "schedules", "kyphoplasty")[0]
    approval = ContentApproval(
        clinic_id=7,
        template_id=sheet.content_id,
        version=sheet.version,
        content_digest=sheet.digest,
        approved_at=at("2026-12-06T03:41"),
        note=None,
    )
    approval.approved_by = User(name="Dr Example", email="dr@example.org")
    state = ApprovalState("approved", (approval,), (approval,))
    assert state_words(sheet, state, {7: NEW_YORK}).endswith(
        "approved by Dr Example <dr@example.org> on Dec 5, 2026, 10:41 PM EST"
    )
    # A clinic whose zone is not known: the time says it is UTC.
    assert state_words(sheet, state).endswith("on Dec 6, 2026, 3:41 AM UTC")
