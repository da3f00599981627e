"""The contact log: each time the care team tried to reach a patient, and how it went.

Recorded from the triage row and from the patient page; the latest entry shows on the
triage row ("Called · no answer · 2 h ago by Casey Coordinator") so a nurse can see who
was called today without opening each patient. Entries are never edited or deleted: a
wrong one is followed by a right one, as in a paper log.

On the patient page the team also says who was reached: the patient or one of their
caregivers. A call with a caregiver is kept in the entry's note ("With Ana Ruiz (daughter):
...") and in its audit row (``caregiver_id``); the log has no column of its own for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from tracker.core.models import (
    CONTACT_OUTCOMES,
    NOTE_MAX_LENGTH,
    Alert,
    Caregiver,
    ContactLogEntry,
    Patient,
    User,
)
from tracker.core.timeutil import local_day, local_wall_time_to_utc
from tracker.web.input_rules import has_control_characters

# What the care team chooses from, and how an entry reads on a row.
OUTCOME_CHOICES = {
    "called": "Called",
    "left_message": "Left a message",
    "no_answer": "No answer",
    "spoke": "Spoke with the patient",
}
OUTCOME_SUMMARIES = {
    "called": "Called",
    "left_message": "Called · left message",
    "no_answer": "Called · no answer",
    "spoke": "Spoke with patient",
}
assert set(OUTCOME_CHOICES) == set(OUTCOME_SUMMARIES) == set(CONTACT_OUTCOMES)
# How many entries the patient page lists (newest first).
SHOWN_ON_PATIENT_PAGE = 20
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


class ContactError(ValueError):
    """What was wrong with a contact the care team tried to log, by form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ContactInput:
    outcome: str
    note: str | None
    contacted_at: datetime
    # The caregiver the call was with ("with" on the form); None: the patient.
    caregiver_id: int | None = None


# The "with" field's value for the patient; a caregiver's is "caregiver-<id>".
WITH_PATIENT = "patient"


def with_choices(caregivers: Iterable[Caregiver]) -> dict[str, str]:
    """Who a call can be with, for the patient page's form: the patient, then each
    current caregiver ("caregiver-<id>": "Ana Ruiz (daughter)")."""
    choices = {WITH_PATIENT: "The patient"}
    for caregiver in caregivers:
        if caregiver.removed_at is None:
            choices[f"caregiver-{caregiver.id}"] = caregiver.label
    return choices


def parse_contact(
    form: Mapping[str, str],
    *,
    tz_name: str,
    now: datetime,
    reached: Mapping[str, str] | None = None,
) -> ContactInput:
    """A contact from form fields ``outcome``, ``note`` and ``time`` (optional "HH:MM" today
    in ``tz_name``, the clinic's zone; empty: ``now``). Every problem at once, by field, in
    ContactError. ``reached``: the ``with`` field's choices (``with_choices``) where the
    form offers them; a call with a caregiver starts its note with their name."""
    errors: dict[str, str] = {}
    outcome = (form.get("outcome") or "").strip()
    if outcome not in OUTCOME_CHOICES:
        choices = ", ".join(label.lower() for label in OUTCOME_CHOICES.values())
        errors["outcome"] = f"Choose how the contact went: {choices}."
    note = (form.get("note") or "").strip()
    caregiver_id = None
    with_value = (form.get("with") or WITH_PATIENT).strip()
    if with_value != WITH_PATIENT:
        label = (reached or {}).get(with_value)
        if label is None:
            errors["with"] = "Choose who the call was with: the patient or a caregiver listed."
        else:
            caregiver_id = int(with_value.removeprefix("caregiver-"))
            note = f"With {label}: {note}" if note else f"With {label}."
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = (
            f"Keep the note to {NOTE_MAX_LENGTH} characters or fewer (it has {len(note)})."
        )
    elif has_control_characters(note, multiline=True):
        errors["note"] = "The note contains an invisible control character; type it again."
    contacted_at = now
    raw_time = (form.get("time") or "").strip()
    if raw_time:
        match = _TIME.fullmatch(raw_time)
        hour, minute = (int(match.group(1)), int(match.group(2))) if match else (99, 99)
        if hour > 23 or minute > 59:
            errors["time"] = "Enter the time as hours and minutes, for example 09:30."
        else:
            at = local_wall_time_to_utc(local_day(now, tz_name), time(hour, minute), tz_name)
            if at > now:
                errors["time"] = "That time is still to come today. Leave it empty for now."
            else:
                contacted_at = at
    if errors:
        raise ContactError(errors)
    return ContactInput(
        outcome=outcome, note=note or None, contacted_at=contacted_at, caregiver_id=caregiver_id
    )


