"""The patient's pages: sign-in by personal link, Today, pain log, warning signs, progress.

Every page under ``/me`` starts with ``current_patient`` (fetch-or-abort), so the access
rule lives in one place: a patient sees only their own plan, and an id of anyone else's
data is a 404. Everything works without JavaScript.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import partial

from babel.numbers import format_decimal
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh as refresh_locale
from flask_wtf.csrf import CSRFError
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge, TooManyRequests

from tracker.alerts import rules as alerts
from tracker.alerts.corrections import (
    CorrectionRefused,
    PainValues,
    add_symptom_report,
    correct_pain_entry,
    current_pain_on,
    refusal,
    report_refusal,
)
from tracker.alerts.rules import PainScore
from tracker.core import audit
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import LANGUAGE_NAMES, language_or_default, translator
from tracker.core.models import (
    LANGUAGES,
    Alert,
    Caregiver,
    CheckOff,
    Clinic,
    PainEntry,
    SymptomReport,
    User,
)
from tracker.core.timeutil import local_day
from tracker.escalation import paging
from tracker.escalation.notices import CallNumbers, Notice, numbers_now, who_knows
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.outcomes.responses import asked_on, histories, responses_by_plan
from tracker.patient import session as patient_session
from tracker.patient.forms import (
    ANSWER_CHOICES,
    CONTEXT_CHOICES,
    SCORE_WORDS,
    PainForm,
    answers_of,
    field_name,
    warning_signs_form_class,
)
from tracker.patient.progress import (
    checked_off_on,
    opioid_answers,
    pain_chart,
    pain_logged_on,
    recovery_days,
    warning_check_done_on,
)
from tracker.plans import opioid_rules
from tracker.plans.agenda import Appointment, DayAgenda, Restriction, plan_today
from tracker.plans.card import build_card
from tracker.plans.severe_pain import SeverePainGuidance, for_clinic, guidance_path, load_guidance
from tracker.plans.warning_signs import Signs, load_signs, severity, signs_path, with_retired
from tracker.web import rate_limits
from tracker.web.time_format import (
    at_clock_time,
    clock_time,
    long_day,
    number_text,
    short_day,
)

link_bp = Blueprint("patient_link", __name__)
bp = Blueprint("patient", __name__, url_prefix="/me", template_folder="templates")

EXPIRED_FORM = _l(
    "This page had been open too long, so nothing was saved. Please fill it in again and send it."
)


# --- words -----------------------------------------------------------------------------------


def tel_href(phone: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


def page_language() -> str:
    """The language this page is written in (Flask-Babel's locale, chosen in tracker/app:
    the signed-in patient's own language, else the browser's)."""
    locale = get_locale()
    return language_or_default(locale.language if locale is not None else None)


def day_heading(agenda: DayAgenda, language: str = "en") -> str:
    t = translator(language)
    n = agenda.day_number
    if n < 0:
        days = number_text(-n, language=language)
        return t.ngettext(
            "Your procedure is in %(num)s day", "Your procedure is in %(num)s days", -n
        ) % {"num": days}
    if n == 0:
        return t.gettext("Today is the day of your procedure")
    if agenda.within_plan:
        return t.gettext("Day %(number)s of your recovery") % {
            "number": number_text(n, language=language)
        }
    return t.gettext("Your recovery plan has finished")


def days_left_text(restriction: Restriction, language: str = "en") -> str:
    t = translator(language)
    # A restriction tied to a condition (opioid medicine) lasts as long as the condition.
    decision = restriction.decision
    if decision is not None and decision.reason == opioid_rules.TAKING:
        return t.gettext("you said you take opioid pain medicine")
    if restriction.activity.condition:
        return restriction.activity.condition
    if restriction.days_left <= 0:
        return t.gettext("today is the last day")
    days = number_text(restriction.days_left, language=language)
    return t.ngettext("%(num)s day left", "%(num)s days left", restriction.days_left) % {
        "num": days
    }


def appointment_text(appointment: Appointment, language: str = "en") -> str:
    if appointment.scheduled_for is not None:
        return long_day(appointment.scheduled_for, language=language)
    return translator(language).gettext(
        "between %(first)s and %(last)s (your clinic will tell you the exact day)"
    ) % {
        "first": long_day(appointment.window_start, language=language),
        "last": long_day(appointment.window_end, language=language),
    }


def _words(language: str) -> dict[str, object]:
    """The page's wording helpers for templates, in the page's language."""
    return {
        "days_left_text": partial(days_left_text, language=language),
        "appointment_text": partial(appointment_text, language=language),
    }


# --- sign-in by personal link ----------------------------------------------------------------


@link_bp.get("/p/<token>")
def link_sign_in(token: str) -> Response:
    patient = patient_session.sign_in_with_link(
        get_session(), token, now=request_now(), remote_addr=request.remote_addr
    )
    if patient is None:
        # Unknown, expired and revoked links look the same: nothing is revealed.
        return make_response(render_template("patient/link_invalid.html"), 404)
    return redirect(url_for("patient.today"))


# --- Today -----------------------------------------------------------------------------------


def _signs() -> Signs:
    """The warning signs in English: what answers are checked and stored against."""
    return load_signs(signs_path(current_app.config["SCHEDULES_DIR"]))


def _shown_signs() -> Signs:
    """The warning signs as the page shows them: questions and labels in the page's
    language (keys and actions as in English)."""
    return _signs().in_language(page_language())


# --- who knows, and the numbers to call now (SPEC section 6) ---------------------------------


def care_numbers(clinic: Clinic) -> CallNumbers:
    """The clinic's numbers in the order to call them now (``care_numbers`` in templates):
    the after-hours one first while the office is closed."""
    return numbers_now(clinic, request_now())


def _alert_about(db, plan_id: int, rule: str, row_id: int) -> Alert | None:
    """The plan's alert of ``rule`` that names row ``row_id`` (a symptom report or a pain
    entry) in its detail; else its unresolved alert of that rule, which newer evidence may
    have updated since. A plan has at most one unresolved alert per rule, and it is the
    newest, so the last few are enough."""
    recent = db.scalars(
        select(Alert)
        .where(Alert.plan_id == plan_id, Alert.rule == rule)
        .order_by(Alert.id.desc())
        .limit(20)
    ).all()
    for alert in recent:
        detail = alert.detail or {}
        latest = detail.get("latest") if isinstance(detail.get("latest"), dict) else {}
        cited = (detail.get("symptom_report_id"), detail.get("pain_entry_id"), latest.get("id"))
        if row_id in cited:
            return alert
    return next((a for a in recent if a.status != "resolved"), None)


def _who_knows(db, me, alert: Alert | None) -> Notice:
    """The honest "who knows" notice for ``alert`` right now (patient_notices.who_knows)."""
    state = paging.paging_states(db, [alert.id]).get(alert.id) if alert is not None else None
    seen_by = None
    if alert is not None and (alert.acknowledged_by_id or alert.resolved_by_id):
        user = db.get(User, alert.acknowledged_by_id or alert.resolved_by_id)
        seen_by = user.name if user is not None else None
    return who_knows(
        alert,
        me.patient.clinic,
        state,
        request_now(),
        tz_name=me.plan.timezone,
        seen_by=seen_by,
        language=page_language(),
    )


def _guidance(clinic: Clinic, language: str) -> SeverePainGuidance:
    default = load_guidance(guidance_path(current_app.config["SCHEDULES_DIR"]))
    return for_clinic(clinic, default, language)


@bp.get("/")
def today() -> str:
    db = get_session()
    me = patient_session.current_patient(db)
    opioids = opioid_answers(db, me.plan)
    language = page_language()
    agenda = plan_today(me.plan, request_now(), opioids=opioids, language=language)
    # A paused or ended plan asks for nothing: no tasks, no check-ins due, no "not logged"
    # prompt (the pain log and the warning-signs check stay open; see the banner).
    running = me.plan.status == "active"
    done_keys = checked_off_on(db, me.plan, agenda.local_day) if running else set()
    check_ins = []
    for activity in agenda.check_ins if running else ():
        if activity.check_in == "pain":
            done, url = pain_logged_on(db, me.plan, agenda.local_day), url_for(".pain")
        elif activity.check_in == "opioids":
            # Answered on Today itself: one tap, changeable the same day.
            answer = opioids.by_day.get(agenda.local_day)
            check_ins.append({"activity": activity, "done": answer is not None, "answer": answer})
            continue
        else:
            done = warning_check_done_on(db, me.plan, agenda.local_day)
            url = url_for(".warning_signs")
        check_ins.append({"activity": activity, "done": done, "url": url})
    pain_due = any(c["activity"].check_in == "pain" for c in check_ins)
    return render_template(
        "patient/today.html",
        me=me,
        agenda=agenda,
        heading=day_heading(agenda, language),
        done_keys=done_keys,
        check_ins=check_ins,
        tasks=agenda.tasks if running else (),
        pain_missing=pain_due and not pain_logged_on(db, me.plan, agenda.local_day),
        questions=asked_on(db, me.plan, current_questionnaires(language), agenda.local_day),
        **_words(language),
    )


@bp.post("/tasks/<key>")
def check_task(key: str) -> Response:
    db = get_session()
    me = patient_session.current_recorder(db)
    now = request_now()
    agenda = plan_today(me.plan, now, language=page_language())  # the task's title as shown
    if me.plan.status != "active":
        # A page opened before the plan was paused or ended: nothing to check off now.
        flash(_plan_not_running(me.plan.status), "error")
        return redirect(url_for(".today"))
    task = next((t for t in agenda.tasks if t.key == key), None)
    if task is None:
        abort(404)
    action = request.form.get("action")
    if action not in ("done", "undo"):
        abort(400)
    if request.form.get("day") != agenda.local_day.isoformat():
        # The page was opened on an earlier day: change nothing, show today's list.
        flash(_("A new day has started, so nothing was changed. Here is today's list."), "error")
        return redirect(url_for(".today"))
    if action == "done":
        try:
            with db.begin_nested():
                db.add(
                    CheckOff(
                        plan_id=me.plan.id,
                        activity_key=key,
                        local_day=agenda.local_day,
                        created_at=now,
                        entered_by_caregiver_id=me.caregiver_id,
                    )
                )
        except IntegrityError:
            pass  # already checked off (a second tap, or two tabs): that is the same answer
        flash(_("Done: %(task)s.", task=task.title), "success")
    else:
        # Only today's check-off can be undone: the day is part of the condition.
        db.execute(
            delete(CheckOff).where(
                CheckOff.plan_id == me.plan.id,
                CheckOff.activity_key == key,
                CheckOff.local_day == agenda.local_day,
            )
        )
        # Fewer check-ins can make "no check-in" true: the next tick looks again.
        alerts.mark_due(db, me.plan.id, now)
        flash(_("Marked as not done: %(task)s.", task=task.title), "success")
    db.commit()
    return redirect(url_for(".today", _anchor=f"task-{key}"))


OPIOID_ANSWERS = {"yes": True, "no": False}


def _plan_not_running(status: str) -> str:
    if status == "paused":
        return _("Your recovery plan is paused, so nothing was changed.")
    return _("Your recovery plan is ended, so nothing was changed.")


@bp.post("/opioids")
def answer_opioids() -> Response:
    """Today's answer to "Are you taking opioid pain medicine today?" (one tap; a second
    tap on the other answer the same day changes it, and both are kept)."""
    db = get_session()
    me = patient_session.current_recorder(db)
    now = request_now()
    if me.plan.status != "active":
        flash(_plan_not_running(me.plan.status), "error")
        return redirect(url_for(".today"))
    taking = OPIOID_ANSWERS.get(request.form.get("taking", ""))
    if taking is None:
        return make_response(
            render_template(
                "patient/problem.html",
                me=me,
                message=_(
                    "Please tap Yes or No to answer the question about opioid pain "
                    "medicine. Your answer was not saved."
                ),
            ),
            400,
        )
    agenda = plan_today(me.plan, now)
    if request.form.get("day") != agenda.local_day.isoformat():
        flash(_("A new day has started, so nothing was changed. Here is today's list."), "error")
        return redirect(url_for(".today"))
    if not any(a.check_in == "opioids" for a in agenda.check_ins):
        abort(404)  # not asked today (or not in this plan)
    row, changed = opioid_rules.record_answer(
        db,
        plan_id=me.plan.id,
        local_day=agenda.local_day,
        taking=taking,
        now=now,
        caregiver_id=me.caregiver_id,
    )
    if changed and row.supersedes_id is not None:
        audit.record(
            db,
            now=now,
            action="patient.opioid_check_changed",
            **patient_session.actor_fields(me.patient.id, me.caregiver_id),
            clinic_id=me.patient.clinic_id,
            patient_id=me.patient.id,
            detail={"opioid_check_id": row.id, "supersedes_id": row.supersedes_id},
            remote_addr=request.remote_addr,
        )
    db.commit()
    if taking:
        flash(_("Saved: you take opioid pain medicine today. Please do not drive."), "success")
    else:
        flash(_("Saved: you do not take opioid pain medicine today."), "success")
    return redirect(url_for(".today", _anchor="opioid-check"))


# --- pain log --------------------------------------------------------------------------------


def _render_pain(
    me,
    form: PainForm,
    status: int = 200,
    problem: str | None = None,
    correcting: PainEntry | None = None,
) -> Response:
    db = get_session()
    day = local_day(request_now(), me.plan.timezone)
    return make_response(
        render_template(
            "patient/pain.html",
            me=me,
            form=form,
            score_words=SCORE_WORDS,
            context_choices=CONTEXT_CHOICES,
            entries=current_pain_on(db, me.plan, day),
            correcting=correcting,
            problem=problem,
        ),
        status,
    )


# Built once, run on the session's connection: no ORM work per score.
_INSERT_PAIN = insert(PainEntry.__table__)


@bp.route("/pain", methods=["GET", "POST"])
def pain() -> Response:
    db = get_session()
    if request.method == "GET":
        return _render_pain(patient_session.current_patient(db), PainForm())
    # The busiest write patients make: one query for the session check and the plan's
    # facts, one INSERT (no unit-of-work flush for an object nobody reads back), one UPDATE
    # marking the plan's alert rules due, and a second INSERT only for a severe score.
    plan = patient_session.signed_in_plan(db)
    patient_session.require_recorder(db, plan)  # a caregiver who may only view: nothing stored
    form = PainForm()
    if not form.validate():
        return _render_pain(
            patient_session.current_patient(db),
            form,
            400,
            problem=_("Your pain score was not saved."),
        )
    now = request_now()
    score = form.score_value
    entry = PainScore(
        id=0,
        score=score,
        context=form.context.data or None,
        local_day=local_day(now, plan.timezone),
    )
    result = db.connection().execute(
        _INSERT_PAIN,
        {
            "plan_id": plan.id,
            "score": entry.score,
            "context": entry.context,
            "note": form.note.data,
            "local_day": entry.local_day,
            "recorded_at": now,
            "entered_by_caregiver_id": plan.caregiver_id,
        },
    )
    # Severe pain reaches the care team's triage list at once; worsening and the other
    # rules at the scheduler's next tick (alerts.py, "When the rules run").
    # The alert before the plan's row: the tick writes in the same order (alerts, then
    # plans), so the two never wait on each other in a cycle.
    entry_id = result.inserted_primary_key[0]
    alert_id = alerts.raise_severe_pain_now(
        db,
        plan=plan,
        threshold=plan.severe_pain_threshold,
        entry=entry._replace(id=entry_id),
        now=now,
    )
    if alert_id is not None:
        paging.page_if_needed(db, alert_id, now)
    alerts.mark_due(db, plan.id, now)
    db.commit()
    flash(_("Thank you. Your pain score of %(score)s is saved.", score=score), "success")
    if score >= plan.severe_pain_threshold:
        # A severe score does not end at "saved": what to do now and whom to call.
        return redirect(url_for(".severe_pain", entry_id=entry_id))
    return redirect(url_for(".today"))


@bp.route("/pain/<int:entry_id>/fix", methods=["GET", "POST"])
def fix_pain(entry_id: int) -> Response:
    """Correct one of today's scores: a new entry supersedes it, and both are kept."""
    db = get_session()
    me = patient_session.current_recorder(db)
    original = patient_session.own_row_or_404(db, me, PainEntry, entry_id)
    now = request_now()
    today = local_day(now, me.plan.timezone)
    if request.method == "GET":
        problem = refusal(db, original, today=today)
        if problem is not None:
            return _render_pain(me, PainForm(formdata=None), 409, problem=problem)
        form = PainForm(
            formdata=None,
            data={
                "score": str(original.score),
                "context": original.context or "",
                "note": original.note or "",
            },
        )
        return _render_pain(me, form, correcting=original)
    form = PainForm()
    if not form.validate():
        return _render_pain(
            me, form, 400, problem=_("Your correction was not saved."), correcting=original
        )
    try:
        replacement = correct_pain_entry(
            db,
            original,
            PainValues(form.score_value, form.context.data or None, form.note.data),
            today=today,
            now=now,
            patient_id=me.patient.id,
            clinic_id=me.patient.clinic_id,
            remote_addr=request.remote_addr,
            caregiver_id=me.caregiver_id,
        )
    except CorrectionRefused as refused:
        db.rollback()
        return _render_pain(me, PainForm(formdata=None), 409, problem=str(refused))
    db.flush()
    # The care team sees on any open alert that cites the old score that it was corrected.
    alerts.note_correction(
        db, plan_id=me.plan.id, original=original, replacement=replacement, now=now
    )
    # A corrected score counts like a new one: severe pain alerts at once, worsening and
    # the other rules at the scheduler's next tick.
    threshold = me.plan.clinic.severe_pain_threshold
    alert_id = alerts.raise_severe_pain_now(
        db,
        plan=me.plan,
        threshold=threshold,
        entry=replacement,
        now=now,
    )
    if alert_id is not None:
        paging.page_if_needed(db, alert_id, now)
    alerts.mark_due(db, me.plan.id, now)
    db.commit()
    flash(
        _(
            "Corrected. Your pain score is now %(score)s "
            "(it was %(before)s; both are kept in your record).",
            score=replacement.score,
            before=original.score,
        ),
        "success",
    )
    if replacement.score >= threshold:
        return redirect(url_for(".severe_pain", entry_id=replacement.id))
    return redirect(url_for(".pain"))


