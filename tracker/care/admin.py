"""Clinic admin pages: coordinator accounts, the clinic's phone numbers and alert thresholds,
and the audit log. Admins only, and only for their own clinic."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import false, func, or_, select

from tracker.alerts.rules import mark_clinic_due
from tracker.care import audit_words
from tracker.care import content as content_views
from tracker.care.auth import account, admin_required, record
from tracker.care.passwords import MIN_LENGTH, hash_password
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.models import (
    PAGE_CHANNELS,
    ROLES,
    WEEKDAYS,
    Alert,
    AuditEvent,
    Caregiver,
    Clinic,
    OnCallContact,
    Patient,
    User,
)
from tracker.core.timeutil import start_of_local_day_utc
from tracker.core.whole_numbers import parse_whole_number
from tracker.escalation.office_hours import DAY_NAMES, OfficeHoursError, validate_office_hours
from tracker.plans.enrollment import (
    EnrollmentError,
    check_email,
    check_phone,
    has_control_characters,
)
from tracker.plans.severe_pain import guidance_path, load_guidance
from tracker.web import rate_limits

bp = Blueprint("admin", __name__, url_prefix="/coordinator/admin")
AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Threshold:
    name: str
    label: str
    kind: type
    low: float
    high: float


# Ranges keep a mistyped value from silencing a rule or flooding the triage list.
THRESHOLDS = (
    Threshold("severe_pain_threshold", "Severe pain: a score of at least", int, 1, 10),
    Threshold("worsening_points", "Worsening: 3-day mean up by at least (points)", float, 0.5, 10),
    Threshold("worsening_percent", "Worsening: or up by at least (percent)", int, 5, 200),
    Threshold("not_improving_mean", "Not improving: 3-day mean still at least", float, 0.5, 10),
    Threshold("not_improving_day", "Not improving: checked from day", int, 1, 60),
    Threshold("missed_checkin_days", "No check-in: local days in a row", int, 1, 14),
)


# The no-driving-on-opioids rule ends after this many days in a row of "no" to the daily
# opioid check-in (opioid_rules.py).
OPIOID_FREE_DAYS = Threshold(
    "opioid_free_days_before_driving",
    "Days in a row the patient says no to opioid pain medicine before driving is allowed",
    int,
    1,
    14,
)


def _clinic() -> Clinic:
    clinic = get_session().get(Clinic, account().clinic_id)
    if clinic is None:
        abort(404)
    return clinic


def _number(threshold: Threshold, raw: str | None) -> float | int:
    text = (raw or "").strip()
    try:
        if len(text) > 10:
            raise ValueError
        value = threshold.kind(text)
    except ValueError:
        kind = "a whole number" if threshold.kind is int else "a number"
        raise EnrollmentError(threshold.name, f"Enter {kind}.") from None
    if value != value or not threshold.low <= value <= threshold.high:  # NaN fails too
        raise EnrollmentError(
            threshold.name, f"Enter a value from {threshold.low:g} to {threshold.high:g}."
        )
    return value


# --- accounts -------------------------------------------------------------------------------


def _users_page(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    users = (
        get_session()
        .scalars(
            select(User).where(User.clinic_id == account().clinic_id).order_by(User.name, User.id)
        )
        .all()
    )
    return (
        render_template(
            "coordinator/admin_users.html",
            users=users,
            form=form,
            errors=errors,
            roles=ROLES,
            min_length=MIN_LENGTH,
        ),
        status,
    )


# Emails are unique across clinics (sign-in is by email alone), so an address taken by
# another clinic's staff cannot be used here either. The answer is the same whichever clinic
# holds it and does not say that an account exists; each refusal is audited and counted, and
# past ACCOUNT_EMAIL_REFUSALS_LIMIT_PER_ADMIN no address is looked up at all, so an admin
# cannot list another clinic's staff by trying addresses (docs/security.md).
EMAIL_UNAVAILABLE = (
    "This email address cannot be used for a new account. If the person already has an "
    "account here, it is in the list below; otherwise check the address with them."
)
EMAIL_PAUSED = (
    "Too many email addresses that could not be used. Please try again in an hour, "
    "or ask your support contact."
)


def _email_refused(db: Any, email: str) -> str | None:
    """Why ``email`` may not be used, or None; refusals are counted per admin and audited."""
    counter = rate_limits.attempts(current_app)
    key = rate_limits.hashed("admin-email-refusals", str(account().user.id))
    setting = "ACCOUNT_EMAIL_REFUSALS_LIMIT_PER_ADMIN"
    if counter.over(setting, key):
        return EMAIL_PAUSED  # nothing looked up
    if db.scalar(select(User.id).where(func.lower(User.email) == email)) is None:
        return None
    counter.take(setting, key)
    record("user.create_refused", email=email, reason="email_unavailable")
    db.commit()
    return EMAIL_UNAVAILABLE


@bp.get("/users")
@admin_required
def users() -> Any:
    return _users_page({"role": "coordinator"}, {})


@bp.post("/users")
@admin_required
def create_user() -> Any:
    form = {k: (request.form.get(k) or "").strip()[:300] for k in ("name", "email", "role")}
    password = request.form.get("password") or ""
    errors: dict[str, str] = {}
    if not form["name"] or len(form["name"]) > 200:
        errors["name"] = "Enter a name of at most 200 characters."
    try:
        email = (check_email(form["email"].lower()) or "").lower()
        if not email:
            errors["email"] = "Enter an email address."
    except EnrollmentError as exc:
        email = ""
        errors["email"] = exc.message
    if form["role"] not in ROLES:
        errors["role"] = "Choose a role from the list."
    if not MIN_LENGTH <= len(password) <= 1024:
        errors["password"] = f"Use at least {MIN_LENGTH} characters."
    db = get_session()
    refused = _email_refused(db, email) if email and not errors else None
    if refused is not None:
        errors["email"] = refused
        return _users_page(form, errors, 429 if refused == EMAIL_PAUSED else 400)
    if errors:
        return _users_page(form, errors, 400)
    now = request_now()
    user = User(
        clinic_id=account().clinic_id,
        email=email,
        name=form["name"],
        password_hash=hash_password(password),
        role=form["role"],
        created_at=now,
    )
    db.add(user)
    db.flush()
    record("user.create", user_id=user.id, email=email, role=user.role)
    db.commit()
    flash(f"Account created for {user.name} ({user.email}).", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_user_active(user_id: int) -> Any:
    db = get_session()
    user = db.get(User, user_id)
    if user is None or user.clinic_id != account().clinic_id:
        abort(404)
    active = request.form.get("active") == "1"
    if user.id == account().user.id and not active:
        return _users_page(
            {"role": "coordinator"}, {"account": "You cannot disable yourself."}, 400
        )
    user.is_active = active
    user.session_version += 1  # signs the account out everywhere
    record("user.activate" if active else "user.deactivate", user_id=user.id)
    db.commit()
    flash(f"{user.name} is now {'active' if active else 'disabled'}.", "info")
    return redirect(url_for("admin.users"))


# --- clinic settings ------------------------------------------------------------------------


def _clinic_form(clinic: Clinic) -> dict[str, str]:
    values = {"phone": clinic.phone, "after_hours_phone": clinic.after_hours_phone or ""}
    for t in (*THRESHOLDS, OPIOID_FREE_DAYS):
        values[t.name] = f"{getattr(clinic, t.name):g}"
    return values


@bp.route("/clinic", methods=["GET", "POST"])
@admin_required
def clinic_settings() -> Any:
    clinic = _clinic()
    errors: dict[str, str] = {}
    values = _clinic_form(clinic)
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip()[:60] for k in values}
        changes: dict[str, Any] = {}
        try:
            phone = check_phone(values["phone"])
            if not phone:
                raise EnrollmentError("phone", "Enter the care team phone number.")
        except EnrollmentError as exc:
            errors["phone"] = exc.message
        else:
            changes["phone"] = phone
        try:
            changes["after_hours_phone"] = check_phone(values["after_hours_phone"])
        except EnrollmentError as exc:
            errors["after_hours_phone"] = exc.message
        for t in (*THRESHOLDS, OPIOID_FREE_DAYS):
            try:
                changes[t.name] = _number(t, values[t.name])
            except EnrollmentError as exc:
                errors[t.name] = exc.message
        if not errors:
            changed = {
                k: {"from": getattr(clinic, k), "to": v}
                for k, v in changes.items()
                if getattr(clinic, k) != v
            }
            for key, value in changes.items():
                setattr(clinic, key, value)
            if changed:
                record("clinic.update", changes=changed)
            if any(t.name in changed for t in THRESHOLDS):
                # New thresholds apply to every active plan at the scheduler's next tick.
                mark_clinic_due(get_session(), clinic.id, request_now())
            get_session().commit()
            flash("Clinic settings saved." if changed else "Nothing changed.", "info")
            return redirect(url_for("admin.clinic_settings"))
    return (
        render_template(
            "coordinator/admin_clinic.html",
            clinic=clinic,
            values=values,
            errors=errors,
            thresholds=THRESHOLDS,
            opioid_free_days=OPIOID_FREE_DAYS,
        ),
        400 if errors else 200,
    )


# --- escalation: office hours, paging, severe-pain guidance, the on-call list ----------------
# SPEC section 6: out of office hours patients are shown the after-hours number and urgent
# alerts page the on-call contacts in order, the next one after the clinic's delay.

ESCALATION_DELAY = Threshold(
    "escalation_delay_minutes", "Page the next contact after (minutes)", int, 1, 240
)
GUIDANCE_MAX_LENGTH = 2000
SOURCE_MAX_LENGTH = 300
CONTACT_NAME_MAX_LENGTH = 200
CHANNEL_LABELS = {
    "email": "Email",
    "webhook": "Text message (through the clinic's SMS gateway)",
    "log": "Log only (for testing: nobody is reached)",
}
assert set(CHANNEL_LABELS) == set(PAGE_CHANNELS)
# E.164 (a "+", then 8 to 15 digits) or a US number of 10 digits (with or without the
# leading 1), after dropping spaces, dots, dashes and brackets. Stored as E.164.
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_US = re.compile(r"^1?([2-9][0-9]{2}[2-9][0-9]{6})$")
_PHONE_SEPARATORS = re.compile(r"[ ().\-]")


def check_sms_number(raw: str) -> str:
    """A number an SMS gateway can text, as E.164; EnrollmentError otherwise."""
    digits = _PHONE_SEPARATORS.sub("", raw)
    if _E164.fullmatch(digits):
        return digits
    us = _US.fullmatch(digits)
    if us and not raw.startswith("+"):
        return "+1" + us.group(1)
    raise EnrollmentError(
        "address",
        "Enter a mobile number that can get text messages, like +1 555 201 0142 or (555) 201-0142.",
    )


def _plain_text(field: str, raw: str, limit: int, what: str) -> str:
    if len(raw) > limit or has_control_characters(raw):
        raise EnrollmentError(field, f"Enter {what} of at most {limit} characters.")
    return raw


def _hours_values(clinic: Clinic) -> dict[str, str]:
    values = {}
    hours = clinic.office_hours or {}
    for day in WEEKDAYS:
        opens, closes = hours.get(day) or ("", "")
        values[f"{day}_open"], values[f"{day}_close"] = opens, closes
    return values


def _escalation_values(clinic: Clinic) -> dict[str, str]:
    return {
        **_hours_values(clinic),
        "escalation_delay_minutes": str(clinic.escalation_delay_minutes),
        "page_high_alerts": "1" if clinic.page_high_alerts else "",
        "severe_pain_guidance": clinic.severe_pain_guidance or "",
        "severe_pain_guidance_source": clinic.severe_pain_guidance_source or "",
    }


def _read_escalation_form() -> dict[str, str]:
    values = {}
    for day in WEEKDAYS:
        for end in ("open", "close"):
            values[f"{day}_{end}"] = (request.form.get(f"{day}_{end}") or "").strip()[:20]
    values["escalation_delay_minutes"] = (
        request.form.get("escalation_delay_minutes") or ""
    ).strip()[:20]
    values["page_high_alerts"] = "1" if request.form.get("page_high_alerts") == "1" else ""
    # Longer than allowed is kept (cut a little past the limit) so the error can say so.
    values["severe_pain_guidance"] = (request.form.get("severe_pain_guidance") or "").strip()[
        : GUIDANCE_MAX_LENGTH + 1
    ]
    values["severe_pain_guidance_source"] = (
        request.form.get("severe_pain_guidance_source") or ""
    ).strip()[: SOURCE_MAX_LENGTH + 1]
    return values


def _escalation_changes(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The clinic's new escalation settings from the form's ``values``; errors by field."""
    changes: dict[str, Any] = {}
    raw_hours: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        pair = [values[f"{day}_open"], values[f"{day}_close"]]
        if all(pair):
            raw_hours[day] = pair
        elif any(pair):
            raw_hours[day] = [time for time in pair if time]  # one time alone: refused
    try:
        changes["office_hours"] = validate_office_hours(raw_hours)
    except OfficeHoursError as exc:
        for day, message in exc.errors.items():
            errors[f"hours_{day}"] = (
                f"{DAY_NAMES.get(day, day)}: {message[0].upper()}{message[1:]}."
            )
    try:
        changes["escalation_delay_minutes"] = _number(
            ESCALATION_DELAY, values["escalation_delay_minutes"]
        )
    except EnrollmentError as exc:
        errors[ESCALATION_DELAY.name] = exc.message
    changes["page_high_alerts"] = values["page_high_alerts"] == "1"
    # One step a line (severe_pain.for_clinic); other control characters are refused.
    guidance = "\n".join(
        line.strip() for line in values["severe_pain_guidance"].splitlines() if line.strip()
    )
    source = values["severe_pain_guidance_source"]
    if len(guidance) > GUIDANCE_MAX_LENGTH or has_control_characters(guidance.replace("\n", "")):
        errors["severe_pain_guidance"] = (
            f"Enter a text of at most {GUIDANCE_MAX_LENGTH} characters, one step a line."
        )
    if len(source) > SOURCE_MAX_LENGTH or has_control_characters(source):
        errors["severe_pain_guidance_source"] = (
            f"Enter a source of at most {SOURCE_MAX_LENGTH} characters."
        )
    elif guidance and not source:
        errors["severe_pain_guidance_source"] = (
            "Say where your text comes from, for example the doctor who approved it."
        )
    # Blank text: the default from schedules/checks/severe_pain.yaml, with its own source.
    changes["severe_pain_guidance"] = guidance or None
    changes["severe_pain_guidance_source"] = source if guidance else None
    return changes


