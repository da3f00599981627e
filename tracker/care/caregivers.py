"""The patient page's caregivers and language: what the care team may change about who does
the recovery with the patient, and in which language the patient's pages speak.

- Add a caregiver, with the patient's consent recorded: the "patient consented" box and a
  note saying how (SPEC section 6, "Caregivers"); the consent is stored as "recorded" with
  the member of the team who recorded it.
- Change what a caregiver may do (view only, or view and record), issue them a new personal
  link (shown once, here only), or remove them: their links stop working and their sessions
  end at once. A removed caregiver stays listed, since what they entered keeps their name.
- Change the patient's language (English / Español): audited.

The rules live in ``tracker/plans/caregivers.py``; these are thin views. Every route answers
404 for a patient of another clinic (``get_clinic_patient``) and for a caregiver of another
patient. The routes are on the coordinator blueprint (``views.bp``), registered with it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, render_template, request

from tracker.care.auth import account, coordinator_required, get_clinic_patient, record
from tracker.care.views import _back, bp, current_plan, render_patient
from tracker.core.clock import request_now
from tracker.core.db import get_session
from tracker.core.languages import LANGUAGE_NAMES
from tracker.core.models import LANGUAGES, Caregiver, Patient
from tracker.plans.card import link_qr_svg
from tracker.plans.caregivers import (
    Actor,
    CaregiverError,
    add_caregiver,
    issue_caregiver_link,
    remove_caregiver,
    set_scope,
    validate,
)
from tracker.plans.links import link_url

# The add form's fields, as posted (``caregiver-<field>`` names its error on the page).
ADD_FIELDS = (
    "name",
    "relation",
    "email",
    "phone",
    "scope",
    "language",
    "reminder_channel",
    "consent_note",
)
CONSENT_MISSING = (
    "Tick “The patient agreed” once the patient has agreed to add this caregiver: "
    "nobody is added without it."
)
CONSENT_NOTE_MISSING = "Say how the patient agreed (for example: “said yes on the phone”)."


def _caregiver(patient: Patient, caregiver_id: int) -> Caregiver:
    """``patient``'s caregiver, or 404 (another patient's, or none)."""
    caregiver = get_session().get(Caregiver, caregiver_id)
    if caregiver is None or caregiver.patient_id != patient.id:
        abort(404)
    return caregiver


def _actor() -> Actor:
    return Actor.user(account().user.id, request.remote_addr)


def _errors(exc: CaregiverError, prefix: str) -> dict[str, str]:
    return {f"{prefix}-{name}": message for name, message in exc.errors.items()}


def _consent_errors(consented: bool, note: str) -> dict[str, str]:
    """The care team's own rule on top of the domain's: consent ticked, and how it was given."""
    errors = {}
    if not consented:
        errors["caregiver-consent"] = CONSENT_MISSING
    if not note:
        errors["caregiver-consent_note"] = CONSENT_NOTE_MISSING
    return errors


@bp.post("/patients/<int:patient_id>/caregivers")
@coordinator_required
def caregiver_add(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    form = {name: (request.form.get(name) or "")[:600] for name in ADD_FIELDS}
    consented = request.form.get("consented") == "yes"
    errors = _consent_errors(consented, form["consent_note"].strip())
    db = get_session()
    fields = dict(
        name=form["name"],
        relation=form["relation"],
        email=form["email"],
        phone=form["phone"],
        scope=form["scope"],
        language=form["language"],
        reminder_channel=form["reminder_channel"],
        consent="recorded",
        consent_note=form["consent_note"],
        added_by_user=account().user,
    )
    try:
        if errors:
            # Every other problem too, in one answer; nothing is stored either way.
            validate(**fields, default_language=patient.language)
        else:
            caregiver = add_caregiver(
                db, patient, **fields, now=request_now(), remote_addr=request.remote_addr
            )
    except CaregiverError as exc:
        errors.update(_errors(exc, "caregiver"))
    if errors:
        db.rollback()
        return render_patient(patient, status=400, errors=errors)
    db.commit()
    flash(
        f"{caregiver.label} added, with the patient's consent recorded. "
        "Issue their personal link below to let them sign in.",
        "info",
    )
    return _back(patient, f"#caregiver-{caregiver.id}")


@bp.post("/patients/<int:patient_id>/caregivers/<int:caregiver_id>/scope")
@coordinator_required
def caregiver_scope(patient_id: int, caregiver_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    caregiver = _caregiver(patient, caregiver_id)
    db = get_session()
    try:
        changed = set_scope(
            db, caregiver, request.form.get("scope") or "", actor=_actor(), now=request_now()
        )
    except CaregiverError as exc:
        db.rollback()
        return render_patient(patient, status=400, errors=_errors(exc, f"caregiver-{caregiver.id}"))
    db.commit()
    if changed:
        what = "view and record" if caregiver.scope == "act" else "view only"
        flash(f"{caregiver.label} may now {what}. They sign in again with their link.", "info")
    return _back(patient, f"#caregiver-{caregiver.id}")


@bp.post("/patients/<int:patient_id>/caregivers/<int:caregiver_id>/link")
@coordinator_required
def caregiver_link(patient_id: int, caregiver_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    caregiver = _caregiver(patient, caregiver_id)
    plan = current_plan(patient)
    db = get_session()
    try:
        raw = issue_caregiver_link(
            db,
            caregiver,
            plan,
            actor=_actor(),
            now=request_now(),
            grace_days=current_app.config["LINK_GRACE_DAYS"],
        )
    except CaregiverError as exc:
        db.rollback()
        return render_patient(patient, status=409, errors=_errors(exc, f"caregiver-{caregiver.id}"))
    db.commit()
    link = link_url(current_app.config["BASE_URL"], raw)
    # The raw link is shown on this response only: never stored, never put in a cookie.
    return render_template(
        "coordinator/caregiver_link.html",
        patient=patient,
        caregiver=caregiver,
        link=link,
        qr=link_qr_svg(link, label=f"QR code of {caregiver.name}'s personal link"),
    )


@bp.post("/patients/<int:patient_id>/caregivers/<int:caregiver_id>/remove")
@coordinator_required
def caregiver_remove(patient_id: int, caregiver_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    caregiver = _caregiver(patient, caregiver_id)
    db = get_session()
    if remove_caregiver(db, caregiver, actor=_actor(), now=request_now()):
        db.commit()
        flash(
            f"{caregiver.label} removed: their link no longer works and they were signed out.",
            "info",
        )
    else:
        flash(f"{caregiver.label} was already removed.", "info")
    return _back(patient, "#caregivers")


@bp.post("/patients/<int:patient_id>/language")
@coordinator_required
def patient_language(patient_id: int) -> Any:
    patient = get_clinic_patient(patient_id)
    language = request.form.get("language") or ""
    if language not in LANGUAGES:
        return render_patient(
            patient, status=400, errors={"language": "Choose English or Español."}
        )
    if language != patient.language:
        previous = patient.language
        patient.language = language
        record("patient.language", patient_id=patient.id, **{"from": previous, "to": language})
        get_session().commit()
        flash(
            f"{patient.name}'s pages, reminders and texts are now in {LANGUAGE_NAMES[language]}.",
            "info",
        )
    return _back(patient, "#language")
