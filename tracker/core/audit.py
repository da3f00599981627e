"""Audit trail: who viewed, changed or exported a patient's data, and every link sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.core.models import AuditEvent


def record(
    session: Session,
    *,
    now: datetime,
    action: str,
    actor_type: str,
    actor_user_id: int | None = None,
    actor_patient_id: int | None = None,
    actor_caregiver_id: int | None = None,
    clinic_id: int | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEvent:
    """Add an audit event to ``session``; it is committed with the work it describes."""
    event = AuditEvent(
        at=now,
        action=action,
        actor_type=actor_type,
        actor_user_id=actor_user_id,
        actor_patient_id=actor_patient_id,
        actor_caregiver_id=actor_caregiver_id,
        clinic_id=clinic_id,
        patient_id=patient_id,
        detail=detail or {},
        remote_addr=remote_addr,
    )
    session.add(event)
    return event