@bp.get("/pain/<int:entry_id>/severe")
def severe_pain(entry_id: int) -> Response:
    """After a severe score: what to do now, whom to call, and who knows (SPEC section 6)."""
    db = get_session()
    me = patient_session.current_patient(db)
    entry = patient_session.own_row_or_404(db, me, PainEntry, entry_id)
    clinic = me.plan.clinic
    corrected = db.scalar(select(PainEntry.id).where(PainEntry.supersedes_id == entry.id))
    if entry.score < clinic.severe_pain_threshold or corrected is not None:
        return redirect(url_for(".pain"))  # not severe (any more): today's scores
    alert = _alert_about(db, me.plan.id, alerts.SEVERE_PAIN, entry.id)
    return make_response(
        render_template(
            "patient/severe_pain.html",
            me=me,
            entry=entry,
            guidance=_guidance(clinic, page_language()),
            notice=_who_knows(db, me, alert),
        )
    )


# --- warning-signs check ---------------------------------------------------------------------


def _render_warning_signs(
    me, form, status: int = 200, problem: str | None = None, correcting=None
) -> Response:
    db = get_session()
    day = local_day(request_now(), me.plan.timezone)
    signs = _shown_signs()
    return make_response(
        render_template(
            "patient/warning_signs.html",
            me=me,
            form=form,
            signs=signs,
            fields=[(sign, form[field_name(sign)]) for sign in signs],
            answer_choices=ANSWER_CHOICES,
            done_today=warning_check_done_on(db, me.plan, day),
            problem=problem,
            correcting=correcting,
        ),
        status,
    )


