"""Fixtures for the care team pages: two clinics, their accounts, and signed-in clients.

The request clock is frozen at ``NOW`` (Saturday 2026-11-21 10:00 in New York). CSRF is off
here so tests can post forms directly; ``test_csrf.py`` turns it back on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import NOW, _empty_tables, make_test_app
from tracker.care.passwords import hash_password
from tracker.core.models import (
    Alert,
    CarePlan,
    CheckOff,
    Clinic,
    PainEntry,
    Patient,
    SymptomReport,
    User,
)
from tracker.core.timeutil import local_wall_time_to_utc
from tracker.plans.enrollment import Enrollment

PASSWORD = "correct horse battery staple"
_hash_cache: dict[str, str] = {}


def password_hash() -> str:
    # argon2 is slow on purpose; one hash serves every test account.
    if PASSWORD not in _hash_cache:
        _hash_cache[PASSWORD] = hash_password(PASSWORD)
    return _hash_cache[PASSWORD]


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url, FIXED_NOW=NOW, WTF_CSRF_ENABLED=False)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def other_clinic(session: Session) -> Clinic:
    clinic = Clinic(
        name="Other Spine Clinic", phone="555-0177", timezone="America/Chicago", created_at=NOW
    )
    session.add(clinic)
    session.commit()
    return clinic


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def _make(clinic: Clinic, role: str = "coordinator", email: str | None = None) -> User:
        user = User(
            clinic_id=clinic.id,
            email=email or f"{role}-{clinic.id}@example.org",
            name=f"{role.title()} of {clinic.name}",
            password_hash=password_hash(),
            role=role,
            created_at=NOW,
        )
        session.add(user)
        session.commit()
        return user

    return _make


def sign_in_as(client: FlaskClient, user: User) -> FlaskClient:
    """Put ``user`` in the client's session the way Flask-Login does after sign-in."""
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = f"{user.id}:{user.session_version}"
        sess["_fresh"] = True
        # Session times as sign-in sets them, on the app's request clock (idle timeout).
        now = client.application.config.get("FIXED_NOW") or datetime.now(UTC)
        sess["signed_in_at"] = sess["seen_at"] = int(now.timestamp())
    return client


@pytest.fixture
def coordinator(make_user: Callable[..., User], clinic: Clinic) -> User:
    return make_user(clinic)


@pytest.fixture
def admin(make_user: Callable[..., User], clinic: Clinic) -> User:
    return make_user(clinic, "admin")


@pytest.fixture
def coordinator_client(app: Flask, coordinator: User) -> FlaskClient:
    return sign_in_as(app.test_client(), coordinator)


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    return sign_in_as(app.test_client(), admin)


@dataclass
class Recorder:
    """Adds what a patient did, straight to the database (the patient pages are elsewhere)."""

    session: Session

    def at(self, plan: CarePlan, day: date, hour: int = 9) -> datetime:
        return local_wall_time_to_utc(day, time(hour, 0), plan.timezone)

    def pain(
        self,
        plan: CarePlan,
        day: date,
        score: int,
        *,
        context: str | None = None,
        note: str | None = None,
        hour: int = 9,
        supersedes: PainEntry | None = None,
    ) -> PainEntry:
        entry = PainEntry(
            plan_id=plan.id,
            score=score,
            context=context,
            note=note,
            local_day=day,
            recorded_at=self.at(plan, day, hour),
            supersedes_id=supersedes.id if supersedes else None,
        )
        self.session.add(entry)
        self.session.commit()
        return entry

    def checkoff(self, plan: CarePlan, key: str, day: date) -> CheckOff:
        row = CheckOff(
            plan_id=plan.id, activity_key=key, local_day=day, created_at=self.at(plan, day)
        )
        self.session.add(row)
        self.session.commit()
        return row

    def report(
        self, plan: CarePlan, day: date, severity: str = "none", **answers: bool
    ) -> SymptomReport:
        row = SymptomReport(
            plan_id=plan.id,
            local_day=day,
            recorded_at=self.at(plan, day, 10),
            answers=answers or {"fever": False},
            severity=severity,
        )
        self.session.add(row)
        self.session.commit()
        return row


@pytest.fixture
def record(session: Session) -> Recorder:
    return Recorder(session)


@pytest.fixture
def enrolled(enroll_patient: Callable[..., Enrollment], session: Session) -> Callable[..., Any]:
    """Enrol a patient whose plan was created on its procedure day (so every day counts)."""

    def _enrol(days_ago: int = 5, **fields: Any) -> Enrollment:
        procedure = date(2026, 11, 21) - timedelta(days=days_ago)
        result = enroll_patient(procedure_date=procedure.isoformat(), **fields)
        created = datetime.combine(procedure, time(6, 0), tzinfo=UTC)
        result.plan.created_at = min(created, NOW)
        result.patient.created_at = min(created, NOW)
        session.commit()
        return result

    return _enrol


def open_alert(session: Session, plan: CarePlan, rule: str, urgency: str, summary: str) -> Alert:
    alert = Alert(
        clinic_id=plan.clinic_id,
        patient_id=plan.patient_id,
        plan_id=plan.id,
        rule=rule,
        urgency=urgency,
        status="open",
        summary=summary,
        detail={},
        raised_at=NOW - timedelta(hours=1),
    )
    session.add(alert)
    session.commit()
    return alert


def patient_named(session: Session, name: str) -> Patient:
    from sqlalchemy import select

    return session.scalars(select(Patient).where(Patient.name == name)).one()