def log_contact(
    session: Session,
    patient: Patient,
    contact: ContactInput,
    *,
    user_id: int,
    now: datetime,
    alert: Alert | None = None,
) -> ContactLogEntry:
    """Add one entry to ``patient``'s log (committed by the caller, with its audit row).

    The caller has checked that the user, the patient and the alert are of one clinic.
    """
    if alert is not None and alert.patient_id != patient.id:
        raise ValueError("the alert is not this patient's")
    entry = ContactLogEntry(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        alert_id=alert.id if alert is not None else None,
        user_id=user_id,
        outcome=contact.outcome,
        note=contact.note,
        contacted_at=contact.contacted_at,
        recorded_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ContactShown:
    """One entry as the pages show it."""

    id: int
    patient_id: int
    outcome: str
    note: str | None
    contacted_at: datetime
    by: str
    alert_summary: str | None = None

    @property
    def summary(self) -> str:
        return OUTCOME_SUMMARIES[self.outcome]


@cache
def _latest_statement() -> Select[Any]:
    """The latest entry of each patient in ``:patient_ids``: one statement for a page,
    each patient's read backwards along ix_contact_log_entry_patient_at."""
    newer = aliased(ContactLogEntry)
    latest_id = (
        select(newer.id)
        .where(newer.patient_id == Patient.id)
        .order_by(newer.contacted_at.desc(), newer.id.desc())
        .limit(1)
        .correlate(Patient)
        .scalar_subquery()
    )
    return (
        select(
            ContactLogEntry.id,
            ContactLogEntry.patient_id,
            ContactLogEntry.outcome,
            ContactLogEntry.note,
            ContactLogEntry.contacted_at,
            User.name,
        )
        .select_from(Patient)
        .join(ContactLogEntry, ContactLogEntry.id == latest_id)
        .join(User, User.id == ContactLogEntry.user_id)
        .where(Patient.id.in_(bindparam("patient_ids", expanding=True)))
    )


def latest_contacts(session: Session, patient_ids: list[int]) -> dict[int, ContactShown]:
    """Each listed patient's latest contact, by patient id (one statement)."""
    if not patient_ids:
        return {}
    rows = session.connection().execute(_latest_statement(), {"patient_ids": patient_ids})
    return {row.patient_id: ContactShown(*row) for row in rows}


def patient_contacts(
    session: Session, patient_id: int, *, limit: int = SHOWN_ON_PATIENT_PAGE
) -> list[ContactShown]:
    """A patient's log, newest first (with the alert each entry was about, if any)."""
    rows = session.execute(
        select(
            ContactLogEntry.id,
            ContactLogEntry.patient_id,
            ContactLogEntry.outcome,
            ContactLogEntry.note,
            ContactLogEntry.contacted_at,
            User.name,
            Alert.summary,
        )
        .join(User, User.id == ContactLogEntry.user_id)
        .outerjoin(Alert, Alert.id == ContactLogEntry.alert_id)
        .where(ContactLogEntry.patient_id == patient_id)
        .order_by(ContactLogEntry.contacted_at.desc(), ContactLogEntry.id.desc())
        .limit(limit)
    )
    return [ContactShown(*row) for row in rows]


@dataclass(frozen=True)
class PatientContactLog:
    """What coordinator/_contact_log.html shows: the entries, and the form's choices."""

    patient_id: int
    entries: list[ContactShown]
    choices: dict[str, str]
    note_max_length: int = NOTE_MAX_LENGTH
    # Who a call can be with (``with_choices``): offered when the patient has caregivers.
    people: dict[str, str] | None = None


def for_patient_page(
    session: Session, patient_id: int, caregivers: Iterable[Caregiver] = ()
) -> PatientContactLog:
    """The context of the patient page's contact log (``contact_log`` in the template)."""
    people = with_choices(caregivers)
    return PatientContactLog(
        patient_id=patient_id,
        entries=patient_contacts(session, patient_id),
        choices=OUTCOME_CHOICES,
        people=people if len(people) > 1 else None,
    )
