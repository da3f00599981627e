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

DEFAULT_REMINDER_TIME = time(9, 0)
# How far from today a procedure date may be: a plan is for a recent or booked procedure.
MAX_DAYS_AGO = 365
MAX_DAYS_AHEAD = 180
_LEVEL = re.compile(r"^(C[1-7]|T([1-9]|1[0-2])|L[1-5]|S1)$")
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{7,25}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class EnrollmentError(ValueError):
    """Bad enrolment input; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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
    """Check raw text input; raise EnrollmentError naming the first bad field."""
    name = _optional(name)
    if not name:
        raise EnrollmentError("name", "is required")
    longest = input_rules.column_length(Patient.name)
    if len(name) > longest or has_control_characters(name):
        raise EnrollmentError("name", f"must be at most {longest} printable characters")

    procedure = _optional(procedure)
    known = sorted({p for t in templates.values() for p in t.procedures})
    if procedure not in known:
        raise EnrollmentError("procedure", f"must be one of {', '.join(known)}")

    tz_name = _optional(timezone)
    try:
        zone(tz_name or "")
    except BadTimezone as exc:
        raise EnrollmentError("timezone", str(exc)) from None

    try:
        when = date.fromisoformat(_optional(procedure_date) or "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", procedure_date.strip()):
            raise ValueError
    except (ValueError, AttributeError):
        raise EnrollmentError(
            "procedure_date", f"{procedure_date!r} is not a real date in YYYY-MM-DD form"
        ) from None
    today = local_day(now, tz_name)
    if not today - timedelta(days=MAX_DAYS_AGO) <= when <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise EnrollmentError(
            "procedure_date",
            f"must be within {MAX_DAYS_AGO} days before and {MAX_DAYS_AHEAD} days after today",
        )

    reminder_text = _optional(reminder_time)
    if reminder_text is None:
        at = DEFAULT_REMINDER_TIME
    else:
        match = _TIME.fullmatch(reminder_text)
        if not match:
            raise EnrollmentError("reminder_time", f"{reminder_text!r} is not a time in HH:MM form")
        at = time(int(match.group(1)), int(match.group(2)))

    email = check_email(email)
    phone = check_phone(phone)

    level_text = _optional(levels)
    if level_text is not None:
        parts = [p.strip().upper() for p in level_text.split(",") if p.strip()]
        bad = [p for p in parts if not _LEVEL.fullmatch(p)]
        if bad or not parts:
            raise EnrollmentError(
                "levels", f"{(bad or [level_text])[0]!r} is not a spinal level such as T12 or L1"
            )
        level_text = ",".join(dict.fromkeys(parts))
        if len(level_text) > 100:
            raise EnrollmentError("levels", "lists too many levels")

    return EnrollmentRequest(
        name=name,
        procedure=procedure,
        procedure_date=when,
        timezone=tz_name,
        reminder_time=at,
        email=email,
        phone=phone,
        levels=level_text,
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