def _contacts(clinic_id: int) -> list[OnCallContact]:
    return list(
        get_session().scalars(
            select(OnCallContact)
            .where(OnCallContact.clinic_id == clinic_id)
            .order_by(OnCallContact.active.desc(), OnCallContact.position, OnCallContact.id)
        )
    )


def _escalation_page(
    clinic: Clinic,
    values: dict[str, str],
    errors: dict[str, str],
    contact: dict[str, str] | None = None,
    contact_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    contacts = _contacts(clinic.id)
    return (
        render_template(
            "coordinator/admin_escalation.html",
            clinic=clinic,
            values=values,
            errors=errors,
            weekdays=[(day, DAY_NAMES[day]) for day in WEEKDAYS],
            delay=ESCALATION_DELAY,
            default_guidance=load_guidance(guidance_path(current_app.config["SCHEDULES_DIR"])),
            active=[c for c in contacts if c.active],
            inactive=[c for c in contacts if not c.active],
            contact=contact or {"channel": "webhook"},
            contact_errors=contact_errors or {},
            channel_labels=CHANNEL_LABELS,
        ),
        status,
    )


@bp.route("/escalation", methods=["GET", "POST"])
@admin_required
def escalation_settings() -> Any:
    clinic = _clinic()
    if request.method == "GET":
        return _escalation_page(clinic, _escalation_values(clinic), {})
    values = _read_escalation_form()
    errors: dict[str, str] = {}
    changes = _escalation_changes(values, errors)
    if errors:
        return _escalation_page(clinic, values, errors, status=400)
    changed = {
        k: {"from": getattr(clinic, k), "to": v}
        for k, v in changes.items()
        if getattr(clinic, k) != v
    }
    for key, value in changes.items():
        setattr(clinic, key, value)
    if changed:
        record("clinic.escalation_update", changes=changed)
    get_session().commit()
    flash("Escalation settings saved." if changed else "Nothing changed.", "info")
    return redirect(url_for("admin.escalation_settings"))


def _read_contact() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The add-a-contact form: (values as typed, clean values, errors by field)."""
    form = {
        "name": (request.form.get("name") or "").strip()[: CONTACT_NAME_MAX_LENGTH + 1],
        "channel": (request.form.get("channel") or "").strip()[:20],
        "address": (request.form.get("address") or "").strip()[:300],
    }
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    if not form["name"]:
        errors["name"] = "Enter the name of the person or role on call."
    else:
        try:
            clean["name"] = _plain_text("name", form["name"], CONTACT_NAME_MAX_LENGTH, "a name")
        except EnrollmentError as exc:
            errors["name"] = exc.message
    channel = form["channel"]
    if channel not in PAGE_CHANNELS:
        errors["channel"] = "Choose how to reach them: email, text message or log."
    elif not form["address"]:
        errors["address"] = {
            "email": "Enter their email address.",
            "webhook": "Enter their mobile number.",
            "log": "Enter a label for the log.",
        }[channel]
    else:
        try:
            if channel == "email":
                email = check_email(form["address"])
                if email is None:
                    raise EnrollmentError("address", "Enter their email address.")
                clean["address"] = email
            elif channel == "webhook":
                clean["address"] = check_sms_number(form["address"])
            else:
                clean["address"] = _plain_text("address", form["address"], 100, "a label")
        except EnrollmentError as exc:
            message = exc.message
            if channel == "email":
                message = "Enter an email address like nurse@example.org."
            errors["address"] = message
    clean["channel"] = channel
    return form, clean, errors


@bp.post("/on-call")
@admin_required
def add_on_call() -> Any:
    clinic = _clinic()
    form, clean, errors = _read_contact()
    if errors:
        values = _escalation_values(clinic)
        return _escalation_page(clinic, values, {}, form, errors, 400)
    db = get_session()
    last = db.scalar(
        select(func.max(OnCallContact.position)).where(OnCallContact.clinic_id == clinic.id)
    )
    contact = OnCallContact(
        clinic_id=clinic.id,
        position=(last or 0) + 1,
        name=clean["name"],
        channel=clean["channel"],
        address=clean["address"],
        active=True,
        created_at=request_now(),
    )
    db.add(contact)
    db.flush()
    record(
        "on_call.add",
        contact_id=contact.id,
        name=contact.name,
        channel=contact.channel,
        address=contact.address,
    )
    db.commit()
    flash(f"{contact.name} is now on the on-call list.", "info")
    return redirect(url_for("admin.escalation_settings", _anchor="on-call"))


def _own_contact(contact_id: int) -> OnCallContact:
    contact = get_session().get(OnCallContact, contact_id)
    if contact is None or contact.clinic_id != account().clinic_id:
        abort(404)  # another clinic's contact looks like no contact at all
    return contact


@bp.post("/on-call/<int:contact_id>/deactivate")
@admin_required
def deactivate_on_call(contact_id: int) -> Any:
    contact = _own_contact(contact_id)
    if not contact.active:
        flash(f"{contact.name} was already off the list.", "info")
        return redirect(url_for("admin.escalation_settings", _anchor="on-call"))
    contact.active = False
    record("on_call.deactivate", contact_id=contact.id, name=contact.name)
    get_session().commit()
    flash(f"{contact.name} is no longer paged.", "info")
    return redirect(url_for("admin.escalation_settings", _anchor="on-call"))


@bp.post("/on-call/<int:contact_id>/move")
@admin_required
def move_on_call(contact_id: int) -> Any:
    contact = _own_contact(contact_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down") or not contact.active:
        abort(400)
    order = [c for c in _contacts(contact.clinic_id) if c.active]
    before = [c.id for c in order]
    i = order.index(contact)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        # Renumbered 1..n: the order is exactly what the list shows.
        for position, each in enumerate(order, start=1):
            each.position = position
        record(
            "on_call.move",
            contact_id=contact.id,
            direction=direction,
            order={"from": before, "to": [c.id for c in order]},
        )
        get_session().commit()
        flash(f"Moved {contact.name} {direction}.", "info")
    return redirect(url_for("admin.escalation_settings", _anchor="on-call"))


# --- audit log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters as typed (kept in the form and the page links)."""

    patient: str = ""  # part of a patient's name
    start: str = ""  # first local day, YYYY-MM-DD (a date input)
    end: str = ""  # last local day

    def query_args(self, page: int | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {k: v for k, v in vars(self).items() if v}
        if page and page > 1:
            args["page"] = page
        return args


def _audit_day(raw: str, label: str, errors: dict[str, str], key: str) -> date | None:
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = f"Enter the {label} date as year-month-day, like 2026-11-21."
        return None


def _audit_names(db: Any, clinic_id: int, events: Any) -> audit_words.Names:
    """The names the page's events mention: one query each for users, patients, alerts."""
    user_ids, patient_ids, alert_ids = audit_words.ids_named(events)
    users = select(User.id, User.name).where(User.id.in_(user_ids))
    patients = select(Patient.id, Patient.name).where(Patient.id.in_(patient_ids))
    alerts = select(Alert.id, Alert.rule).where(
        Alert.id.in_(alert_ids), Alert.clinic_id == clinic_id
    )
    # Caregivers: one more query, only on a page whose events name one.
    caregiver_ids = audit_words.caregiver_ids_named(events)
    caregivers = select(Caregiver.id, Caregiver.name, Caregiver.relation).where(
        Caregiver.id.in_(caregiver_ids), Caregiver.clinic_id == clinic_id
    )
    return audit_words.Names(
        users=dict(db.execute(users).all()) if user_ids else {},
        patients=dict(db.execute(patients).all()) if patient_ids else {},
        alert_rules=dict(db.execute(alerts).all()) if alert_ids else {},
        caregivers=(
            {id_: (name, relation) for id_, name, relation in db.execute(caregivers)}
            if caregiver_ids
            else {}
        ),
    )


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    """Who did what, in sentences (audit_words.py), newest first; filtered by part of a
    patient's name and by local days in the clinic's zone. Five statements a page, however
    many events (count, page, then the users, patients and alerts the page names)."""
    db = get_session()
    clinic = _clinic()
    page = parse_whole_number(request.args.get("page"), low=1, high=999_999) or 1
    filters = AuditFilters(
        patient=" ".join((request.args.get("patient") or "").split())[:100],
        start=(request.args.get("start") or "").strip()[:20],
        end=(request.args.get("end") or "").strip()[:20],
    )
    errors: dict[str, str] = {}
    first = _audit_day(filters.start, "first", errors, "start")
    last = _audit_day(filters.end, "last", errors, "end")
    if first and last and first > last:
        errors["end"] = "The last day is before the first day: swap them or change one."
    # An event belongs to the clinic if it says so, or if it is about, or by, one of its
    # patients (a patient's own link sign-in may not name the clinic).
    ours = select(Patient.id).where(Patient.clinic_id == clinic.id)
    query = select(AuditEvent).where(
        or_(
            AuditEvent.clinic_id == clinic.id,
            AuditEvent.patient_id.in_(ours),
            AuditEvent.actor_patient_id.in_(ours),
        )
    )
    if filters.patient:
        named = ours.where(
            func.lower(Patient.name).contains(filters.patient.lower(), autoescape=True)
        )
        query = query.where(
            or_(AuditEvent.patient_id.in_(named), AuditEvent.actor_patient_id.in_(named))
        )
    # Days are the clinic's: from the first day's local midnight to the one after the last.
    if first is not None:
        query = query.where(AuditEvent.at >= start_of_local_day_utc(first, clinic.timezone))
    if last is not None:
        after = start_of_local_day_utc(last + timedelta(days=1), clinic.timezone)
        query = query.where(AuditEvent.at < after)
    if errors:
        query = query.where(false())
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(page, pages)
    events = db.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    names = _audit_names(db, clinic.id, events)
    rows = [
        {
            "event": e,
            "sentence": audit_words.sentence(e, names),
            "patient": names.patients.get(e.patient_id or 0),
            "raw": json.dumps(e.detail or {}, sort_keys=True, default=str),
        }
        for e in events
    ]
    return (
        render_template(
            "coordinator/admin_audit.html",
            rows=rows,
            page=page,
            pages=pages,
            total=total,
            filters=filters,
            errors=errors,
            clinic=clinic,
        ),
        400 if errors else 200,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(content_views.bp)  # the clinical content sign-off pages
