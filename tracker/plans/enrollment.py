"""Enrolment: validate a patient's details and instantiate their recovery plan.

The same validation serves the CLI and the coordinator's form, so both refuse the same
input with the same messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from tracker.core.models import CarePlan, Clinic, Patient
from tracker.core.timeutil import BadTimezone, local_day, zone
from tracker.plans.links import issue_link
from tracker.plans.templates import PlanTemplate, template_for_procedure
from tracker.web import input_rules
from tracker.web.time_format import day_text

DEFAULT_REMINDER_TIME = time(9, 0)
# How far from today a procedure date may be: a plan is for a recent or booked procedure.
MAX_DAYS_AGO = 365
MAX_DAYS_AHEAD = 180
_LEVEL = re.compile(r"^(C[1-7]|T([1-9]|1[0-2])|L[1-5]|S1)$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{7,25}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class EnrollmentError(ValueError):
    """Bad enrolment input. ``errors`` holds every bad field's message, in the form's order;
    ``field`` and ``message`` are the first of them (what a one-line caller shows)."""

    def __init__(self, field: str, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.errors = dict(errors) if errors else {field: message}


@dataclass(frozen=True)
class EnrollmentRequest:
    """Validated enrolment details."""

    name: str
    procedure: str
    procedure_date: date
    timezone: str
    reminder_time: time
    email: str | None
    phone: str | None
    levels: str | None


@dataclass(frozen=True)
class Enrollment:
    patient: Patient
    plan: CarePlan
    link_token: str


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def has_control_characters(value: str) -> bool:
    """C0/C1 control characters (NUL included, which PostgreSQL text cannot hold) and line
    separators: the one rule of tracker/web/input_rules.py."""
    return input_rules.has_control_characters(value)


def check_email(value: str | None) -> str | None:
    email = _optional(value)
    if email is not None and (
        len(email) > 254 or not _EMAIL.fullmatch(email) or has_control_characters(email)
    ):
        raise EnrollmentError("email", f"{email!r} is not an email address")
    return email


def check_phone(value: str | None) -> str | None:
    phone = _optional(value)
    if phone is not None and not _PHONE.fullmatch(phone):
        raise EnrollmentError("phone", f"{phone!r} is not a phone number")
    return phone


# The order of the fields on the form (and of the messages, for the CLI).
FIELD_ORDER = (
    "name",
    "procedure",
    "procedure_date",
    "levels",
    "timezone",
    "reminder_time",
    "email",
    "phone",
)


def written_date(day: date) -> str:
    """A date for the form and the CLI alike, as the care team reads dates: "Nov 21, 2025"."""
    return day_text(day)


def date_range(now: datetime, tz_name: str | None) -> tuple[date, date]:
    """The first and last procedure date accepted at ``now`` in the patient's zone (UTC
    when the zone is not a valid one, so a range can still be shown)."""
    try:
        today = local_day(now, tz_name or "")
    except BadTimezone:
        today = local_day(now, "UTC")
    return today - timedelta(days=MAX_DAYS_AGO), today + timedelta(days=MAX_DAYS_AHEAD)


def _quoted(text: str) -> str:
    """What was typed, in quotes; escaped when it holds control characters (the CLI prints
    it to a terminal)."""
    text = text[:80]
    return repr(text) if has_control_characters(text) else f'"{text}"'


def _check_name(raw: str | None) -> str:
    name = _optional(raw)
    if not name:
        raise EnrollmentError("name", "Enter the patient's full name.")
    longest = input_rules.column_length(Patient.name)
    if len(name) > longest:
        raise EnrollmentError("name", f"Shorten the name to {longest} characters or fewer.")
    if has_control_characters(name):
        raise EnrollmentError(
            "name", "Type the name again: it has a hidden character such as a tab or line break."
        )
    return name


def _check_procedure(raw: str | None, templates: dict[str, PlanTemplate]) -> str:
    procedure = _optional(raw)
    known = sorted({p for t in templates.values() for p in t.procedures})
    if procedure not in known:
        raise EnrollmentError("procedure", f"Choose the procedure: {' or '.join(known)}.")
    return procedure


def _check_timezone(raw: str | None) -> str:
    tz_name = _optional(raw)
    if not tz_name:
        raise EnrollmentError("timezone", "Choose the patient's time zone.")
    try:
        zone(tz_name)
    except BadTimezone:
        raise EnrollmentError(
            "timezone",
            f"{_quoted(tz_name)} is not a time zone we know. Choose one such as America/Chicago.",
        ) from None
    return tz_name


def _check_date(raw: str | None, now: datetime, tz_name: str | None) -> date:
    text = _optional(raw)
    first, last = date_range(now, tz_name)
    between = f"between {written_date(first)} and {written_date(last)}"
    if text is None:
        raise EnrollmentError("procedure_date", f"Enter the date of the procedure, {between}.")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        when = date.fromisoformat(text)
    except ValueError:
        raise EnrollmentError(
            "procedure_date",
            f"{_quoted(text)} is not a real date. Enter it as year-month-day, like "
            f"{(first + timedelta(days=MAX_DAYS_AGO)).isoformat()}.",
        ) from None
    if not first <= when <= last:
        raise EnrollmentError(
            "procedure_date",
            f"Enter a procedure date {between} (up to {MAX_DAYS_AGO} days ago or "
            f"{MAX_DAYS_AHEAD} days ahead).",
        )
    return when


def _check_reminder_time(raw: str | None) -> time:
    text = _optional(raw)
    if text is None:
        return DEFAULT_REMINDER_TIME
    match = _TIME.fullmatch(text)
    if not match:
        raise EnrollmentError(
            "reminder_time",
            f"{_quoted(text)} is not a time of day. Enter hours and minutes on a 24-hour "
            "clock, like 09:00 or 18:30.",
        )
    return time(int(match.group(1)), int(match.group(2)))


def _check_levels(raw: str | None) -> str | None:
    text = _optional(raw)
    if text is None:
        return None
    parts = [p.strip().upper() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if not _LEVEL.fullmatch(p)]
    if bad or not parts:
        raise EnrollmentError(
            "levels",
            f"{_quoted((bad or [text])[0])} is not a spinal level. Enter levels like T12, or "
            "L1, L2 for more than one.",
        )
    levels = ",".join(dict.fromkeys(parts))
    if len(levels) > 100:
        raise EnrollmentError("levels", "That is too many levels: list each level once.")
    return levels


def _check_contact_email(raw: str | None) -> str | None:
    try:
        return check_email(raw)
    except EnrollmentError:
        raise EnrollmentError(
            "email", "Enter an email address like jo@example.org, or leave it empty."
        ) from None


def _check_contact_phone(raw: str | None) -> str | None:
    try:
        return check_phone(raw)
    except EnrollmentError:
        raise EnrollmentError(
            "phone", "Enter a phone number like +1 555 201 0142, or leave it empty."
        ) from None


def validate_request(
    *,
    name: str | None,
    procedure: str | None,
    procedure_date: str | None,
    timezone: str | None,
    reminder_time: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    levels: str | None = None,
    templates: dict[str, PlanTemplate],
    now: datetime,
) -> EnrollmentRequest:
    """Check raw text input; raise one EnrollmentError listing every bad field at once
    (``errors``, in FIELD_ORDER), in plain words that suit the form and the CLI alike."""
    checks = {
        "name": lambda: _check_name(name),
        "procedure": lambda: _check_procedure(procedure, templates),
        "procedure_date": lambda: _check_date(procedure_date, now, timezone),
        "levels": lambda: _check_levels(levels),
        "timezone": lambda: _check_timezone(timezone),
        "reminder_time": lambda: _check_reminder_time(reminder_time),
        "email": lambda: _check_contact_email(email),
        "phone": lambda: _check_contact_phone(phone),
    }
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field in FIELD_ORDER:
        try:
            clean[field] = checks[field]()
        except EnrollmentError as exc:
            errors[exc.field] = exc.message
    if errors:
        first = next(iter(errors))
        raise EnrollmentError(first, errors[first], errors)
    return EnrollmentRequest(
        name=clean["name"],  # type: ignore[arg-type]
        procedure=clean["procedure"],  # type: ignore[arg-type]
        procedure_date=clean["procedure_date"],  # type: ignore[arg-type]
        timezone=clean["timezone"],  # type: ignore[arg-type]
        reminder_time=clean["reminder_time"],  # type: ignore[arg-type]
        email=clean["email"],  # type: ignore[arg-type]
        phone=clean["phone"],  # type: ignore[arg-type]
        levels=clean["levels"],  # type: ignore[arg-type]
    )


def instantiate_plan(
    template: PlanTemplate, patient: Patient, request: EnrollmentRequest, *, now: datetime
) -> CarePlan:
    """A new plan for ``patient`` holding its own copy of the template's activities."""
    return CarePlan(
        patient=patient,
        clinic_id=patient.clinic_id,
        template_id=template.id,
        template_version=template.version,
        title=template.title,
        procedure=request.procedure,
        procedure_date=request.procedure_date,
        levels=request.levels,
        timezone=request.timezone,
        reminder_time=request.reminder_time,
        duration_days=template.duration_days,
        activities=[a.to_dict() for a in template.activities],
        overrides={},
        status="active",
        created_at=now,
    )


def enroll(
    session: Session,
    clinic: Clinic,
    request: EnrollmentRequest,
    *,
    templates: dict[str, PlanTemplate],
    now: datetime,
    grace_days: int,
) -> Enrollment:
    """Create the patient, their plan and a personal link. The caller commits."""
    template = template_for_procedure(templates, request.procedure)
    patient = Patient(
        clinic_id=clinic.id,
        name=request.name,
        email=request.email,
        phone=request.phone,
        created_at=now,
    )
    session.add(patient)
    plan = instantiate_plan(template, patient, request, now=now)
    session.add(plan)
    session.flush()
    raw = issue_link(session, patient, plan, now=now, grace_days=grace_days)
    return Enrollment(patient=patient, plan=plan, link_token=raw)
