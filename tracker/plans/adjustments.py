"""Changes a coordinator makes to a running plan, each recorded as a PlanAdjustment.

Changes go into the plan's ``overrides`` (read by ``agenda.plan_activities``), never into its
copy of the template's activities, so the original plan stays visible beside the change.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker.core.models import NOTE_MAX_LENGTH, CarePlan, PlanAdjustment
from tracker.plans.templates import Activity
from tracker.web.time_format import day_text

# How far after the procedure a restriction may be extended or an appointment set.
MAX_DAYS_AFTER_PROCEDURE = 180
STATUS_CHANGES = {
    "pause": ("active", "paused"),
    "resume": ("paused", "active"),
    "end": (("active", "paused"), "ended"),
}


class AdjustmentError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise AdjustmentError("note", f"Keep the note to {NOTE_MAX_LENGTH} characters or fewer.")
    return text or None


def _activity(plan: CarePlan, key: str | None, kind: str) -> Activity:
    for data in plan.activities:
        if data.get("key") == key and data.get("kind") == kind:
            return Activity.from_dict(data)
    raise AdjustmentError("key", f"This plan has no such {kind}.")


def _record(
    session: Session,
    plan: CarePlan,
    *,
    user_id: int,
    key: str | None,
    change: dict[str, Any],
    note: str | None,
    now: datetime,
) -> PlanAdjustment:
    adjustment = PlanAdjustment(
        plan_id=plan.id,
        user_id=user_id,
        activity_key=key,
        change=change,
        note=note,
        created_at=now,
    )
    session.add(adjustment)
    # A resumed plan, a moved day: the alert rules read the plan, so the next tick
    # evaluates it (in the same UPDATE of the plan as the change itself).
    plan.alerts_due_at = now
    return adjustment


def _set_override(plan: CarePlan, key: str, name: str, value: Any) -> Any:
    overrides = {k: dict(v) for k, v in (plan.overrides or {}).items()}
    old = overrides.get(key, {}).get(name)
    overrides.setdefault(key, {})[name] = value
    # A new dict, so SQLAlchemy sees the JSON column change.
    plan.overrides = overrides
    return old


def set_appointment_date(
    session: Session,
    plan: CarePlan,
    key: str | None,
    raw_date: str | None,
    *,
    user_id: int,
    note: str | None,
    now: datetime,
) -> PlanAdjustment:
    """Record the actual date of one of the plan's appointments."""
    activity = _activity(plan, key, "appointment")
    text = (raw_date or "").strip()
    try:
        if len(text) != 10:
            raise ValueError
        when = date.fromisoformat(text)
    except ValueError:
        raise AdjustmentError("date", "Enter the date in YYYY-MM-DD form.") from None
    latest = plan.procedure_date + timedelta(days=MAX_DAYS_AFTER_PROCEDURE)
    if not plan.procedure_date <= when <= latest:
        raise AdjustmentError(
            "date",
            f"Choose a date from the procedure day ({day_text(plan.procedure_date)}) "
            f"to {day_text(latest)}.",
        )
    note = check_note(note)
    old = _set_override(plan, activity.key, "date", when.isoformat())
    return _record(
        session,
        plan,
        user_id=user_id,
        key=activity.key,
        change={"date": {"from": old, "to": when.isoformat()}},
        note=note,
        now=now,
    )


def set_restriction_end(
    session: Session,
    plan: CarePlan,
    key: str | None,
    raw_end_day: str | None,
    *,
    user_id: int,
    note: str | None,
    now: datetime,
) -> PlanAdjustment:
    """Extend a restriction or release it early: its last day becomes ``end_day``.

    ``end_day`` one before the start day releases it before it ever applies.
    """
    activity = _activity(plan, key, "restriction")
    text = (raw_end_day or "").strip()
    lowest = activity.start_day - 1
    if not re.fullmatch(r"-?[0-9]{1,4}", text):  # ASCII digits: int() refuses "²"
        raise AdjustmentError("end_day", "Enter the last day as a whole number of days.")
    end_day = int(text)
    if not lowest <= end_day <= MAX_DAYS_AFTER_PROCEDURE:
        raise AdjustmentError(
            "end_day", f"Enter a day from {lowest} to {MAX_DAYS_AFTER_PROCEDURE}."
        )
    note = check_note(note)
    current = (plan.overrides or {}).get(activity.key, {}).get("end_day", activity.end_day)
    _set_override(plan, activity.key, "end_day", end_day)
    return _record(
        session,
        plan,
        user_id=user_id,
        key=activity.key,
        change={"end_day": {"from": current, "to": end_day}},
        note=note,
        now=now,
    )


def change_status(
    session: Session,
    plan: CarePlan,
    action: str | None,
    *,
    user_id: int,
    note: str | None,
    now: datetime,
) -> PlanAdjustment:
    """Pause, resume or end the plan (reminders and the no-check-in rule follow active plans
    only; the safety rules keep running, see alerts.py)."""
    if action not in STATUS_CHANGES:
        raise AdjustmentError("action", "Choose pause, resume or end.")
    allowed_from, to = STATUS_CHANGES[action]
    allowed = (allowed_from,) if isinstance(allowed_from, str) else allowed_from
    if plan.status not in allowed:
        raise AdjustmentError("action", f"A plan that is {plan.status} cannot be {action}d.")
    note = check_note(note)
    old = plan.status
    plan.status = to
    if to == "ended":
        plan.ended_at = now
    return _record(
        session,
        plan,
        user_id=user_id,
        key=None,
        change={"status": {"from": old, "to": to}},
        note=note,
        now=now,
    )
