"""Caregivers: the people a patient adds to do the recovery with them (SPEC section 6).

A caregiver acts under their own identity: their own personal link, their own sessions, and
what they record carries their id. ``scope`` says whether they only read the patient's
pages ("view") or also record on the patient's behalf ("act"). Removing one, or changing
what they may do, ends their sessions at once: the next page they open is the signed-out
page. The row stays after removal, so what they entered keeps its author.

Every function here takes ``now``, writes an audit row and leaves the commit to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.models import (
    CAREGIVER_CONSENTS,
    CAREGIVER_SCOPES,
    LANGUAGES,
    NOTE_MAX_LENGTH,
    REMINDER_CHANNELS,
    Caregiver,
    CarePlan,
    Patient,
    PatientSession,
    User,
)
from tracker.core.phones import sms_number
from tracker.plans.enrollment import EnrollmentError, check_email, check_phone
from tracker.plans.links import issue_link, revoke_caregiver_links
from tracker.web.input_rules import InputRefused, check_name, has_control_characters

# The order of the fields on a form (and of the messages in ``CaregiverError.errors``).
FIELD_ORDER = (
    "name",
    "relation",
    "contact",
    "email",
    "phone",
    "scope",
    "language",
    "reminder_channel",
    "consent",
    "consent_note",
)

# English messages (care-team pages show them as they are; the patient's pages show their
# own translated words for each field).
MESSAGES = {
    "name": "Enter their name: 1 to 200 characters, on one line.",
    "relation": "Enter how they are related to the patient (daughter, husband, friend): "
    "1 to 40 characters, on one line.",
    "contact": "Enter an email address or a mobile phone number (or both).",
    "email": "Enter an email address like jo@example.org, or leave it empty.",
    "phone": "Enter a phone number like +1 555 201 0142, or leave it empty.",
    "scope": "Choose what they may do: view only, or also record.",
    "language": "Choose a language from the list.",
    "reminder_channel": "Choose how they get the daily reminder, or no reminder.",
    "reminder_email": "An email reminder needs an email address.",
    "reminder_webhook": "A text reminder needs a mobile phone number that can get texts.",
    "consent": "Say how the patient agreed to add them.",
    "consent_recorded": "Consent recorded by the care team needs the team member who recorded it.",
    "consent_note": f"Keep the note to {NOTE_MAX_LENGTH} characters, on one line.",
    "removed": "This caregiver was removed.",
}


class CaregiverError(ValueError):
    """Bad caregiver input. ``errors`` holds every bad field's message, in FIELD_ORDER;
    ``field`` and ``message`` are the first of them."""

    def __init__(self, errors: dict[str, str]) -> None:
        ordered = {f: errors[f] for f in FIELD_ORDER if f in errors}
        ordered.update(errors)
        self.errors = ordered
        self.field, self.message = next(iter(ordered.items()))
        super().__init__(f"{self.field}: {self.message}")


@dataclass(frozen=True)
class Actor:
    """Who does something to a caregiver, for the audit row."""

    type: str  # "user" | "patient" | "caregiver"
    user_id: int | None = None
    patient_id: int | None = None
    caregiver_id: int | None = None
    remote_addr: str | None = None

    @classmethod
    def user(cls, user_id: int, remote_addr: str | None = None) -> Actor:
        return cls("user", user_id=user_id, remote_addr=remote_addr)

    @classmethod
    def patient(cls, patient_id: int, remote_addr: str | None = None) -> Actor:
        return cls("patient", patient_id=patient_id, remote_addr=remote_addr)


def _audit(
    db: Session,
    caregiver: Caregiver,
    actor: Actor,
    action: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        db,
        now=now,
        action=action,
        actor_type=actor.type,
        actor_user_id=actor.user_id,
        actor_patient_id=actor.patient_id,
        actor_caregiver_id=actor.caregiver_id,
        clinic_id=caregiver.clinic_id,
        patient_id=caregiver.patient_id,
        detail={"caregiver_id": caregiver.id, **(detail or {})},
        remote_addr=actor.remote_addr,
    )


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check(field: str, value: str | None, column: Any) -> str:
    try:
        return check_name(value, column, field=field)
    except InputRefused:
        raise CaregiverError({field: MESSAGES[field]}) from None


@dataclass(frozen=True)
class CaregiverDetails:
    """Validated details of a new caregiver."""

    name: str
    relation: str
    email: str | None
    phone: str | None
    scope: str
    language: str
    reminder_channel: str | None
    consent: str
    consent_note: str | None


def validate(
    *,
    name: str | None,
    relation: str | None,
    email: str | None,
    phone: str | None,
    scope: str | None,
    language: str | None,
    reminder_channel: str | None,
    consent: str | None,
    consent_note: str | None = None,
    added_by_user: User | None = None,
    default_language: str = "en",
) -> CaregiverDetails:
    """Check raw input; raise one CaregiverError listing every bad field at once."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field, value, column in (
        ("name", name, Caregiver.name),
        ("relation", relation, Caregiver.relation),
    ):
        try:
            clean[field] = _check(field, value, column)
        except CaregiverError as exc:
            errors.update(exc.errors)
    for field, checker in (("email", check_email), ("phone", check_phone)):
        try:
            clean[field] = checker(email if field == "email" else phone)
        except EnrollmentError:
            errors[field] = MESSAGES[field]
            clean[field] = None
    if not _text(email) and not _text(phone):
        errors["contact"] = MESSAGES["contact"]
    if scope not in CAREGIVER_SCOPES:
        errors["scope"] = MESSAGES["scope"]
    chosen_language = _text(language) or default_language
    if chosen_language not in LANGUAGES:
        errors["language"] = MESSAGES["language"]
    channel = _text(reminder_channel)
    if channel is not None and channel not in REMINDER_CHANNELS:
        errors["reminder_channel"] = MESSAGES["reminder_channel"]
    elif channel == "email" and "email" not in errors and not clean.get("email"):
        errors["reminder_channel"] = MESSAGES["reminder_email"]
    elif channel == "webhook" and "phone" not in errors and sms_number(clean.get("phone")) is None:
        errors["reminder_channel"] = MESSAGES["reminder_webhook"]
    if consent not in CAREGIVER_CONSENTS:
        errors["consent"] = MESSAGES["consent"]
    elif consent == "recorded" and added_by_user is None:
        errors["consent"] = MESSAGES["consent_recorded"]
    note = _text(consent_note)
    if note is not None and (len(note) > NOTE_MAX_LENGTH or has_control_characters(note)):
        errors["consent_note"] = MESSAGES["consent_note"]
    if errors:
        raise CaregiverError(errors)
    return CaregiverDetails(
        name=clean["name"],
        relation=clean["relation"],
        email=clean["email"],
        phone=clean["phone"],
        scope=scope,  # type: ignore[arg-type]
        language=chosen_language,
        reminder_channel=channel,
        consent=consent,  # type: ignore[arg-type]
        consent_note=note,
    )


