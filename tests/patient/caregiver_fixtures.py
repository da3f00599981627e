"""Caregivers for tests: ``add_caregiver`` (a fixture: import ``add_caregiver_fixture``),
``caregiver_row`` (one stored directly, added the day before) and ``open_link`` (a client
signed in by a caregiver's link)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.conftest import NOW
from tracker.core.models import Caregiver
from tracker.plans import caregivers as domain
from tracker.plans.enrollment import Enrollment


@pytest.fixture(name="add_caregiver")
def add_caregiver_fixture(session) -> Callable[..., tuple[Caregiver, str]]:
    """Add a caregiver to an enrolment's patient (as the patient would) and issue their
    link; returns the caregiver and the raw link token."""

    def _add(enrollment: Enrollment, **fields) -> tuple[Caregiver, str]:
        values = {
            "name": "Ana Ruiz",
            "relation": "daughter",
            "email": "ana@example.org",
            "phone": None,
            "scope": "act",
            "language": "en",
            "reminder_channel": None,
            "consent": "patient",
        }
        values.update(fields)
        caregiver = domain.add_caregiver(session, enrollment.patient, now=NOW, **values)
        raw = domain.issue_caregiver_link(
            session,
            caregiver,
            enrollment.plan,
            actor=domain.Actor.patient(enrollment.patient.id),
            now=NOW,
            grace_days=14,
        )
        session.commit()
        return caregiver, raw

    return _add


def caregiver_row(session, patient, **fields) -> Caregiver:
    """Ana Ruiz, the patient's daughter, stored as added a day before ``NOW`` (no link, no
    audit entry: for tests of what is planned and sent to her)."""
    values = {
        "patient_id": patient.id,
        "clinic_id": patient.clinic_id,
        "name": "Ana Ruiz",
        "relation": "daughter",
        "scope": "act",
        "language": "en",
        "consent": "patient",
        "session_version": 0,
        "created_at": NOW - timedelta(days=1),
    }
    caregiver = Caregiver(**(values | fields))
    session.add(caregiver)
    session.commit()
    return caregiver


def open_link(client, raw: str):
    response = client.get(f"/p/{raw}")
    assert response.status_code == 302, response.status_code
    return client