def _store_answers(db, me, signs, form, original: SymptomReport | None = None) -> SymptomReport:
    """Store the answers (as a correction of ``original`` if given), alert on red flags,
    and commit. Raises CorrectionRefused when ``original`` was already corrected."""
    now = request_now()
    answers = answers_of(form, signs)
    level = severity(signs, answers)
    report = add_symptom_report(
        db,
        plan_id=me.plan.id,
        local_day=original.local_day if original else local_day(now, me.plan.timezone),
        now=now,
        answers=answers,
        severity=level,
        supersedes=original,
        caregiver_id=me.caregiver_id,
    )
    db.flush()
    # The rules read symptom reports too (red flags, days with a check-in): the next tick
    # evaluates the plan; a red flag is raised here and now as well (before the plan's row
    # is marked: the tick also writes alerts before plans).
    if level != "none":
        # Raised, or an open red-flag alert escalated or updated with this report; then the
        # on-call contact paged if the clinic's rules call for it (paging.py).
        alert = alerts.raise_red_flag(db, plan=me.plan, report=report, now=now)
        if alert is not None:
            paging.page_if_needed(db, alert.id, now)
    alerts.mark_due(db, me.plan.id, now)
    if original is not None:
        # A red-flag alert already raised stays open: the care team decides, not the change.
        audit.record(
            db,
            now=now,
            action="patient.symptom_report_corrected",
            **patient_session.actor_fields(me.patient.id, me.caregiver_id),
            clinic_id=me.patient.clinic_id,
            patient_id=me.patient.id,
            detail={"symptom_report_id": report.id, "supersedes_id": original.id},
            remote_addr=request.remote_addr,
        )
    db.commit()
    return report


