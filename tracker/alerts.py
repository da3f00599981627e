"""Alerts for the care team: raised once per condition, worked open -> acknowledged -> resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.models import Alert, CarePlan

RED_FLAG = "red_flag"
SEVERE_PAIN = "severe_pain"
WORSENING = "worsening"
NOT_IMPROVING = "not_improving"
MISSED_CHECKIN = "missed_checkin"
UNDELIVERABLE = "undeliverable"
RULES = (RED_FLAG, SEVERE_PAIN, WORSENING, NOT_IMPROVING, MISSED_CHECKIN, UNDELIVERABLE)


def unresolved_alert(session: Session, plan_id: int, rule: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(
            Alert.plan_id == plan_id, Alert.rule == rule, Alert.status != "resolved"
        )
    )


def raise_alert(
    session: Session,
    *,
    plan: CarePlan,
    rule: str,
    urgency: str,
    summary: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Alert:
    """Open an alert unless the same condition already has an unresolved one.

    Returns the new alert, or the existing unresolved one. A partial unique index backs
    this up when two processes race: the loser's insert fails and it returns the winner's.
    """
    if rule not in RULES:
        raise ValueError(f"unknown alert rule {rule!r}")
    existing = unresolved_alert(session, plan.id, rule)
    if existing is not None:
        return existing
    alert = Alert(
        clinic_id=plan.clinic_id,
        patient_id=plan.patient_id,
        plan_id=plan.id,
        rule=rule,
        urgency=urgency,
        status="open",
        summary=summary[:500],
        detail=detail or {},
        raised_at=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        existing = unresolved_alert(session, plan.id, rule)
        if existing is None:
            raise
        return existing
    return alert