def add_caregiver(
    db: Session,
    patient: Patient,
    *,
    name: str | None,
    relation: str | None,
    email: str | None,
    phone: str | None,
    scope: str | None,
    language: str | None,
    reminder_channel: str | None,
    consent: str | None,
    consent_note: str | None = None,
    added_by_user: User | None = None,
    now: datetime,
    remote_addr: str | None = None,
) -> Caregiver:
    """Add a caregiver to ``patient`` (flushed: it has an id); CaregiverError, and nothing
    added, for bad input. ``consent`` "patient": the patient added them on their own pages;
    "recorded": a member of the care team (``added_by_user``) recorded the patient's
    consent. Their link is issued separately (``issue_caregiver_link``)."""
    details = validate(
        name=name,
        relation=relation,
        email=email,
        phone=phone,
        scope=scope,
        language=language,
        reminder_channel=reminder_channel,
        consent=consent,
        consent_note=consent_note,
        added_by_user=added_by_user,
        default_language=patient.language,
    )
    caregiver = Caregiver(
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        name=details.name,
        relation=details.relation,
        email=details.email,
        phone=details.phone,
        scope=details.scope,
        language=details.language,
        reminder_channel=details.reminder_channel,
        consent=details.consent,
        consent_note=details.consent_note,
        added_by_user_id=added_by_user.id if added_by_user is not None else None,
        session_version=0,
        created_at=now,
    )
    db.add(caregiver)
    db.flush()
    actor = (
        Actor.user(added_by_user.id, remote_addr)
        if added_by_user is not None
        else Actor.patient(patient.id, remote_addr)
    )
    _audit(
        db,
        caregiver,
        actor,
        "caregiver.added",
        now,
        {
            "scope": details.scope,
            "consent": details.consent,
            "reminder_channel": details.reminder_channel,
        },
    )
    return caregiver


