"""Clinic admin pages: coordinator accounts, the clinic's phone numbers and alert thresholds,
and the audit log. Admins only, and only for their own clinic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import false, func, or_, select

from tracker.alerts import mark_clinic_due
from tracker.clock import request_now
from tracker.coordinator_auth import account, admin_required, record
from tracker.db import get_session
from tracker.enrollment import EnrollmentError, check_email, check_phone
from tracker.models import ROLES, AuditEvent, Clinic, Patient, User
from tracker.passwords import MIN_LENGTH, hash_password
from tracker.whole_numbers import parse_whole_number

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
    if email and db.scalar(select(User.id).where(func.lower(User.email) == email)):
        errors["email"] = "An account with this email already exists."
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
    for t in THRESHOLDS:
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
        for t in THRESHOLDS:
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
        ),
        400 if errors else 200,
    )


# --- audit log ------------------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    db = get_session()
    clinic_id = account().clinic_id
    page = parse_whole_number(request.args.get("page"), low=1, high=999_999) or 1
    raw_patient = (request.args.get("patient") or "").strip()
    patient: Patient | None = None
    errors = {}
    if raw_patient:
        patient_id = parse_whole_number(raw_patient, low=1)
        found = db.get(Patient, patient_id) if patient_id is not None else None
        if found is None or found.clinic_id != clinic_id:
            errors["patient"] = "No patient of this clinic has that number."
        else:
            patient = found
    # An event belongs to the clinic if it says so, or if it is about, or by, one of its
    # patients (a patient's own link sign-in may not name the clinic).
    ours = select(Patient.id).where(Patient.clinic_id == clinic_id)
    query = select(AuditEvent).where(
        or_(
            AuditEvent.clinic_id == clinic_id,
            AuditEvent.patient_id.in_(ours),
            AuditEvent.actor_patient_id.in_(ours),
        )
    )
    if patient is not None:
        query = query.where(
            or_(AuditEvent.patient_id == patient.id, AuditEvent.actor_patient_id == patient.id)
        )
    elif errors:
        query = query.where(false())
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(page, pages)
    events = db.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    patient_ids = {e.patient_id for e in events if e.patient_id} | {
        e.actor_patient_id for e in events if e.actor_patient_id
    }
    users = (
        {u.id: u for u in db.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    )
    patients = (
        {p.id: p for p in db.scalars(select(Patient).where(Patient.id.in_(patient_ids)))}
        if patient_ids
        else {}
    )
    return (
        render_template(
            "coordinator/admin_audit.html",
            events=events,
            users=users,
            patients=patients,
            page=page,
            pages=pages,
            total=total,
            patient=patient,
            raw_patient=raw_patient[:20],
            errors=errors,
        ),
        400 if errors else 200,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
