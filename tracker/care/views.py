"""Care coordinator pages: triage list, patient detail, alerts, plan changes, enrolment, exports.

Every page needs a signed-in coordinator or admin and only ever shows their own clinic's
patients (``get_clinic_patient`` answers 404 for anyone else's). Every view, change and
export of a patient's data is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from tracker.alerts.pain_trends import daily_summaries, effective_entries
from tracker.alerts.rules import RULES, acknowledge, resolve
from tracker.care import admin as admin_views
from tracker.care import auth as coordinator_auth
from tracker.care import contact_log
from tracker.care import enrolment as enrolment_views
from tracker.care.auth import (
    account,
    coordinator_required,
    get_clinic_patient,
    record,
)
from tracker.care.contact_log import OUTCOME_CHOICES
from tracker.care.exports import ExportError, fhir_bundle, pain_csv, parse_range
from tracker.care.outcomes_panel import outcomes_panel
from tracker.care.pain_chart import care_pain_chart
from tracker.care.patient_page import (
    REMINDER_WORDS,
    SCOPE_WORDS,
    alert_counts,
    calendar_to_today,
    call_link,
    caregiver_section,
    entered_by,
    entered_by_day,
    pain_trend,
    warning_sign_checks,
)
from tracker.care.triage import (
    PROCEDURE_ABBREVIATIONS,
    Activity,
    TriagePage,
    adherence,
    alert_order,
    check_in_calendar,
    parse_filters,
    triage_page,
)
from tracker.care.work_queue import Assigned, assign_alert
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import LANGUAGE_NAMES, language_or_default, translator
from tracker.core.models import (
    ALERT_EVENT_KINDS,
    NOTE_MAX_LENGTH,
    PROCEDURES,
    Alert,
    Caregiver,
    CarePlan,
    CheckOff,
    Clinic,
    PainEntry,
    Patient,
    PatientLinkToken,
    PlanAdjustment,
    Reminder,
    SymptomReport,
    User,
)
from tracker.core.timeutil import local_day
from tracker.core.whole_numbers import parse_whole_number
from tracker.escalation.paging import paging_states
from tracker.plans.adjustments import (
    AdjustmentError,
    change_status,
    check_note,
    set_appointment_date,
    set_restriction_end,
)
from tracker.plans.agenda import agenda_for_day, driving_decision, plan_activities
from tracker.plans.card import build_card, link_qr_svg
from tracker.plans.caregivers import current_caregivers
from tracker.plans.links import link_url, revoke_links, rotate_link
from tracker.plans.opioid_rules import OpioidAnswers, current_rows
from tracker.plans.warning_signs import load_signs, questions_by_key, signs_path
from tracker.reminders.delivery import incident_notices
from tracker.web.charts import Band
from tracker.web.time_format import (
    age_text,
    clinic_time,
    clock_with_zone,
    day_range_text,
    day_text,
    wall_time_text,
)

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")

RULE_LABELS = {
    "red_flag": "Red-flag symptom",
    "severe_pain": "Severe pain",
    "worsening": "Worsening pain",
    "not_improving": "Not improving",
    "missed_checkin": "No check-in",
    "undeliverable": "Reminder undeliverable",
}
assert set(RULE_LABELS) == set(RULES)
EVENT_LABELS = {
    "raised": "Raised",
    "updated": "Newer evidence",
    "escalated": "More urgent",
    "reopened": "Re-opened by worse evidence",
    "corrected": "Score corrected",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "auto_resolved": "Resolved automatically",
    "page_queued": "Paging",
    "page_sent": "Page sent",
    "page_failed": "Page failed",
    "page_cancelled": "Page cancelled",
    "escalation_exhausted": "Nobody answered the pages",
    "assigned": "Assigned",
    "unassigned": "Owner removed",
}
assert set(EVENT_LABELS) == set(ALERT_EVENT_KINDS)


def care_time(value: datetime | str | None, tz_name: str | None = None) -> str:
    """A time for the care team (``time_format.clinic_time``): on the clinic's clock with
    its abbreviation, "Dec 6, 10:41 PM EST". ``tz_name``: the signed-in account's clinic's
    zone unless given. ISO text (times kept in an alert's detail) is read too."""
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return clinic_time(at, tz_name or clinic().timezone, now=request_now())


def care_day(value: date | str | None, tz_name: str | None = None) -> str:
    """A patient's local day (stored with their event) for the care team: "Dec 5". ISO
    text (a day kept in a plan's overrides) is read too."""
    if value is None:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day_text(day, today=local_day(request_now(), tz_name or clinic().timezone))


def care_days(first: date, last: date, tz_name: str | None = None) -> str:
    """A span of a patient's local days for the care team: "Nov 19-23" (en dash)."""
    return day_range_text(first, last, today=local_day(request_now(), tz_name or clinic().timezone))


def care_ago(value: datetime | None) -> str:
    """How long ago, on the request clock: "2 h ago"."""
    return "" if value is None else age_text(value, request_now())


def clinic() -> Clinic:
    found = get_session().get(Clinic, account().clinic_id)
    if found is None:  # the user's clinic row is gone: nothing to show
        abort(404)
    return found


def current_plan(patient: Patient) -> CarePlan:
    if not patient.plans:
        abort(404)
    return patient.plans[-1]


def signs() -> tuple:
    return load_signs(signs_path(current_app.config["SCHEDULES_DIR"]))


@bp.app_context_processor
def coordinator_globals() -> dict[str, Any]:
    return {"rule_labels": RULE_LABELS}


# --- triage ----------------------------------------------------------------------------------


@bp.get("/")
@coordinator_required
def triage() -> Any:
    return show_triage(triage_page)


def show_triage(
    compute_page: Callable[..., TriagePage],
    args: Mapping[str, str] | None = None,
    *,
    problem: QueueProblem | None = None,
) -> Any:
    """The triage view, with the page's data from ``compute_page`` (``triage_page``'s
    signature): the benchmarks' floor passes one that keeps its pages, and nothing else
    differs. ``args``: the list's filters (the request's query by default); ``problem``:
    an action on a row that was refused, shown at the top and on its row."""
    now = request_now()
    filters, errors = parse_filters(
        request.args if args is None else args, viewer_id=account().user.id
    )
    the_clinic = clinic()
    page = compute_page(
        get_session(),
        the_clinic,
        filters,
        now,
        page_size=current_app.config.get("TRIAGE_PAGE_SIZE", 25),
    )
    record(
        "triage.view",
        page=page.page,
        filters=filters.query_args(page=None),
        patient_ids=[row.patient.id for row in page.rows],
    )
    get_session().commit()
    status = problem.status if problem else 400 if errors else 200
    return (
        render_template(
            "coordinator/triage.html",
            page=page,
            filters=filters,
            errors=errors,
            procedures=PROCEDURES,
            clinic=the_clinic,
            incidents=incident_notices(get_session(), the_clinic.id, now),
            # The list's place, carried by every form on a row so the answer comes back to it.
            back=urlencode(filters.query_args(page=page.page if page.page != 1 else None)),
            problem=problem,
            me=account().user,
            contact_choices=OUTCOME_CHOICES,
            procedure_abbreviations=PROCEDURE_ABBREVIATIONS,
            note_max_length=NOTE_MAX_LENGTH,
        ),
        status,
    )


# --- the work queue: acting on a row without leaving the list ----------------------------


@dataclass(frozen=True)
class QueueProblem:
    """A refused action on a triage row: shown above the list and on the row's form."""

    patient_id: int
    form: str  # "contact", or "alert-<id>"
    message: str
    status: int
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _list_args() -> MultiDict[str, str]:
    """The list's filters and page, as the row's form carried them (``back``)."""
    back = request.form.get("back") or ""
    try:
        pairs = parse_qsl(back[:2000], max_num_fields=20)
    except ValueError:
        pairs = []
    return MultiDict(pairs)


def _back_to_list(patient_id: int) -> Response:
    """The same list (filters, page) with the row in view."""
    filters, _ = parse_filters(_list_args(), viewer_id=account().user.id)
    query = filters.query_args(page=filters.page if filters.page != 1 else None)
    return redirect(url_for("coordinator.triage", **query) + f"#patient-{patient_id}")


def _refused_on_list(problem: QueueProblem) -> Any:
    get_session().rollback()
    return show_triage(triage_page, _list_args(), problem=problem)


def _clinic_alert_by_id(alert_id: int) -> tuple[Alert, Patient]:
    alert = get_session().get(Alert, alert_id)
    if alert is None or alert.clinic_id != account().clinic_id:
        abort(404)
    return alert, get_clinic_patient(alert.patient_id)


def _who(user_id: int | None) -> str:
    user = get_session().get(User, user_id) if user_id is not None else None
    return user.name if user is not None else "someone"


def _changed_meanwhile(alert: Alert) -> str:
    if alert.status == "resolved":
        return (
            f"{_who(alert.resolved_by_id)} resolved this alert at "
            f"{care_time(alert.resolved_at)}, after the list was shown. Nothing was changed."
        )
    return (
        f"{_who(alert.acknowledged_by_id)} acknowledged this alert at "
        f"{care_time(alert.acknowledged_at)}, after the list was shown. Nothing was changed."
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
@coordinator_required
def queue_acknowledge(alert_id: int) -> Any:
    """Acknowledge from the triage row; back to the same list and row."""
    alert, patient = _clinic_alert_by_id(alert_id)
    if not acknowledge(
        get_session(), alert, user_id=account().user.id, note=None, now=request_now()
    ):
        get_session().rollback()
        message = _changed_meanwhile(alert)
        return _refused_on_list(QueueProblem(patient.id, f"alert-{alert.id}", message, 409))
    record("alert.acknowledge", patient_id=patient.id, alert_id=alert.id, source="triage")
    get_session().commit()
    flash(f"Acknowledged: {alert.summary} ({patient.name}).", "info")
    return _back_to_list(patient.id)


@bp.post("/alerts/<int:alert_id>/assign")
@coordinator_required
def queue_assign(alert_id: int) -> Any:
    """Give an alert an owner (the signed-in user, a colleague of the clinic, or nobody)."""
    alert, patient = _clinic_alert_by_id(alert_id)
    me = account().user
    form = f"alert-{alert.id}"

    def refused(message: str, status: int = 400) -> Any:
        return _refused_on_list(QueueProblem(patient.id, form, message, status))

    raw_owner = (request.form.get("owner") or "").strip()
    expected = parse_whole_number(raw_owner, low=1) if raw_owner else None
    if raw_owner and expected is None:
        return refused("The list was out of date. It has been reloaded: choose again.")
    choice = (request.form.get("assignee") or "").strip()
    assignee: User | None
    if choice == "me":
        assignee = me
    elif choice == "nobody":
        assignee = None
    elif (user_id := parse_whole_number(choice, low=1)) is None:
        return refused("Choose who will own the alert from the list.")
    else:
        assignee = get_session().get(User, user_id)
        if assignee is None or assignee.clinic_id != me.clinic_id:
            abort(404)
        if not assignee.is_active:
            return refused(f"{assignee.name} can no longer sign in. Choose someone else.")
    result = assign_alert(
        get_session(),
        alert,
        assignee=assignee,
        expected_owner_id=expected,
        by_user_id=me.id,
        now=request_now(),
    )
    if result is Assigned.RESOLVED:
        return refused(_changed_meanwhile(alert), 409)
    if result is Assigned.TAKEN:
        owner = _who(alert.assigned_to_id) if alert.assigned_to_id else "Nobody"
        return refused(
            f"The owner changed after the list was shown: {owner} owns this alert now. "
            "Nothing was changed; choose again if you still mean to.",
            409,
        )
    owner_name = "you" if assignee is me else assignee.name if assignee else "nobody"
    if result is Assigned.DONE:
        record(
            "alert.assign",
            patient_id=patient.id,
            alert_id=alert.id,
            to_user_id=assignee.id if assignee else None,
            from_user_id=expected,
        )
        get_session().commit()
        flash(f"Owner of {alert.summary} ({patient.name}): {owner_name}.", "info")
    else:
        flash(f"{alert.summary} ({patient.name}) was already owned by {owner_name}.", "info")
    return _back_to_list(patient.id)


@bp.post("/patients/<int:patient_id>/contacts")
@coordinator_required
def log_contact_entry(patient_id: int) -> Any:
    """Log a call (from the triage row, or the patient page when ``back=patient``)."""
    patient = get_clinic_patient(patient_id)
    on_patient_page = request.form.get("back") == "patient"
    alert = None
    raw_alert = (request.form.get("alert_id") or "").strip()
    if raw_alert:
        alert = get_session().get(Alert, parse_whole_number(raw_alert, low=1) or 0)
        if alert is None or alert.patient_id != patient.id:
            abort(404)
    now = request_now()
    # On the patient page, the call may have been with one of the patient's caregivers.
    reached = (
        contact_log.with_choices(current_caregivers(get_session(), patient.id))
        if on_patient_page
        else None
    )
    try:
        contact = contact_log.parse_contact(
            request.form, tz_name=clinic().timezone, now=now, reached=reached
        )
    except contact_log.ContactError as exc:
        if on_patient_page:
            errors = {f"contact-{name}": message for name, message in exc.errors.items()}
            return render_patient(patient, status=400, errors=errors)
        message = "The contact was not saved: " + " ".join(exc.errors.values())
        values = {k: request.form.get(k, "") for k in ("outcome", "note", "time")}
        return _refused_on_list(
            QueueProblem(patient.id, "contact", message, 400, dict(exc.errors), values)
        )
    entry = contact_log.log_contact(
        get_session(), patient, contact, user_id=account().user.id, now=now, alert=alert
    )
    record(
        "contact.log",
        patient_id=patient.id,
        contact_id=entry.id,
        outcome=entry.outcome,
        alert_id=entry.alert_id,
        **({"caregiver_id": contact.caregiver_id} if contact.caregiver_id else {}),
    )
    get_session().commit()
    flash(f"Contact logged for {patient.name}: {contact_log.OUTCOME_SUMMARIES[entry.outcome]}.")
    if on_patient_page:
        return _back(patient, "#contact-log")
    return _back_to_list(patient.id)


# --- patient detail ----------------------------------------------------------------------


def _patient_context(patient: Patient) -> dict[str, Any]:
    db = get_session()
    now = request_now()
    plan = current_plan(patient)
    today = local_day(now, plan.timezone)
    pain = db.scalars(
        select(PainEntry)
        .where(PainEntry.plan_id == plan.id)
        .order_by(PainEntry.recorded_at, PainEntry.id)
    ).all()
    reports = db.scalars(
        select(SymptomReport)
        .where(SymptomReport.plan_id == plan.id)
        .order_by(SymptomReport.recorded_at.desc(), SymptomReport.id.desc())
    ).all()
    checkoff_rows = db.execute(
        select(CheckOff.activity_key, CheckOff.local_day, CheckOff.entered_by_caregiver_id).where(
            CheckOff.plan_id == plan.id
        )
    ).all()
    acts = Activity(
        pain_days={e.local_day for e in effective_entries(pain)},
        report_days={r.local_day for r in reports},
        checkoffs={(key, day) for key, day, _ in checkoff_rows},
    )
    # Every caregiver of the patient, removed ones too: the Caregivers section, and the
    # names of "entered by" on every row below (one query, however many rows).
    people = caregiver_section(
        db.scalars(
            select(Caregiver).where(Caregiver.patient_id == patient.id).order_by(Caregiver.id)
        ).all()
    )
    summaries = daily_summaries(pain, plan.procedure_date)
    activities = plan_activities(plan)
    restrictions = [a for a in activities if a.kind == "restriction"]
    phases = [Band(a.title, a.start_day, a.end_day) for a in restrictions]
    alerts = db.scalars(
        select(Alert)
        .options(selectinload(Alert.events))
        .where(Alert.plan_id == plan.id)
        .order_by(Alert.raised_at.desc())
    ).all()
    by_id = {e.id: e for e in pain}
    users = {
        u.id: u.name
        for u in db.scalars(select(User).where(User.clinic_id == patient.clinic_id)).all()
    }
    reminders = db.scalars(
        select(Reminder)
        .where(Reminder.plan_id == plan.id)
        .order_by(Reminder.local_day.desc(), Reminder.id.desc())
        .limit(60)
    ).all()
    adjustments = db.scalars(
        select(PlanAdjustment)
        .where(PlanAdjustment.plan_id == plan.id)
        .order_by(PlanAdjustment.created_at.desc(), PlanAdjustment.id.desc())
    ).all()
    live_links = db.scalars(
        select(PatientLinkToken).where(
            PatientLinkToken.patient_id == patient.id,
            PatientLinkToken.revoked_at.is_(None),
            PatientLinkToken.expires_at > now,
        )
    ).all()
    opioid_rows = current_rows(db, [plan.id])[plan.id]
    opioids = OpioidAnswers(
        {day: row.taking for day, row in opioid_rows.items()},
        patient.clinic.opioid_free_days_before_driving,
    )
    agenda = agenda_for_day(plan, today, activities, opioids=opioids)
    # Retired signs too: answers stored under their keys keep their question.
    sign_questions = questions_by_key(signs())
    # Questionnaire scores, the expected course and its indicator (outcomes_panel.py).
    outcomes = outcomes_panel(db, plan, summaries, today)
    return {
        "patient": patient,
        "plan": plan,
        "today": today,
        "day_number": agenda.day_number,
        "agenda": agenda,
        "summaries": summaries,
        "chart": care_pain_chart(
            summaries,
            duration_days=plan.duration_days,
            threshold=patient.clinic.severe_pain_threshold,
            bands=phases,
            today_number=agenda.day_number,
            expected=outcomes["expected_course"],
        ),
        "phases": phases,
        "notes": [e for e in reversed(effective_entries(pain)) if e.note],
        "calendar": calendar_to_today(check_in_calendar(plan, today, acts), today),
        "adherence": adherence(plan, today, acts),
        "reports": reports,
        "sign_questions": sign_questions,
        "open_alerts": sorted([a for a in alerts if a.status != "resolved"], key=alert_order),
        "alerts": alerts,
        "users": users,
        "reminders": reminders,
        "restrictions": restrictions,
        "driving": _driving_status(plan, activities, opioids, opioid_rows, today),
        "appointments": [a for a in activities if a.kind == "appointment"],
        "overrides": plan.overrides or {},
        "adjustments": adjustments,
        "live_links": live_links,
        "link_expires": max((t.expires_at for t in live_links), default=None),
        "note_max": NOTE_MAX_LENGTH,
        # The summary at the top, and the checks worth reading (patient_page.py).
        "trend": pain_trend(pain, summaries, plan.procedure_date),
        "alert_counts": alert_counts([a for a in alerts if a.status != "resolved"]),
        "checks": warning_sign_checks(reports),
        "contact_log": contact_log.for_patient_page(db, patient.id, people.current),
        "clinic_tz": patient.clinic.timezone,
        "paging": paging_states(db, [a.id for a in alerts if a.status != "resolved"]),
        "event_labels": EVENT_LABELS,
        **outcomes,
        "corrections": [
            (by_id[e.supersedes_id], e)
            for e in reversed(pain)
            if e.supersedes_id is not None and e.supersedes_id in by_id
        ],
        # Caregivers and who entered what (patient_page.py; routes in caregivers.py).
        "caregivers": people,
        "authors": people.authors,
        "entered_by": entered_by,
        "call_link": call_link,
        "pain_entered_by": entered_by_day(
            ((e.local_day, e.entered_by_caregiver_id) for e in effective_entries(pain)),
            people.authors,
        ),
        "checkoffs_entered_by": entered_by_day(
            ((day, caregiver_id) for _, day, caregiver_id in checkoff_rows), people.authors
        ),
        "scope_words": SCOPE_WORDS,
        "reminder_words": REMINDER_WORDS,
        "language_names": LANGUAGE_NAMES,
    }


def _driving_status(plan, activities, opioids, rows, today) -> dict[str, Any] | None:
    """The no-driving-on-opioids rule for the care team: the latest answer, since when the
    patient has given it, and whether the restriction is on today (opioid_rules.py)."""
    restriction = next((a for a in activities if a.condition_check_in), None)
    if restriction is None:
        return None
    decision = driving_decision(plan, restriction, activities, opioids, today)
    latest = rows.get(decision.latest_day) if decision.latest_day is not None else None
    return {"activity": restriction, "decision": decision, "latest": latest}


def render_patient(patient: Patient, *, status: int = 200, errors: dict[str, str] | None = None):
    return (
        render_template(
            "coordinator/patient.html", errors=errors or {}, **_patient_context(patient)
        ),
        status,
    )


@bp.get("/patients/<int:patient_id>")
@coordinator_required
def patient_detail(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    response = render_patient(patient)
    record("patient.view", patient_id=patient.id)
    get_session().commit()
    return response


def _back(patient: Patient, anchor: str = "") -> Response:
    return redirect(url_for("coordinator.patient_detail", patient_id=patient.id) + anchor)


def _clinic_alert(patient: Patient, alert_id: int) -> Alert:
    alert = get_session().get(Alert, alert_id)
    if alert is None or alert.patient_id != patient.id:
        abort(404)
    return alert


@bp.post("/patients/<int:patient_id>/alerts/<int:alert_id>/acknowledge")
@coordinator_required
def acknowledge_alert(patient_id: int, alert_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    alert = _clinic_alert(patient, alert_id)
    try:
        note = check_note(request.form.get("note"))
    except AdjustmentError as exc:
        return render_patient(patient, status=400, errors={f"alert-{alert.id}": exc.message})
    if not acknowledge(
        get_session(), alert, user_id=account().user.id, note=note, now=request_now()
    ):
        get_session().rollback()
        return render_patient(
            patient,
            status=409,
            errors={f"alert-{alert.id}": f"This alert is already {alert.status}."},
        )
    record("alert.acknowledge", patient_id=patient.id, alert_id=alert.id, note=note)
    get_session().commit()
    flash(f"Alert acknowledged: {alert.summary}", "info")
    return _back(patient, "#alerts")


@bp.post("/patients/<int:patient_id>/alerts/<int:alert_id>/resolve")
@coordinator_required
def resolve_alert(patient_id: int, alert_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    alert = _clinic_alert(patient, alert_id)
    key = f"alert-{alert.id}"
    try:
        note = check_note(request.form.get("note"))
    except AdjustmentError as exc:
        return render_patient(patient, status=400, errors={key: exc.message})
    if not note:
        return render_patient(
            patient, status=400, errors={key: "Say how it was resolved (a short note)."}
        )
    if not resolve(get_session(), alert, user_id=account().user.id, note=note, now=request_now()):
        get_session().rollback()
        return render_patient(patient, status=409, errors={key: "This alert is already resolved."})
    record("alert.resolve", patient_id=patient.id, alert_id=alert.id, note=note)
    get_session().commit()
    flash(f"Alert resolved: {alert.summary}", "info")
    return _back(patient, "#alerts")


# --- plan adjustments ----------------------------------------------------------------------


def _adjust(patient_id: int, apply: Any, action: str, anchor: str) -> Any:
    patient = get_clinic_patient(patient_id)
    plan = current_plan(patient)
    try:
        adjustment = apply(
            get_session(),
            plan,
            user_id=account().user.id,
            note=request.form.get("note"),
            now=request_now(),
        )
    except AdjustmentError as exc:
        get_session().rollback()
        return render_patient(patient, status=400, errors={f"{anchor}-{exc.field}": exc.message})
    get_session().flush()
    record(
        action,
        patient_id=patient.id,
        plan_id=plan.id,
        adjustment_id=adjustment.id,
        key=adjustment.activity_key,
        change=adjustment.change,
    )
    get_session().commit()
    flash("Plan updated.", "info")
    return _back(patient, f"#{anchor}")


@bp.post("/patients/<int:patient_id>/appointments")
@coordinator_required
def set_appointment(patient_id: int) -> Any:
    key, value = request.form.get("key"), request.form.get("date")
    return _adjust(
        patient_id,
        lambda db, plan, **kw: set_appointment_date(db, plan, key, value, **kw),
        "plan.set_appointment",
        "appointments",
    )


@bp.post("/patients/<int:patient_id>/restrictions")
@coordinator_required
def set_restriction(patient_id: int) -> Any:
    key, value = request.form.get("key"), request.form.get("end_day")
    return _adjust(
        patient_id,
        lambda db, plan, **kw: set_restriction_end(db, plan, key, value, **kw),
        "plan.set_restriction",
        "restrictions",
    )


@bp.post("/patients/<int:patient_id>/status")
@coordinator_required
def set_status(patient_id: int) -> Any:
    action = request.form.get("action")
    return _adjust(
        patient_id,
        lambda db, plan, **kw: change_status(db, plan, action, **kw),
        "plan.status",
        "status",
    )


# --- personal link --------------------------------------------------------------------------


@bp.post("/patients/<int:patient_id>/link")
@coordinator_required
def patient_link(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    plan = current_plan(patient)
    action = request.form.get("action")
    db = get_session()
    now = request_now()
    if action == "revoke":
        count = revoke_links(db, patient, now=now)
        record("link.revoke", patient_id=patient.id, revoked=count)
        db.commit()
        flash("The personal link no longer works. Issue a new one when needed.", "info")
        return _back(patient, "#link")
    if action != "rotate":
        return render_patient(patient, status=400, errors={"link": "Choose a link action."})
    raw = rotate_link(db, patient, plan, now=now, grace_days=current_app.config["LINK_GRACE_DAYS"])
    record("link.rotate", patient_id=patient.id)
    db.commit()
    # The raw link is shown on this response only: never stored, never put in a cookie.
    response = render_template(
        "coordinator/link_issued.html",
        patient=patient,
        link=link_url(current_app.config["BASE_URL"], raw),
        heading="New personal link",
        rotated=True,
    )
    return response, 200


# --- plan card ------------------------------------------------------------------------------


def _render_card(patient: Patient, *, link: str | None = None) -> str:
    """The care team's page (English) around the patient's card, which is in the patient's
    language: its words, dates, plan content and warning signs."""
    plan = current_plan(patient)
    today = local_day(request_now(), plan.timezone)
    language = language_or_default(patient.language)
    card = build_card(plan, patient.clinic, patient.name, signs(), today=today, language=language)
    qr_label = translator(language).gettext("QR code of your personal link")
    with force_locale(language):
        printed = Markup(  # noqa: S704 - our own template's output, escaped by Jinja
            render_template(
                "card/printed.html",
                card=card,
                qr=link_qr_svg(link, label=qr_label) if link else None,
            )
        )
    return render_template(
        "coordinator/card.html",
        patient=patient,
        card=card,
        printed_card=printed,
        qr=link is not None,
    )


@bp.get("/patients/<int:patient_id>/card")
@coordinator_required
def patient_card(patient_id: int) -> Any:
    """The printable plan and warning-sign card, without a QR code (patient_card.py)."""
    patient = get_clinic_patient(patient_id)
    response = _render_card(patient)
    record("patient.card_view", patient_id=patient.id)
    get_session().commit()
    return response


@bp.post("/patients/<int:patient_id>/card")
@coordinator_required
def patient_card_issue(patient_id: int) -> Any:
    """The card with a QR code of a freshly issued personal link: like "issue a new link"
    (``patient_link``), the old link stops working; the raw link is on this response only."""
    patient = get_clinic_patient(patient_id)
    plan = current_plan(patient)
    db = get_session()
    raw = rotate_link(
        db, patient, plan, now=request_now(), grace_days=current_app.config["LINK_GRACE_DAYS"]
    )
    record("link.rotate", patient_id=patient.id, via="plan_card")
    db.commit()
    return _render_card(patient, link=link_url(current_app.config["BASE_URL"], raw))


# --- enrolment ------------------------------------------------------------------------------


@bp.route("/enrol", methods=["GET", "POST"])
@coordinator_required
def enrol() -> Any:
    """The enrolment form and what follows it: tracker/care/enrolment.py."""
    return enrolment_views.enrol_page(clinic())


# --- exports --------------------------------------------------------------------------------


@bp.get("/exports")
@coordinator_required
def exports() -> Any:
    the_clinic = clinic()
    today = local_day(request_now(), the_clinic.timezone)
    return render_template(
        "coordinator/exports.html",
        start=(today - timedelta(days=30)).isoformat(),
        end=today.isoformat(),
        errors={},
    )


@bp.get("/exports/pain.csv")
@coordinator_required
def export_pain_csv() -> Any:
    try:
        start, end = parse_range(request.args.get("start"), request.args.get("end"))
    except ExportError as exc:
        return (
            render_template(
                "coordinator/exports.html",
                start=(request.args.get("start") or "")[:20],
                end=(request.args.get("end") or "")[:20],
                errors={exc.field: exc.message},
            ),
            400,
        )
    text, count = pain_csv(get_session(), account().clinic_id, start, end)
    record("export.pain_csv", start=start.isoformat(), end=end.isoformat(), rows=count)
    get_session().commit()
    filename = f"pain-{start.isoformat()}-to-{end.isoformat()}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@bp.get("/patients/<int:patient_id>/fhir.json")
@coordinator_required
def export_fhir(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    bundle = fhir_bundle(get_session(), patient, signs=signs(), now=request_now())
    record("export.fhir", patient_id=patient.id, resources=len(bundle["entry"]))
    get_session().commit()
    return Response(
        json.dumps(bundle, indent=2),
        mimetype="application/fhir+json",
        headers={
            "Content-Disposition": f'attachment; filename="patient-{patient.id}-fhir.json"',
        },
    )


def init_app(app: Flask) -> None:
    # The caregiver and language routes are on ``bp`` too; importing them adds them (once).
    from tracker.care import caregivers  # noqa: F401

    coordinator_auth.init_app(app)
    app.config.setdefault("TRIAGE_PAGE_SIZE", 25)
    app.register_blueprint(bp)
    # Every time the care team reads goes through these (tracker/web/time_format.py).
    app.add_template_filter(care_time, "care_time")
    app.add_template_filter(care_day, "care_day")
    app.add_template_filter(care_days, "care_days")
    app.add_template_filter(care_ago, "care_ago")
    app.add_template_filter(wall_time_text, "wall_time")
    app.add_template_filter(clock_with_zone, "zone_clock")
    admin_views.init_app(app)
    enrolment_views.init_app(app)
