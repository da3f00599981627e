"""Enrolment and handing over the personal link: the form, the time-zone picker, and what
the care team can do with a link just issued (a QR code on screen, a printed handout, or
the link sent now by email or text message through the reminder channels).

The raw link is never stored (only its hash, tracker/plans/links.py): the page that shows
it once carries it in its own forms, and each action checks that it is still a live link
of that patient before using it (``_posted_link``). Nothing here writes it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from flask_babel import force_locale
from markupsafe import Markup

from tracker.care.auth import coordinator_required, get_clinic_patient, record
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    language_or_default,
    translator,
)
from tracker.core.models import LANGUAGES, PROCEDURES, CarePlan, Clinic, Patient
from tracker.core.phones import sms_number
from tracker.core.timeutil import common_timezones, local_day
from tracker.plans.card import build_card, link_qr_svg
from tracker.plans.enrollment import (
    FIELD_ORDER,
    EnrollmentError,
    date_range,
    enroll,
    validate_request,
)
from tracker.plans.links import LINK_PATH, find_valid_token, link_url
from tracker.plans.warning_signs import current_signs
from tracker.reminders.channels import Channels, DeliveryError
from tracker.reminders.sms_rules import opted_out_at
from tracker.reminders.welcome import link_message
from tracker.web.time_format import clock_with_zone

bp = Blueprint("enrolment", __name__, url_prefix="/coordinator", template_folder="templates")

FIELD_LABELS = {
    "name": "Full name",
    "procedure": "Procedure",
    "procedure_date": "Procedure date",
    "levels": "Levels treated",
    "timezone": "Patient's time zone",
    "reminder_time": "Daily reminder time",
    "email": "Email",
    "phone": "Mobile phone",
}
assert tuple(FIELD_LABELS) == FIELD_ORDER
# The patient's language (their pages, reminders, texts and card), chosen here and changed
# later on the patient page or by the patient; the care team's pages stay in English.
LANGUAGE_LABEL = "Patient's language"
LANGUAGE_ERROR = "Choose the language of the patient's pages and messages: English or Español."

# The zones most of a US clinic's patients live in, with the names people use for them.
# Offered after the clinic's own zone and before the full list (every zoneinfo zone).
COMMON_ZONES = (
    ("America/New_York", "Eastern time (New York)"),
    ("America/Chicago", "Central time (Chicago)"),
    ("America/Denver", "Mountain time (Denver)"),
    ("America/Phoenix", "Arizona, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific time (Los Angeles)"),
    ("America/Anchorage", "Alaska time (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii time (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic time (Puerto Rico)"),
    ("Europe/London", "UK time (London)"),
)
_COMMON_LABELS = dict(COMMON_ZONES)


@dataclass(frozen=True)
class ZoneOption:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class ZoneGroup:
    label: str
    options: tuple[ZoneOption, ...]


def _zone_label(name: str) -> str:
    common = _COMMON_LABELS.get(name)
    return f"{common} · {name}" if common else name.replace("_", " ")


def timezone_groups(clinic_zone: str, selected: str) -> list[ZoneGroup]:
    """The time-zone picker: the clinic's zone, then the common ones, then every zone.

    A zone may be listed in more than one group (the full list stays complete and in
    order); only its first option is marked selected.
    """
    groups = [
        ("This clinic's time zone", [clinic_zone]),
        ("Common time zones", [z for z, _ in COMMON_ZONES if z != clinic_zone]),
        ("All time zones", common_timezones()),
    ]
    chosen = False
    result = []
    for label, names in groups:
        options = []
        for name in names:
            is_selected = not chosen and name == selected
            chosen = chosen or is_selected
            options.append(ZoneOption(name, _zone_label(name), is_selected))
        result.append(ZoneGroup(label, tuple(options)))
    return result


def _form_values(the_clinic: Clinic) -> dict[str, str]:
    if request.method == "POST":
        return {name: (request.form.get(name) or "")[:300] for name in (*FIELD_ORDER, "language")}
    values = {name: "" for name in FIELD_ORDER}
    values.update(timezone=the_clinic.timezone, reminder_time="09:00", language=DEFAULT_LANGUAGE)
    return values


def enrol_page(the_clinic: Clinic) -> Any:
    """The enrolment form (GET), or enrolment (POST): every error at once, each beside its
    field, the values as typed, nothing stored; on success the new link, shown once."""
    values = _form_values(the_clinic)
    errors: dict[str, str] = {}
    now = request_now()
    if request.method == "POST":
        templates = current_app.extensions["tracker.templates"]
        # No choice posted (a form from before the choice existed): the default, English.
        language = values["language"].strip() or DEFAULT_LANGUAGE
        fields = {name: values[name] for name in FIELD_ORDER}
        try:
            enrolment = validate_request(templates=templates, now=now, **fields)
        except EnrollmentError as exc:
            errors = dict(exc.errors)
        if language not in LANGUAGES:
            errors["language"] = LANGUAGE_ERROR
        if not errors:
            db = get_session()
            result = enroll(
                db,
                the_clinic,
                enrolment,
                templates=templates,
                now=now,
                grace_days=current_app.config["LINK_GRACE_DAYS"],
            )
            result.patient.language = language
            db.flush()
            record(
                "patient.enrol",
                patient_id=result.patient.id,
                plan_id=result.plan.id,
                language=language,
            )
            db.commit()
            return render_link_issued(
                result.patient,
                link_url(current_app.config["BASE_URL"], result.link_token),
                heading="Patient enrolled",
            )
    first, last = date_range(now, the_clinic.timezone)
    return (
        render_template(
            "coordinator/enrol.html",
            values=values,
            errors=errors,
            labels={**FIELD_LABELS, "language": LANGUAGE_LABEL},
            language_names=LANGUAGE_NAMES,
            procedures=PROCEDURES,
            zone_groups=timezone_groups(the_clinic.timezone, values["timezone"].strip()),
            date_min=first.isoformat(),
            date_max=last.isoformat(),
        ),
        400 if errors else 200,
    )


# --- the new link: QR code, handout, send now -------------------------------------------------


@dataclass(frozen=True)
class LinkChannel:
    """One way to send the link now: ``channel`` is the reminder channel's name."""

    channel: str
    label: str  # "Email", "Text message"
    address: str | None  # the patient's email or phone, when they have one
    problem: str | None  # why it cannot be used, in words; None when it can

    @property
    def ready(self) -> bool:
        return self.problem is None


