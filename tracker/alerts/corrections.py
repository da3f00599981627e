"""Pain entries and symptom reports are never edited in place: a correction supersedes.

A correction is a new row whose ``supersedes_id`` names the row it replaces; both rows are
kept, so the care team can always see what was first entered and when. Everything that
summarises a day (Today, progress, reminders, alerts) reads only *current* rows -- those no
later row supersedes -- through the two filters below, so the rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from tracker.core import audit
from tracker.core.models import CarePlan, PainEntry, SymptomReport

# The pain-entry columns that summaries and alert rules read, selected as plain rows rather
# than ORM objects: a triage page or a tick reads thousands of them.
PAIN_ROW_COLUMNS = (
    PainEntry.id,
    PainEntry.plan_id,
    PainEntry.score,
    PainEntry.context,
    PainEntry.local_day,
    PainEntry.recorded_at,
    PainEntry.supersedes_id,
)


def current_pain(entry: type[PainEntry] = PainEntry) -> ColumnElement[bool]:
    """A WHERE clause: the pain entry (``entry``, or an alias of it) has not been corrected
    by a later one."""
    later = aliased(PainEntry)
    # ``IS NOT NULL`` adds nothing to the meaning, but tells PostgreSQL's planner that only
    # corrections can match: over many entries it then reads the few corrections once
    # instead of probing the index once per entry.
    return ~exists().where(later.supersedes_id == entry.id, later.supersedes_id.is_not(None))


def current_symptom_reports() -> ColumnElement[bool]:
    """A WHERE clause: the symptom report has not been corrected by a later one."""
    later = aliased(SymptomReport)
    return ~exists().where(later.supersedes_id == SymptomReport.id)


def current_pain_on(session: Session, plan: CarePlan, day: date) -> list[PainEntry]:
    """The day's pain entries that still count, oldest first."""
    return list(
        session.scalars(
            select(PainEntry)
            .where(PainEntry.plan_id == plan.id, PainEntry.local_day == day, current_pain())
            .order_by(PainEntry.recorded_at, PainEntry.id)
        )
    )


class CorrectionRefused(ValueError):
    """The entry cannot be corrected (another day, or already corrected)."""


@dataclass(frozen=True)
class PainValues:
    score: int
    context: str | None
    note: str | None


def refusal(session: Session, original: PainEntry, *, today: date) -> str | None:
    """Why ``original`` cannot be corrected now, in the patient's words; None if it can."""
    if original.local_day != today:
        return "Only today's pain scores can be corrected."
    if session.scalar(select(exists().where(PainEntry.supersedes_id == original.id))):
        return "This pain score has already been corrected."
    return None


def report_refusal(session: Session, original: SymptomReport, *, today: date) -> str | None:
    """Why the answers of ``original`` cannot be changed now; None if they can."""
    if original.local_day != today:
        return "Only today's answers can be changed. Answer the questions again instead."
    if session.scalar(select(exists().where(SymptomReport.supersedes_id == original.id))):
        return "These answers have already been changed."
    return None


def add_symptom_report(
    session: Session,
    *,
    plan_id: int,
    local_day: date,
    now: datetime,
    answers: dict[str, bool],
    severity: str,
    supersedes: SymptomReport | None = None,
    caregiver_id: int | None = None,
) -> SymptomReport:
    """Store a report; with ``supersedes``, as the correction of that one (at most one).
    ``caregiver_id``: the caregiver who answered for the patient (None: the patient)."""
    report = SymptomReport(
        entered_by_caregiver_id=caregiver_id,
        plan_id=plan_id,
        local_day=local_day,
        recorded_at=now,
        answers=answers,
        severity=severity,
        supersedes_id=supersedes.id if supersedes is not None else None,
    )
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:
        raise CorrectionRefused("These answers have already been changed.") from None
    return report


def correct_pain_entry(
    session: Session,
    original: PainEntry,
    values: PainValues,
    *,
    today: date,
    now: datetime,
    patient_id: int,
    clinic_id: int,
    remote_addr: str | None = None,
    caregiver_id: int | None = None,
) -> PainEntry:
    """Add the entry that supersedes ``original``; the caller commits. ``caregiver_id``:
    the caregiver who corrected it for the patient (None: the patient).

    Only today's entries can be corrected: a past day's record is what the care team has
    already seen. A second correction of the same entry (two tabs, a double tap) is refused
    by the unique index on ``supersedes_id``, so each entry has at most one successor.
    """
    problem = refusal(session, original, today=today)
    if problem is not None:
        raise CorrectionRefused(problem)
    replacement = PainEntry(
        plan_id=original.plan_id,
        score=values.score,
        context=values.context,
        note=values.note,
        local_day=original.local_day,
        recorded_at=now,
        supersedes_id=original.id,
        entered_by_caregiver_id=caregiver_id,
    )
    try:
        with session.begin_nested():
            session.add(replacement)
    except IntegrityError:
        raise CorrectionRefused("This pain score has already been corrected.") from None
    audit.record(
        session,
        now=now,
        action="patient.pain_corrected",
        actor_type="patient" if caregiver_id is None else "caregiver",
        actor_patient_id=patient_id if caregiver_id is None else None,
        actor_caregiver_id=caregiver_id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        detail={"pain_entry_id": replacement.id, "supersedes_id": original.id},
        remote_addr=remote_addr,
    )
    return replacement