@bp.route("/warning-signs", methods=["GET", "POST"])
def warning_signs() -> Response:
    db = get_session()
    me = patient_session.current_patient(db)
    signs = _signs()
    form = warning_signs_form_class(signs)()
    if request.method == "GET":
        return _render_warning_signs(me, form)
    patient_session.require_recorder(db, me)
    if not form.validate():
        return _render_warning_signs(
            me, form, 400, problem=_("Please answer every question, then send your answers again.")
        )
    report = _store_answers(db, me, signs, form)
    return redirect(url_for(".warning_signs_result", report_id=report.id))


@bp.get("/warning-signs/<int:report_id>")
def warning_signs_result(report_id: int) -> str:
    db = get_session()
    me = patient_session.current_patient(db)
    report = patient_session.own_row_or_404(db, me, SymptomReport, report_id)
    signs = _shown_signs()
    # Retired signs too: an older report may hold answers under their keys.
    flagged = [s for s in with_retired(signs) if report.answers.get(s.key)]
    today = local_day(request_now(), me.plan.timezone)
    notice = None
    if flagged:
        notice = _who_knows(db, me, _alert_about(db, me.plan.id, alerts.RED_FLAG, report.id))
    return render_template(
        "patient/warning_signs_result.html",
        me=me,
        report=report,
        notice=notice,
        can_change=report_refusal(db, report, today=today) is None,
        call_911=[s for s in flagged if s.action == "call_911"],
        call_team=[s for s in flagged if s.action == "call_team"],
    )