def _webhook_url(clinic: Clinic) -> str | None:
    return clinic.webhook_url or current_app.config.get("WEBHOOK_URL") or None


def link_channels(patient: Patient) -> list[LinkChannel]:
    """Email and text message, each ready or with the reason it is not: the deployment's
    SMTP server and the clinic's SMS gateway are the reminders' own channels."""
    email_problem = None
    if not current_app.config.get("SMTP_HOST"):
        email_problem = "Email is not set up for this clinic."
    elif not patient.email:
        email_problem = f"{patient.name} has no email address on file."
    sms_problem = None
    number = sms_number(patient.phone)
    if not _webhook_url(patient.clinic):
        sms_problem = "Text messages are not set up for this clinic."
    elif not patient.phone:
        sms_problem = f"{patient.name} has no mobile number on file."
    elif number is None:
        sms_problem = f"The number on file, {patient.phone}, cannot get text messages."
    elif opted_out_at(get_session(), number) is not None:
        # SPEC section 6: a number that texted STOP gets no text until it texts START.
        sms_problem = f"{patient.phone} texted STOP: no text goes to it until it texts START."
    return [
        LinkChannel("email", "Email", patient.email, email_problem),
        LinkChannel("webhook", "Text message", number and patient.phone, sms_problem),
    ]


def link_token_of(link: str) -> str:
    """The raw token at the end of a personal link (what the forms post back)."""
    return link.rsplit(LINK_PATH, 1)[-1]


def link_actions(patient: Patient, link: str) -> dict[str, Any]:
    """What the link page offers (a template global, so every page that shows a new link
    offers the same): the QR code, the token for the forms, and the channels."""
    return {
        "qr": link_qr_svg(link, label=f"QR code of {patient.name}'s personal link"),
        "token": link_token_of(link),
        "channels": link_channels(patient),
    }


