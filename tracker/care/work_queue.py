"""The triage list as a work queue: who owns each alert, and how long ago things happened.

An alert has at most one owner, a user of the alert's clinic; the owner is who the rest of
the team expects to make the call. Assigning is a conditional UPDATE, like acknowledging
and resolving (alerts/rules.py): an alert resolved meanwhile, or taken by a colleague since
the page was shown, is never silently overwritten; the second person is told instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from tracker.alerts.rules import record_event
from tracker.core.models import Alert, Clinic, ContactLogEntry, Patient, User

# The triage list's owner filter: alerts of the signed-in user, or alerts nobody owns.
OWNER_FILTERS = ("mine", "nobody")


@dataclass(frozen=True)
class Colleague:
    id: int
    name: str
    is_active: bool


@cache
def _colleagues_statement() -> Select[Any]:
    return (
        select(User.id, User.name, User.is_active)
        .where(User.clinic_id == bindparam("clinic_id"))
        .order_by(User.name, User.id)
    )


def colleagues(session: Session, clinic_id: int) -> list[Colleague]:
    """Every account of the clinic, by name (one statement): the names of owners, and,
    the active ones, whom an alert can be assigned to."""
    rows = session.connection().execute(_colleagues_statement(), {"clinic_id": clinic_id})
    return [Colleague(*row) for row in rows]


class Assigned(enum.Enum):
    DONE = "done"
    UNCHANGED = "unchanged"  # the alert already had that owner
    RESOLVED = "resolved"  # resolved meanwhile: nothing changed
    TAKEN = "taken"  # its owner changed since the page was shown: nothing changed


def assign_alert(
    session: Session,
    alert: Alert,
    *,
    assignee: User | None,
    expected_owner_id: int | None,
    by_user_id: int,
    now: datetime,
) -> Assigned:
    """Make ``assignee`` (None: nobody) the owner of ``alert``, if it is unresolved and its
    owner is still ``expected_owner_id`` (the one the page showed).

    Decided by one conditional UPDATE, never by ``alert`` as loaded (it may be stale): of two
    people assigning at once, one wins and the other gets TAKEN; an alert resolved in the
    meantime gets RESOLVED. The caller checked that ``assignee`` is an active user of the
    alert's clinic.
    """
    if assignee is not None and assignee.clinic_id != alert.clinic_id:
        raise ValueError("an alert is assigned only within its clinic")
    new_owner = assignee.id if assignee is not None else None
    if new_owner == expected_owner_id:
        return Assigned.UNCHANGED
    owner_unchanged = (
        Alert.assigned_to_id.is_(None)
        if expected_owner_id is None
        else Alert.assigned_to_id == expected_owner_id
    )
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status != "resolved", owner_unchanged)
        .values(assigned_to_id=new_owner, assigned_at=now if new_owner is not None else None)
        .execution_options(synchronize_session=False)
    )
    session.expire(alert)
    if result.rowcount != 1:
        return Assigned.RESOLVED if alert.status == "resolved" else Assigned.TAKEN
    if assignee is not None:
        record_event(
            session,
            alert_id=alert.id,
            kind="assigned",
            summary=f"Assigned to {assignee.name}",
            now=now,
            user_id=by_user_id,
            detail={"to": assignee.id, "from": expected_owner_id},
        )
    else:
        record_event(
            session,
            alert_id=alert.id,
            kind="unassigned",
            summary="Owner removed",
            now=now,
            user_id=by_user_id,
            detail={"from": expected_owner_id},
        )
    return Assigned.DONE


# --- the demo ----------------------------------------------------------------------------


def demo_work_queue(session: Session, clinic: Clinic, now: datetime) -> None:
    """A morning already under way on the demo's triage list: two alerts with owners and a
    few calls in the contact log (tracker/cli/demo.py calls this after raising alerts)."""
    from tracker.care.contact_log import ContactInput, log_contact

    users = {
        u.role: u
        for u in session.scalars(
            select(User).where(User.clinic_id == clinic.id, User.is_active).order_by(User.id)
        )
    }
    coordinator, admin = users.get("coordinator"), users.get("admin")
    already = session.scalar(
        select(ContactLogEntry.id).where(ContactLogEntry.clinic_id == clinic.id).limit(1)
    )
    if coordinator is None or admin is None or already is not None:
        return
    open_alerts = {
        (name, alert.rule): (patient, alert)
        for name, patient, alert in session.execute(
            select(Patient.name, Patient, Alert)
            .join(Alert, Alert.patient_id == Patient.id)
            .where(Alert.clinic_id == clinic.id, Alert.status != "resolved")
        )
    }

    def owned(key: tuple[str, str], owner: User, minutes_ago: int) -> tuple[Patient, Alert] | None:
        found = open_alerts.get(key)
        if found is not None:
            # Never before the alert was raised (the demo's alerts are raised at ``now``).
            at = max(found[1].raised_at, now - timedelta(minutes=minutes_ago))
            assign_alert(
                session,
                found[1],
                assignee=owner,
                expected_owner_id=found[1].assigned_to_id,
                by_user_id=owner.id,
                now=at,
            )
        return found

    def called(
        found: tuple[Patient, Alert] | None,
        by: User,
        outcome: str,
        minutes_ago: int,
        note: str | None = None,
    ) -> None:
        if found is None:
            return
        patient, alert = found
        at = now - timedelta(minutes=minutes_ago)
        log_contact(
            session,
            patient,
            ContactInput(outcome=outcome, note=note, contacted_at=at),
            user_id=by.id,
            now=at,
            # A call before the alert was raised was not about it.
            alert=alert if at >= alert.raised_at else None,
        )

    # A 10 tapped by mistake: Casey took the alert and spoke with the patient.
    wanda = owned(("Wanda Fischer", "severe_pain"), coordinator, 25)
    called(wanda, coordinator, "spoke", 20, "Tapped 10 by mistake; pain is 1 today. Will resolve.")
    # A fever report this morning: Casey owns it; her call two hours ago went unanswered.
    dmitri = owned(("Dmitri Vance", "red_flag"), coordinator, 0)
    called(dmitri, coordinator, "no_answer", 120)
    # Worsening pain: Alex owns it, and left a message yesterday.
    jonah = owned(("Jonah Brandt", "worsening"), admin, 0)
    called(jonah, admin, "left_message", 26 * 60, "Asked him to log a score tonight.")
    session.flush()
