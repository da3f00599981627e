"""A severe pain score reaches the care team's triage list as soon as it is logged."""

from __future__ import annotations

from sqlalchemy import select

from tests.patient.conftest import post_form
from tracker.alerts.rules import SEVERE_PAIN
from tracker.core.models import Alert


def test_it_raises_a_severe_pain_alert_when_the_patient_logs_8(patient_client, session):
    response = post_form(patient_client, "/me/pain", data={"score": "8"})
    assert response.status_code == 302
    alerts = session.scalars(select(Alert)).all()
    assert [(a.rule, a.status) for a in alerts] == [(SEVERE_PAIN, "open")]


def test_a_mild_score_raises_nothing(patient_client, session):
    assert post_form(patient_client, "/me/pain", data={"score": "3"}).status_code == 302
    assert session.scalars(select(Alert)).all() == []
