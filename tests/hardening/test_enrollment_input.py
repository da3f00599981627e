"""Property-based: enrolment validation accepts only valid details, and names what is wrong.

``validate_request`` serves the CLI and the coordinator's form, so whatever text reaches it
must come back either as clean, valid values or as an ``EnrollmentError`` naming the field
with a message -- never another exception (which a page would show as a 500).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.config import REPO_ROOT
from tracker.core.timeutil import common_timezones, local_day
from tracker.plans.enrollment import (
    MAX_DAYS_AGO,
    MAX_DAYS_AHEAD,
    EnrollmentError,
    EnrollmentRequest,
    has_control_characters,
    validate_request,
)
from tracker.plans.templates import load_directory

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
TEMPLATES = load_directory(str(REPO_ROOT / "schedules"))
PROCEDURES = sorted({p for t in TEMPLATES.values() for p in t.procedures})
FIELDS = {
    "name",
    "procedure",
    "procedure_date",
    "timezone",
    "reminder_time",
    "email",
    "phone",
    "levels",
}
LEVELS = {f"C{n}" for n in range(1, 8)} | {f"T{n}" for n in range(1, 13)}
LEVELS |= {f"L{n}" for n in range(1, 6)} | {"S1"}

anything = st.text(max_size=300)
maybe = st.none() | anything
names = st.one_of(st.text(min_size=1, max_size=40), anything, st.none())
procedures = st.one_of(st.sampled_from(PROCEDURES), maybe)
dates = st.one_of(
    st.dates(date(2024, 1, 1), date(2028, 12, 31)).map(date.isoformat),
    st.dates().map(date.isoformat),
    st.from_regex(r"\d{1,5}-\d{1,3}-\d{1,3}", fullmatch=True),
    maybe,
)
zones = st.one_of(st.sampled_from(common_timezones()), st.just("UTC"), maybe)
times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.from_regex(r"\d{1,3}:\d{1,3}(:\d\d)?", fullmatch=True),
    maybe,
)
emails = st.one_of(st.emails().filter(lambda e: len(e) <= 254), maybe)
phones = st.one_of(st.from_regex(r"\+?[0-9 ()\-.]{7,25}", fullmatch=True), maybe)
levels = st.one_of(
    st.lists(st.sampled_from(sorted(LEVELS)), min_size=1, max_size=4).map(", ".join),
    maybe,
)


def _assert_valid(result: EnrollmentRequest, raw_name: str) -> None:
    assert result.name == raw_name.strip()
    assert 0 < len(result.name) <= 200 and not has_control_characters(result.name)
    assert result.procedure in PROCEDURES
    ZoneInfo(result.timezone)  # a real IANA zone
    today = local_day(NOW, result.timezone)
    assert (
        today - timedelta(days=MAX_DAYS_AGO)
        <= result.procedure_date
        <= today + timedelta(days=MAX_DAYS_AHEAD)
    )
    assert isinstance(result.reminder_time, time)
    if result.email is not None:
        assert len(result.email) <= 254 and "@" in result.email
        assert not has_control_characters(result.email)
    if result.phone is not None:
        assert re.fullmatch(r"\+?[0-9 ()\-.]{7,25}", result.phone)
    if result.levels is not None:
        assert set(result.levels.split(",")) <= LEVELS


@settings(max_examples=300, deadline=None)
@given(
    name=names,
    procedure=procedures,
    procedure_date=dates,
    timezone=zones,
    reminder_time=times,
    email=emails,
    phone=phones,
    levels=levels,
)
def test_it_returns_valid_details_or_names_the_bad_field(
    name, procedure, procedure_date, timezone, reminder_time, email, phone, levels
):
    try:
        result = validate_request(
            name=name,
            procedure=procedure,
            procedure_date=procedure_date,
            timezone=timezone,
            reminder_time=reminder_time,
            email=email,
            phone=phone,
            levels=levels,
            templates=TEMPLATES,
            now=NOW,
        )
    except EnrollmentError as refused:
        assert refused.field in FIELDS
        assert refused.message.strip()
        return
    _assert_valid(result, name)


def test_the_property_reaches_valid_requests():
    """The strategies above can produce a valid request, so both outcomes are exercised."""
    result = validate_request(
        name="Ada Lovelace",
        procedure=PROCEDURES[0],
        procedure_date="2026-11-20",
        timezone="Europe/London",
        reminder_time="08:30",
        email="ada@example.org",
        phone="+44 20 7946 0000",
        levels="t12, L1",
        templates=TEMPLATES,
        now=NOW,
    )
    _assert_valid(result, "Ada Lovelace")
    assert result.levels == "T12,L1"


def test_control_characters_are_refused_in_names_and_emails():
    for field, value in (("name", "Ada\x00"), ("name", "A\x85da"), ("email", "a\x00@b.org")):
        values = {"name": "Ada", "email": None} | {field: value}
        try:
            validate_request(
                procedure=PROCEDURES[0],
                procedure_date="2026-11-20",
                timezone="UTC",
                templates=TEMPLATES,
                now=NOW,
                **values,
            )
        except EnrollmentError as refused:
            assert refused.field == field
        else:
            raise AssertionError(f"{field}={value!r} was accepted")
