"""The patient's questionnaire page: ``/me/questions/<questionnaire id>``.

Open only while one of the questionnaire's time points is open for the signed-in patient
(from its day after the procedure, for its window of local days); any other time, and for a
questionnaire not in the patient's plan, it is a 404. Answering again within the window
replaces the answers; the previous ones are kept in the audit log (outcomes/responses.py).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, NotFound

from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import language_or_default
from tracker.core.timeutil import local_day
from tracker.outcomes.questionnaires import (
    AnswerError,
    current_questionnaires,
    questionnaires_of,
)
from tracker.outcomes.responses import Asked, asked_on, record_response
from tracker.patient import session as patient_session

bp = Blueprint("patient_questions", __name__, url_prefix="/me/questions")

EXPIRED_FORM = _l(
    "This page had been open too long, so nothing was saved. Please fill it in again and send it."
)


def _asked(db, me, questionnaire_id: str) -> Asked:
    today = local_day(request_now(), me.plan.timezone)
    found = [
        a
        for a in asked_on(db, me.plan, current_questionnaires(), today)
        if a.questionnaire.id == questionnaire_id
    ]
    if not found:
        abort(404)
    return found[0]


def _render(me, asked: Asked, chosen: dict[str, int | None], status: int = 200, problem=None):
    # Answers are checked and scored with the English questionnaire (``asked``); the page
    # shows its words in the page's language (keys and values are the same).
    locale = get_locale()
    language = language_or_default(locale.language if locale is not None else None)
    return make_response(
        render_template(
            "patient/questions.html",
            me=me,
            asked=asked,
            questionnaire=asked.questionnaire.in_language(language),
            chosen=chosen,
            problem=problem,
        ),
        status,
    )


@bp.route("/<questionnaire_id>", methods=["GET", "POST"])
def answer(questionnaire_id: str) -> Response:
    db = get_session()
    me = patient_session.current_patient(db)
    asked = _asked(db, me, questionnaire_id)
    questionnaire = asked.questionnaire
    if request.method == "GET":
        previous = asked.response.answers if asked.response is not None else {}
        return _render(me, asked, dict(previous))
    patient_session.require_recorder(db, me)  # a caregiver who may only view: nothing stored

    if request.form.get("point") != str(asked.point.day):
        # The page was opened for an earlier time point: its window has closed since.
        flash(_("Those questions are closed now, so nothing was saved."), "error")
        return redirect(url_for("patient.today"))
    chosen: dict[str, int | None] = {}
    bad: list[str] = []
    for item in questionnaire.items:
        raw = request.form.get(item.key, "").strip()
        if raw == "":
            chosen[item.key] = None
            continue
        value = int(raw) if raw.isdigit() and len(raw) <= 3 else None
        if value is None or item.option(value) is None:
            bad.append(item.key)
            chosen[item.key] = None
        else:
            chosen[item.key] = value
    if bad:
        return _render(
            me,
            asked,
            chosen,
            400,
            _(
                "One answer was not one of the choices. Please choose again. "
                "Your answers were not saved."
            ),
        )
    answered = sum(v is not None for v in chosen.values())
    needed = len(questionnaire.items) - questionnaire.max_missing
    if answered < needed:
        return _render(
            me,
            asked,
            chosen,
            400,
            _(
                "Please answer at least %(needed)s of the %(count)s questions. "
                "Your answers were not saved.",
                needed=needed,
                count=len(questionnaire.items),
            ),
        )
    now = request_now()
    try:
        _row, _score, replaced = record_response(
            db,
            plan=me.plan,
            questionnaire=questionnaire,
            point=asked.point,
            answers=chosen,
            today=local_day(now, me.plan.timezone),
            now=now,
            patient_id=me.patient.id,
            remote_addr=request.remote_addr,
            caregiver_id=me.caregiver_id,
        )
    except AnswerError:  # checked above; kept so a change to the checks cannot store junk
        db.rollback()
        return _render(me, asked, chosen, 400, _("Your answers were not saved."))
    db.commit()
    if replaced:
        flash(_("Thank you. Your new answers replace the ones you sent before."), "success")
    else:
        flash(_("Thank you. Your answers were saved."), "success")
    return redirect(url_for("patient.today"))


@bp.errorhandler(CSRFError)
def expired_form(_error: CSRFError) -> Response:
    db = get_session()
    try:
        me = patient_session.current_patient(db)
    except HTTPException as signed_out:  # raised inside an error handler: answer with it here
        return signed_out.get_response()
    return make_response(render_template("patient/problem.html", me=me, message=EXPIRED_FORM), 400)


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> Response:
    return make_response(render_template("patient/not_found.html"), 404)


def init_app(app: Flask) -> None:
    # Validated at start, like plan templates: a broken file stops the app with its name.
    questionnaires_of(app.config["SCHEDULES_DIR"])
    app.register_blueprint(bp)
