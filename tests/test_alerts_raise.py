"""An alert is raised once per condition while it is unresolved."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import NOW
from tracker.alerts.rules import RED_FLAG, SEVERE_PAIN, raise_alert
from tracker.core.models import Alert


def test_the_same_condition_raises_one_unresolved_alert(enroll_patient, session):
    plan = enroll_patient().plan
    first = raise_alert(
        session, plan=plan, rule=RED_FLAG, urgency="urgent", summary="Fever reported", now=NOW
    )
    second = raise_alert(
        session, plan=plan, rule=RED_FLAG, urgency="urgent", summary="Fever reported again", now=NOW
    )
    other = raise_alert(
        session, plan=plan, rule=SEVERE_PAIN, urgency="high", summary="Pain 8", now=NOW
    )
    session.commit()
    assert second.id == first.id
    assert other.id != first.id
    assert session.scalar(select(func.count()).select_from(Alert)) == 2

    first.status = "resolved"
    session.commit()
    third = raise_alert(
        session, plan=plan, rule=RED_FLAG, urgency="urgent", summary="Chest pain", now=NOW
    )
    session.commit()
    assert third.id != first.id


def test_the_database_refuses_a_second_unresolved_alert(enroll_patient, session):
    """The partial unique index holds even if two processes skip the lookup at once."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    plan = enroll_patient().plan
    for _ in range(2):
        session.add(
            Alert(
                clinic_id=plan.clinic_id,
                patient_id=plan.patient_id,
                plan_id=plan.id,
                rule=RED_FLAG,
                urgency="urgent",
                summary="x",
                raised_at=NOW,
            )
        )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