@bp.route("/warning-signs/<int:report_id>/change", methods=["GET", "POST"])
def change_warning_signs(report_id: int) -> Response:
    """Change today's answers after a mistake: a new report supersedes, both are kept."""
    db = get_session()
    me = patient_session.current_recorder(db)
    original = patient_session.own_row_or_404(db, me, SymptomReport, report_id)
    signs = _signs()
    form_class = warning_signs_form_class(signs)
    problem = report_refusal(db, original, today=local_day(request_now(), me.plan.timezone))
    if problem is not None:
        return _render_warning_signs(me, form_class(formdata=None), 409, problem=problem)
    if request.method == "GET":
        given = {
            field_name(s): "yes" if original.answers.get(s.key) else "no"
            for s in signs
            if s.key in original.answers
        }
        return _render_warning_signs(me, form_class(formdata=None, data=given), correcting=original)
    form = form_class()
    if not form.validate():
        return _render_warning_signs(
            me,
            form,
            400,
            problem=_("Please answer every question, then send your answers again."),
            correcting=original,
        )
    try:
        report = _store_answers(db, me, signs, form, original)
    except CorrectionRefused as refused:
        db.rollback()
        return _render_warning_signs(me, form_class(formdata=None), 409, problem=str(refused))
    return redirect(url_for(".warning_signs_result", report_id=report.id))


