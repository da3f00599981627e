"""The care team's view of two-way texts: a patient's conversation, the texting status shown
on the triage row and the patient page, and the clinic's quiet hours (admins).

- ``/coordinator/patients/<id>/texts``: the patient's texts in and out, oldest first, each
  with what it was taken to mean (a pain score, answers, STOP, not understood) and, for a
  reminder, whether it reached the phone (the gateway's reports). Own clinic only (404).
- ``coordinator/_texting_status.html``: one include, on the triage row and the patient page
  (``{% with patient=... %}{% include "coordinator/_texting_status.html" %}{% endwith %}``):
  an opt-out (STOP) with its time, and texts of the last days nobody could read.
- ``/coordinator/admin/texting``: the clinic's quiet hours, and how the gateway is set up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, select

from tracker.care.auth import account, admin_required, coordinator_required, get_clinic_patient
from tracker.care.auth import record as audit_view
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.models import (
    Caregiver,
    Clinic,
    Patient,
    Reminder,
    TextMessage,
    TextOptOut,
)
from tracker.reminders.sms_rules import quiet_hours_text
from tracker.texting import views as texting_views

bp = Blueprint("texts", __name__, url_prefix="/coordinator", template_folder="templates")

# Texts nobody could read (or sent after STOP) stay on the triage row this long.
SHOWN_FOR = timedelta(days=3)
CONVERSATION_LIMIT = 1000
KIND_LABELS = {
    "pain": "Pain score",
    "answer": "Answer",
    "stop": "STOP",
    "start": "START",
    "help": "HELP",
    "unparsed": "Not understood",
    "unknown_sender": "Unknown sender",
    "opted_out": "After STOP",
    "reminder": "Reminder",
    "reply": "Reply",
}
NEEDS_READING = ("unparsed", "opted_out")


@dataclass(frozen=True)
class TextingStatus:
    """What the triage row and the patient page say about a patient's texts."""

    number: str | None
    opted_out_at: datetime | None
    to_read: int
    latest_to_read: TextMessage | None

    @property
    def shown(self) -> bool:
        return self.opted_out_at is not None or self.to_read > 0


def _request_cache() -> dict[str, Any]:
    """Opt-outs and recent unread texts of the signed-in clinic, read once per request
    (two queries however many rows the triage list shows)."""
    cache = g.get("texting_status")
    if cache is None:
        db = get_session()
        clinic_id = account().clinic_id
        since = request_now() - SHOWN_FOR
        # Only the numbers of this clinic's patients: the table holds every clinic's.
        opted = dict(
            db.execute(
                select(TextOptOut.number, TextOptOut.opted_out_at).where(
                    TextOptOut.opted_out_at.is_not(None),
                    TextOptOut.number.in_(
                        select(Patient.sms_number).where(Patient.clinic_id == clinic_id)
                    ),
                )
            ).all()
        )
        unread: dict[int, list[TextMessage]] = {}
        for message in db.scalars(
            select(TextMessage)
            .where(
                TextMessage.clinic_id == clinic_id,
                TextMessage.kind.in_(NEEDS_READING),
                TextMessage.created_at >= since,
            )
            .order_by(TextMessage.created_at, TextMessage.id)
        ):
            if message.patient_id is not None:
                unread.setdefault(message.patient_id, []).append(message)
        cache = g.texting_status = {"opted": opted, "unread": unread}
    return cache


def texting_status(patient: Patient) -> TextingStatus:
    """The texting status of one of the signed-in clinic's patients (template global)."""
    cache = _request_cache()
    number = patient.sms_number
    unread = cache["unread"].get(patient.id, [])
    return TextingStatus(
        number=number,
        opted_out_at=cache["opted"].get(number) if number else None,
        to_read=len(unread),
        latest_to_read=unread[-1] if unread else None,
    )