def end_sessions(db: Session, caregiver: Caregiver, *, now: datetime) -> int:
    """End every open session of ``caregiver`` now, and make any copy of their cookie
    stale (``session_version``); returns how many sessions were open."""
    result = db.execute(
        update(PatientSession)
        .where(PatientSession.caregiver_id == caregiver.id, PatientSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    caregiver.session_version += 1
    return result.rowcount or 0


def remove_caregiver(db: Session, caregiver: Caregiver, *, actor: Actor, now: datetime) -> bool:
    """Remove ``caregiver``: their links stop working and their sessions end at once.
    False (and nothing changes) if they were removed already."""
    if caregiver.removed_at is not None:
        return False
    caregiver.removed_at = now
    caregiver.removed_by_user_id = actor.user_id
    links = revoke_caregiver_links(db, caregiver, now=now)
    sessions = end_sessions(db, caregiver, now=now)
    _audit(
        db,
        caregiver,
        actor,
        "caregiver.removed",
        now,
        {"links_revoked": links, "sessions_ended": sessions},
    )
    return True


def set_scope(
    db: Session, caregiver: Caregiver, scope: str, *, actor: Actor, now: datetime
) -> bool:
    """Change what ``caregiver`` may do; their sessions end so the new scope applies at
    once (their link keeps working). False if it is unchanged."""
    if caregiver.removed_at is not None:
        raise CaregiverError({"caregiver": MESSAGES["removed"]})
    if scope not in CAREGIVER_SCOPES:
        raise CaregiverError({"scope": MESSAGES["scope"]})
    if scope == caregiver.scope:
        return False
    previous = caregiver.scope
    caregiver.scope = scope
    sessions = end_sessions(db, caregiver, now=now)
    _audit(
        db,
        caregiver,
        actor,
        "caregiver.scope_changed",
        now,
        {"from": previous, "to": scope, "sessions_ended": sessions},
    )
    return True


def issue_caregiver_link(
    db: Session,
    caregiver: Caregiver,
    plan: CarePlan,
    *,
    actor: Actor,
    now: datetime,
    grace_days: int,
    rotate: bool = True,
) -> str:
    """A new personal link for ``caregiver`` (expiring like the patient's); returns the
    raw token, to show once (only its hash is stored). ``rotate``: their earlier links
    stop working and their sessions end first."""
    if caregiver.removed_at is not None:
        raise CaregiverError({"caregiver": MESSAGES["removed"]})
    revoked = 0
    if rotate:
        revoked = revoke_caregiver_links(db, caregiver, now=now)
        end_sessions(db, caregiver, now=now)
    raw = issue_link(
        db, caregiver.patient, plan, now=now, grace_days=grace_days, caregiver=caregiver
    )
    _audit(db, caregiver, actor, "caregiver.link_issued", now, {"links_revoked": revoked})
    return raw


def current_caregivers(db: Session, patient_id: int) -> list[Caregiver]:
    """The patient's caregivers who were not removed, oldest first."""
    return list(
        db.scalars(
            select(Caregiver)
            .where(Caregiver.patient_id == patient_id, Caregiver.removed_at.is_(None))
            .order_by(Caregiver.id)
        )
    )
