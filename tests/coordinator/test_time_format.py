"""Times in the reader's terms (tracker/web/time_format.py): the care team reads the clinic's
clock with its zone, a patient their own wall clock; nobody reads UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tracker.web.time_format import (
    age_text,
    clinic_time,
    clock_time,
    clock_with_zone,
    day_range_text,
    day_text,
    long_day,
    short_day,
    wall_time_text,
    zone_abbreviation,
)

NEW_YORK = "America/New_York"
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_it_shows_an_instant_after_utc_midnight_on_the_clinics_day_before():
    # The example: 03:41 UTC on the 6th is the evening of the 5th in New York.
    assert clinic_time(at("2026-12-06T03:41"), NEW_YORK, now=NOW) == "Dec 5, 10:41 PM EST"
    assert clinic_time(at("2026-12-06T04:59"), NEW_YORK, now=NOW) == "Dec 5, 11:59 PM EST"
    assert clinic_time(at("2026-12-06T05:00"), NEW_YORK, now=NOW) == "Dec 6, 12:00 AM EST"


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        # Autumn: 1:30 AM happens twice; only the abbreviation tells them apart.
        ("2026-11-01T05:30", "Nov 1, 1:30 AM EDT"),
        ("2026-11-01T05:59", "Nov 1, 1:59 AM EDT"),
        ("2026-11-01T06:00", "Nov 1, 1:00 AM EST"),
        ("2026-11-01T06:30", "Nov 1, 1:30 AM EST"),
        # Spring: the clock jumps from 1:59 AM EST to 3:00 AM EDT.
        ("2026-03-08T06:59", "Mar 8, 1:59 AM EST"),
        ("2026-03-08T07:00", "Mar 8, 3:00 AM EDT"),
    ],
)
def test_it_names_the_zone_on_both_sides_of_a_daylight_saving_change(instant, shown):
    assert clinic_time(at(instant), NEW_YORK, now=NOW) == shown


def test_it_writes_the_year_only_outside_the_readers_year():
    new_year = datetime(2027, 1, 1, 5, 30, tzinfo=UTC)  # 12:30 AM on Jan 1 in New York
    assert clinic_time(at("2026-12-31T23:00"), NEW_YORK, now=new_year) == (
        "Dec 31, 2026, 6:00 PM EST"
    )
    # 04:00 UTC on Jan 1 is still Dec 31 in New York: the reader's year there is 2026.
    still_2026 = datetime(2027, 1, 1, 4, 0, tzinfo=UTC)
    assert clinic_time(at("2026-12-31T23:00"), NEW_YORK, now=still_2026) == "Dec 31, 6:00 PM EST"
    assert clinic_time(at("2026-12-31T23:00"), NEW_YORK) == "Dec 31, 2026, 6:00 PM EST"
    assert day_text(date(2026, 12, 5), today=date(2026, 12, 6)) == "Dec 5"
    assert day_text(date(2025, 12, 5), today=date(2026, 12, 6)) == "Dec 5, 2025"


@pytest.mark.parametrize(
    ("tz_name", "abbreviation"),
    [
        ("America/Chicago", "CST"),
        ("Asia/Tokyo", "JST"),
        ("Europe/London", "GMT"),
        ("Australia/Sydney", "AEDT"),
        ("UTC", "UTC"),
        # Zones with no letters in the database get their offset.
        ("Asia/Dubai", "UTC+4"),
        ("America/Sao_Paulo", "UTC-3"),
        ("Asia/Kathmandu", "UTC+5:45"),
    ],
)
def test_every_zone_has_a_readable_abbreviation(tz_name, abbreviation):
    assert zone_abbreviation(at("2026-12-06T03:41"), tz_name) == abbreviation


def test_noon_and_midnight_read_as_people_say_them():
    assert wall_time_text(time(0, 5)) == "12:05 AM"
    assert wall_time_text(time(9, 0)) == "9:00 AM"
    assert wall_time_text(time(12, 30)) == "12:30 PM"
    assert wall_time_text(time(23, 59)) == "11:59 PM"
    assert clock_with_zone(at("2026-12-06T03:41"), "America/Chicago") == "9:41 PM CST"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-30, "just now"),  # another machine's clock a little ahead
        (0, "just now"),
        (59, "just now"),
        (60, "1 min ago"),
        (59 * 60 + 59, "59 min ago"),
        (3600, "1 h ago"),
        (47 * 3600 + 3599, "47 h ago"),
        (48 * 3600, "2 days ago"),
    ],
)
def test_an_age_is_said_in_its_largest_whole_unit(seconds, text):
    assert age_text(NOW - timedelta(seconds=seconds), NOW) == text


def test_the_patients_words_stay_plain():
    assert clock_time(at("2026-12-06T03:41"), NEW_YORK) == "10:41 pm"
    assert clock_time(at("2026-12-06T17:05"), NEW_YORK) == "12:05 pm"
    assert long_day(date(2026, 11, 21)) == "Saturday 21 November"
    assert short_day(date(2026, 11, 21)) == "21 Nov"


def test_a_time_without_a_zone_is_refused_not_guessed():
    naive = datetime(2026, 12, 6, 3, 41)
    with pytest.raises(ValueError, match="timezone-aware"):
        clinic_time(naive, NEW_YORK, now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        age_text(naive, NOW)


def test_a_span_of_days_says_the_month_once_and_the_year_only_when_needed():
    today = date(2026, 11, 21)
    assert day_range_text(date(2026, 11, 19), date(2026, 11, 23), today=today) == "Nov 19\u201323"
    assert day_range_text(date(2026, 11, 28), date(2026, 12, 2), today=today) == (
        "Nov 28\u2013Dec 2"
    )
    assert day_range_text(date(2026, 12, 30), date(2027, 1, 3), today=today) == (
        "Dec 30, 2026\u2013Jan 3, 2027"
    )
    assert day_range_text(date(2026, 11, 19), date(2026, 11, 19), today=today) == "Nov 19"