# --- progress --------------------------------------------------------------------------------


@bp.get("/progress")
def progress() -> str:
    db = get_session()
    me = patient_session.current_patient(db)
    language = page_language()
    agenda = plan_today(
        me.plan, request_now(), opioids=opioid_answers(db, me.plan), language=language
    )
    records = recovery_days(db, me.plan, agenda.local_day)
    return render_template(
        "patient/progress.html",
        me=me,
        agenda=agenda,
        heading=day_heading(agenda, language),
        records=records,
        # Scores as stored; the questionnaire's words (title, time points, bands) shown in
        # the page's language.
        score_histories=histories(
            me.plan,
            current_questionnaires(language),
            responses_by_plan(db, [me.plan.id])[me.plan.id],
        ),
        chart=pain_chart(records, me.plan.duration_days, agenda.day_number, language=language),
        **_words(language),
    )


@bp.get("/card")
def card() -> str:
    """The printable plan and warning-sign card (patient_card.py). No QR code here: the
    raw link is never stored, and a patient's session must not mint a long-lived link
    (nor rotate it, which would sign this device out); the care team's card has one."""
    db = get_session()
    me = patient_session.current_patient(db)
    today = local_day(request_now(), me.plan.timezone)
    return render_template(
        "patient/card.html",
        me=me,
        card=build_card(
            me.plan,
            me.patient.clinic,
            me.patient.name,
            _signs(),
            today=today,
            language=page_language(),
        ),
    )


