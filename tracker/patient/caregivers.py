"""The patient's "People helping me" page: ``/me/caregivers``.

The patient lists the caregivers they added, adds one (their consent is the patient's own:
``consent="patient"``) and is shown that person's new personal link once, or removes one
(which ends that person's sessions at once: tracker/plans/caregivers.py). Only the patient
may do this: a caregiver signed in for them gets a 403 and a kind page.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, NotFound
from wtforms import StringField

from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import LANGUAGE_NAMES
from tracker.core.models import LANGUAGES, Caregiver
from tracker.patient import session as patient_session
from tracker.patient.forms import PatientForm
from tracker.plans import caregivers as domain
from tracker.plans.links import link_url
from tracker.reminders.planning import ChannelSettings, choose_channel

bp = Blueprint("patient_caregivers", __name__, url_prefix="/me/caregivers")


# Plain text fields rendered as radio buttons and a list by the template (which owns the
# markup); the domain checks every value (tracker/plans/caregivers.py).
SCOPE_CHOICES = [
    ("view", lazy_gettext("Look at my pages only")),
    ("act", lazy_gettext("Look at my pages, and also record things for me")),
]
REMINDER_CHOICES = [("yes", lazy_gettext("Yes")), ("no", lazy_gettext("No"))]


class CaregiverForm(PatientForm):
    name = StringField(lazy_gettext("Their name"))
    relation = StringField(lazy_gettext("How are they related to you? (for example: daughter)"))
    email = StringField(lazy_gettext("Their email (optional if you give a phone)"))
    phone = StringField(lazy_gettext("Their mobile phone (optional if you give an email)"))
    scope = StringField(lazy_gettext("What may they do?"), default="view")
    reminder = StringField(lazy_gettext("Should they get the daily reminder too?"), default="no")
    language = StringField(lazy_gettext("Their language"))


def _messages() -> dict[str, str]:
    """The patient's words for each field the domain refuses (its messages are the care
    team's)."""
    return {
        "name": _("Please write their name (up to 200 letters)."),
        "relation": _(
            "Please write how they are related to you, like daughter or friend (up to 40 letters)."
        ),
        "contact": _("Please give their email or their mobile phone number (or both)."),
        "email": _("Please check the email. It should look like ana@example.org."),
        "phone": _("Please check the phone number. It should look like 555 201 0142."),
        "scope": _("Please choose what they may do."),
        "language": _("Please choose a language from the list."),
        "reminder_channel": _(
            "We cannot send reminders to this contact. Give their email or a mobile "
            "number that can get texts, or choose No."
        ),
        "consent": _("Something went wrong. Nothing was saved. Please try again."),
        "consent_note": _("Something went wrong. Nothing was saved. Please try again."),
    }


def _patient_only(db: Session) -> patient_session.SignedInPatient:
    """The signed-in patient; a caregiver signed in for them may not manage caregivers."""
    me = patient_session.current_patient(db)
    if me.caregiver is not None:
        abort(make_response(render_template("patient/caregivers_patient_only.html", me=me), 403))
    return me


def _form() -> CaregiverForm:
    return CaregiverForm()


def _render(
    me,
    form: CaregiverForm,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    new_link: str | None = None,
    added: Caregiver | None = None,
) -> Response:
    return make_response(
        render_template(
            "patient/caregivers.html",
            me=me,
            form=form,
            caregivers=domain.current_caregivers(get_session(), me.patient.id),
            errors=errors or {},
            new_link=new_link,
            added=added,
            choices={
                "scope": SCOPE_CHOICES,
                "reminder": REMINDER_CHOICES,
                "language": [(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES],
            },
        ),
        status,
    )


@bp.get("/")
def index() -> Response:
    me = _patient_only(get_session())
    form = _form()
    if not form.is_submitted():
        form.language.data = me.patient.language
    return _render(me, form)


def _reminder_channel(form: CaregiverForm, me) -> str | None:
    if form.reminder.data != "yes":
        return None
    # The same choice as for the patient's own reminders: email when it can be sent, else
    # the clinic's channel (texts, in most clinics).
    email = (form.email.data or "").strip() or None
    return choose_channel(
        ChannelSettings.from_config(current_app.config),
        patient_email=email,
        clinic_channel=me.patient.clinic.default_channel,
    )


@bp.post("/")
def add() -> Response:
    db = get_session()
    me = _patient_only(db)
    form = _form()
    now = request_now()
    errors: dict[str, str] = {}
    if form.reminder.data not in ("yes", "no"):
        errors["reminder_channel"] = _("Please choose Yes or No for the daily reminder.")
    try:
        if errors:
            raise domain.CaregiverError(errors)
        caregiver = domain.add_caregiver(
            db,
            me.patient,
            name=form.name.data,
            relation=form.relation.data,
            email=form.email.data,
            phone=form.phone.data,
            scope=form.scope.data,
            language=form.language.data,
            reminder_channel=_reminder_channel(form, me),
            consent="patient",
            now=now,
            remote_addr=request.remote_addr,
        )
        raw = domain.issue_caregiver_link(
            db,
            caregiver,
            me.plan,
            actor=domain.Actor.patient(me.patient.id, request.remote_addr),
            now=now,
            grace_days=int(current_app.config["LINK_GRACE_DAYS"]),
            rotate=False,
        )
    except domain.CaregiverError as refused:
        db.rollback()
        messages = _messages()
        shown = {
            field: errors.get(field) or messages.get(field, messages["consent"])
            for field in refused.errors
        }
        return _render(me, form, status=400, errors=shown)
    db.commit()
    # Shown once, on this page only: only the link's hash is stored.
    return _render(
        me,
        _form(),
        new_link=link_url(current_app.config["BASE_URL"], raw),
        added=caregiver,
    )


def _own_caregiver(db: Session, me, caregiver_id: int) -> Caregiver:
    """One of the patient's current caregivers; anyone else's (or a removed one) is a 404."""
    caregiver = db.get(Caregiver, caregiver_id)
    if caregiver is None or caregiver.patient_id != me.patient.id or caregiver.removed_at:
        abort(404)
    return caregiver


@bp.route("/<int:caregiver_id>/remove", methods=["GET", "POST"])
def remove(caregiver_id: int) -> Response:
    db = get_session()
    me = _patient_only(db)
    caregiver = _own_caregiver(db, me, caregiver_id)
    if request.method == "GET":
        return make_response(
            render_template("patient/caregiver_remove.html", me=me, caregiver=caregiver)
        )
    domain.remove_caregiver(
        db,
        caregiver,
        actor=domain.Actor.patient(me.patient.id, request.remote_addr),
        now=request_now(),
    )
    db.commit()
    flash(_("%(name)s was removed. Their link no longer works.", name=caregiver.name), "success")
    return redirect(url_for(".index"))


@bp.errorhandler(CSRFError)
def expired_form(_error: CSRFError) -> Response:
    try:
        me = patient_session.current_patient(get_session())
    except HTTPException as signed_out:  # raised inside an error handler: answer with it here
        return signed_out.get_response()
    message = _(
        "This page had been open too long, so nothing was saved. "
        "Please fill it in again and send it."
    )
    return make_response(render_template("patient/problem.html", me=me, message=message), 400)


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> Response:
    return make_response(render_template("patient/not_found.html"), 404)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