def render_link_issued(
    patient: Patient,
    link: str,
    *,
    heading: str,
    rotated: bool = False,
    sent: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "coordinator/link_issued.html",
            patient=patient,
            link=link,
            heading=heading,
            rotated=rotated,
            sent=sent,
            problem=problem,
        ),
        status,
    )


def _posted_link(patient: Patient) -> str | None:
    """The link posted back by the link page, if it is still a live link of ``patient``."""
    raw = (request.form.get("token") or "").strip()
    token = find_valid_token(get_session(), raw, now=request_now())
    if token is None or token.patient_id != patient.id:
        return None
    return link_url(current_app.config["BASE_URL"], raw)


def _link_gone(patient: Patient) -> Any:
    flash(
        "That personal link no longer works (a newer one was issued, or it was turned off). "
        "Issue a new link here to print or send it.",
        "error",
    )
    return redirect(url_for("coordinator.patient_detail", patient_id=patient.id, _anchor="link"))


def _current_plan(patient: Patient) -> CarePlan:
    if not patient.plans:
        abort(404)
    return patient.plans[-1]


@bp.post("/patients/<int:patient_id>/link/handout")
@coordinator_required
def link_handout(patient_id: int) -> Any:
    """A one-page handout of the link just issued: its QR code, the link written out, the
    warning signs and numbers to call (from the plan card), for the printer."""
    patient = get_clinic_patient(patient_id)
    link = _posted_link(patient)
    if link is None:
        return _link_gone(patient)
    plan = _current_plan(patient)
    today = local_day(request_now(), plan.timezone)
    # The sheet is the patient's: in their language; the page around it is the care team's.
    language = language_or_default(patient.language)
    card = build_card(
        plan, patient.clinic, patient.name, current_signs(), today=today, language=language
    )
    qr_label = translator(language).gettext("QR code of %(name)s's personal link") % {
        "name": patient.name
    }
    with force_locale(language):
        printed = Markup(  # noqa: S704 - our own template's output, escaped by Jinja
            render_template(
                "card/handout.html",
                patient_name=patient.name,
                link=link,
                qr=link_qr_svg(link, label=qr_label),
                card=card,
            )
        )
    record("link.handout", patient_id=patient.id)
    get_session().commit()
    return render_template(
        "coordinator/link_handout.html",
        patient=patient,
        link=link,
        card=card,
        printed_handout=printed,
    )


@bp.post("/patients/<int:patient_id>/link/send")
@coordinator_required
def send_link(patient_id: int) -> Any:
    """Send the link just issued now, by email or text message, through the reminder
    channels; audited either way. A channel that fails says so: nothing is claimed sent."""
    patient = get_clinic_patient(patient_id)
    link = _posted_link(patient)
    if link is None:
        return _link_gone(patient)
    heading = "Personal link"
    wanted = request.form.get("channel")
    choice = next((c for c in link_channels(patient) if c.channel == wanted), None)
    if choice is None or not choice.ready:
        problem = choice.problem if choice else "Choose email or text message."
        return render_link_issued(patient, link, heading=heading, problem=problem, status=400)
    now = request_now()
    plan = _current_plan(patient)
    message = link_message(
        patient,
        patient.clinic,
        link,
        local_day=local_day(now, plan.timezone),
        signs=current_signs(),
    )
    channels = Channels.from_config(current_app.config)
    how = "email" if choice.channel == "email" else "text message"
    try:
        channels.send(choice.channel, message, webhook_url=_webhook_url(patient.clinic))
    except DeliveryError as exc:
        record(
            "link.send_failed",
            patient_id=patient.id,
            channel=choice.channel,
            to=choice.address,
            error=str(exc),
        )
        get_session().commit()
        problem = (
            f"The {how} was not sent: {exc}. {patient.name} has not received the link. "
            "Try again later, or print the handout or show the QR code instead."
        )
        return render_link_issued(patient, link, heading=heading, problem=problem, status=502)
    finally:
        channels.close()
    record("link.send", patient_id=patient.id, channel=choice.channel, to=choice.address)
    get_session().commit()
    sent = f"Sent by {how} to {choice.address} at {clock_with_zone(now, patient.clinic.timezone)}."
    return render_link_issued(patient, link, heading=heading, sent=sent)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(link_actions, "link_actions")