@bp.get("/patients/<int:patient_id>/texts")
@coordinator_required
def conversation(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    db = get_session()
    rows = db.execute(
        select(TextMessage, Reminder)
        .outerjoin(Reminder, Reminder.id == TextMessage.reminder_id)
        .where(TextMessage.patient_id == patient.id)
        .order_by(TextMessage.created_at.desc(), TextMessage.id.desc())
        .limit(CONVERSATION_LIMIT)
    ).all()
    total = db.scalar(
        select(func.count()).select_from(TextMessage).where(TextMessage.patient_id == patient.id)
    )
    opt_out = db.get(TextOptOut, patient.sms_number) if patient.sms_number else None
    # Texts from or to a caregiver of the patient say who (removed ones too: their texts stay).
    caregivers = {
        c.id: c for c in db.scalars(select(Caregiver).where(Caregiver.patient_id == patient.id))
    }
    response = render_template(
        "coordinator/texts.html",
        patient=patient,
        caregivers=caregivers,
        messages=list(reversed(rows)),
        total=total,
        shown=len(rows),
        opt_out=opt_out,
        kind_labels=KIND_LABELS,
        clinic=patient.clinic,
        quiet_hours=quiet_hours_text(patient.clinic),
        replies_on=bool(current_app.config.get("SMS_INBOUND_SECRET")),
    )
    audit_view("patient.texts_view", patient_id=patient.id, shown=len(rows))
    db.commit()
    return response


# --- the clinic's quiet hours ------------------------------------------------------------------

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _clock(raw: str) -> time | None:
    match = _CLOCK.fullmatch(raw)
    return time(int(match[1]), int(match[2])) if match else None


def read_quiet_hours(start: str, end: str) -> tuple[time | None, time | None, str | None]:
    """The form's two times: both blank (no quiet hours) or two different times; else an
    error in plain words."""
    start, end = start.strip(), end.strip()
    if not start and not end:
        return None, None, None
    first, last = _clock(start), _clock(end)
    if first is None or last is None:
        return None, None, "Enter both times as hours and minutes, like 21:00 and 08:00."
    if first == last:
        return None, None, "The start and the end must be different times."
    return first, last, None


def _clinic() -> Clinic:
    clinic = get_session().get(Clinic, account().clinic_id)
    if clinic is None:
        abort(404)
    return clinic


@bp.route("/admin/texting", methods=["GET", "POST"])
@admin_required
def texting_settings() -> Any:
    clinic = _clinic()
    values = {
        "quiet_start": f"{clinic.quiet_hours_start:%H:%M}" if clinic.quiet_hours_start else "",
        "quiet_end": f"{clinic.quiet_hours_end:%H:%M}" if clinic.quiet_hours_end else "",
    }
    error = None
    if request.method == "POST":
        values = {k: (request.form.get(k) or "")[:10] for k in values}
        start, end, error = read_quiet_hours(values["quiet_start"], values["quiet_end"])
        if error is None:
            before = quiet_hours_text(clinic)
            clinic.quiet_hours_start, clinic.quiet_hours_end = start, end
            after = quiet_hours_text(clinic)
            if before != after:
                audit_view("clinic.update", changes={"quiet_hours": {"from": before, "to": after}})
            get_session().commit()
            flash("Texting settings saved." if before != after else "Nothing changed.", "info")
            return redirect(url_for("texts.texting_settings"))
    config = current_app.config
    base = (config.get("SMS_PUBLIC_URL") or config["BASE_URL"]).rstrip("/")
    return (
        render_template(
            "coordinator/admin_texting.html",
            clinic=clinic,
            values=values,
            error=error,
            replies_on=bool(config.get("SMS_INBOUND_SECRET")),
            gateway=config["SMS_GATEWAY"],
            inbound_url=f"{base}{texting_views.bp.url_prefix}/inbound",
            status_url=config.get("SMS_STATUS_CALLBACK_URL"),
            webhook_configured=bool(config.get("WEBHOOK_URL") or clinic.webhook_url),
        ),
        400 if error else 200,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(texting_status, "texting_status")