# --- the language of the pages --------------------------------------------------------------


def _back_to(target: str | None) -> str:
    """Where to go after choosing a language: the patient page it was chosen on, else Today.
    Only a path of this site's patient pages: never another site."""
    if target and re.fullmatch(r"/me(/[A-Za-z0-9_\-/]*)?", target) and "//" not in target:
        return target
    return url_for(".today")


@bp.post("/language")
def change_language() -> Response:
    """Change the language of the pages (and of messages) for whoever is signed in: the
    patient's own, or a caregiver's own when a caregiver signed in for them."""
    db = get_session()
    me = patient_session.current_patient(db)
    chosen = request.form.get("language", "")
    if chosen not in LANGUAGES:
        message = _("Please choose one of the languages shown on the page. Nothing was changed.")
        return make_response(render_template("patient/problem.html", me=me, message=message), 400)
    caregiver_id = getattr(me, "caregiver_id", None)
    person = db.get(Caregiver, caregiver_id) if caregiver_id is not None else me.patient
    if person is None:
        abort(404)
    before = person.language
    if before != chosen:
        person.language = chosen
        if caregiver_id is not None:
            actor = {"actor_type": "caregiver", "actor_caregiver_id": caregiver_id}
        else:
            actor = {"actor_type": "patient", "actor_patient_id": me.patient.id}
        audit.record(
            db,
            now=request_now(),
            action="patient.language_changed",
            **actor,
            clinic_id=me.patient.clinic_id,
            patient_id=me.patient.id,
            detail={"from": before, "to": chosen, "caregiver_id": caregiver_id},
            remote_addr=request.remote_addr,
        )
        db.commit()
    g.language = chosen
    refresh_locale()  # the message below is in the language just chosen
    flash(_("Saved: your pages are now in this language."), "success")
    return redirect(_back_to(request.form.get("next")))


@bp.post("/sign-out")
def sign_out() -> Response:
    # Ends the session on the server too: a copy of this cookie stops working at once.
    patient_session.end_session(get_session(), request_now())
    return make_response(render_template("patient/signed_out.html", just_signed_out=True))


# --- errors on patient pages: plain words, the same page where possible ----------------------


@bp.errorhandler(CSRFError)
def expired_form(_error: CSRFError) -> Response:
    return _form_problem(EXPIRED_FORM, 400)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    return _form_problem(
        _l(
            "That was far too much text, so nothing was saved. "
            "Please keep your note to 500 characters or fewer."
        ),
        413,
    )


def _form_problem(message: str, status: int) -> Response:
    db = get_session()
    try:
        me = patient_session.current_patient(db)
    except HTTPException as signed_out:  # raised inside an error handler: answer with it here
        return signed_out.get_response()
    if request.endpoint in ("patient.pain", "patient.fix_pain"):
        form = PainForm(formdata=None)
        return _render_pain(me, form, status, problem=message)
    if request.endpoint in ("patient.warning_signs", "patient.change_warning_signs"):
        form = warning_signs_form_class(_signs())(formdata=None)
        return _render_warning_signs(me, form, status, problem=message)
    return make_response(render_template("patient/problem.html", me=me, message=message), status)


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> Response:
    return make_response(render_template("patient/not_found.html"), 404)


@link_bp.errorhandler(TooManyRequests)
def link_limited(_error: TooManyRequests) -> Response:
    return make_response(render_template("patient/link_limited.html"), 429)


def _page_long_day(day: date) -> str:
    return long_day(day, language=page_language())


def _page_short_day(day: date, *, weekday: bool = False) -> str:
    return short_day(day, weekday=weekday, language=page_language())


def _page_clock_time(at: datetime, tz_name: str) -> str:
    return clock_time(at, tz_name, language=page_language())


def _page_at_clock_time(at: datetime, tz_name: str) -> str:
    """ "at 9:05 am" in the page's language ("a la 1:05 p. m." at one o'clock in Spanish)."""
    return at_clock_time(at, tz_name, language=page_language())


def _page_number(value: float) -> str:
    """A score as "%g" writes it ("3.5", "12"); Spanish "3,5"."""
    return number_text(value, language=page_language())


def _page_decimal(value: float) -> str:
    """A rounded mean as Python writes it ("3.0", "3.5"); Spanish "3,0", "3,5"."""
    language = page_language()
    return str(value) if language == "en" else format_decimal(value, "0.0", locale=language)


def _language_choices() -> list[tuple[str, str]]:
    """The chooser's languages, each named in itself ("English", "Español")."""
    return list(LANGUAGE_NAMES.items())


def init_app(app: Flask) -> None:
    app.register_blueprint(link_bp)
    app.register_blueprint(bp)
    rate_limits.limit_link_sign_in(app, "patient_link.link_sign_in")
    # Days, times and numbers in the page's language (English on the care team's pages).
    app.add_template_filter(_page_long_day, "long_day")
    app.add_template_filter(_page_short_day, "short_day")
    app.add_template_filter(_page_number, "number")
    app.add_template_filter(_page_decimal, "decimal")
    app.add_template_filter(tel_href, "tel_href")
    app.add_template_global(_page_clock_time, "clock_time")
    app.add_template_global(_page_at_clock_time, "at_clock_time")
    app.add_template_global(_language_choices, "language_choices")
    app.add_template_global(care_numbers, "care_numbers")
