"""Patient sign-in by personal link, and the one check every patient page makes.

Patients do not use Flask-Login (that is for coordinators). Opening a personal link starts a
fresh session holding the patient's id and their ``session_version``; every patient request
compares that version with the database, so revoking or rotating the link (which bumps it)
ends sessions already open on other devices, including copied cookies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from flask import abort, make_response, render_template, session
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.links import find_valid_token
from tracker.models import CarePlan, Clinic, PainEntry, Patient, SymptomReport

SESSION_PATIENT = "patient_id"
SESSION_VERSION = "patient_v"


@dataclass(frozen=True)
class SignedInPatient:
    patient: Patient
    plan: CarePlan


def sign_in_with_link(
    db: Session, raw: str, *, now: datetime, remote_addr: str | None
) -> Patient | None:
    """Start a patient session for a live link; None (and nothing stored) otherwise."""
    token = find_valid_token(db, raw, now=now)
    if token is None:
        return None
    patient = db.get(Patient, token.patient_id)
    if patient is None or not patient.plans:
        return None
    token.last_used_at = now
    audit.record(
        db,
        now=now,
        action="patient.link_sign_in",
        actor_type="patient",
        actor_patient_id=patient.id,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        detail={"token_id": token.id},
        remote_addr=remote_addr,
    )
    db.commit()
    # A new session: nothing from an earlier visitor on this browser carries over.
    session.clear()
    session[SESSION_PATIENT] = patient.id
    session[SESSION_VERSION] = patient.session_version
    return patient


def sign_out() -> None:
    session.pop(SESSION_PATIENT, None)
    session.pop(SESSION_VERSION, None)


def signed_out_page(status: int = 401):
    return make_response(render_template("patient/signed_out.html"), status)


Owned = TypeVar("Owned", PainEntry, SymptomReport)


def own_row_or_404(db: Session, me: SignedInPatient, model: type[Owned], row_id: int) -> Owned:
    """One of the signed-in patient's own rows; anyone else's (or none) is a 404."""
    row = db.get(model, row_id)
    if row is None or row.plan_id not in {plan.id for plan in me.patient.plans}:
        abort(404)
    return row


def _latest_plan_query(*columns: Any, with_clinic: bool = False) -> Select[Any]:
    """``columns`` of patient ``:patient_id`` and their latest plan (``plans[-1]``), with
    the patient's ``session_version`` last (as ``checked_version``)."""
    patient, plan, clinic = Patient.__table__.c, CarePlan.__table__.c, Clinic.__table__.c
    query = (
        select(*columns, patient.session_version.label("checked_version"))
        .select_from(Patient.__table__)
        .join(CarePlan.__table__, plan.patient_id == patient.id)
    )
    if with_clinic:
        query = query.join(Clinic.__table__, clinic.id == plan.clinic_id)
    return query.where(patient.id == bindparam("patient_id")).order_by(plan.id.desc()).limit(1)


def _signed_in(db: Session, query: Select[Any], *, core: bool = False) -> Row[Any]:
    """One round trip for ``query`` (see ``_latest_plan_query``) for the signed-in patient;
    or sign out and abort with the kind page. ``session_version`` is checked against the
    cookie's, so a revoked or rotated link ends this session too. ``core``: plain columns,
    run on the session's connection without the ORM's per-statement work."""
    patient_id = session.get(SESSION_PATIENT)
    version = session.get(SESSION_VERSION)
    row = None
    if isinstance(patient_id, int):
        params = {"patient_id": patient_id}
        result = db.connection().execute(query, params) if core else db.execute(query, params)
        row = result.first()
    if row is None or version != row.checked_version:
        sign_out()
        abort(signed_out_page())
    return row


_PATIENT_AND_PLAN = _latest_plan_query(Patient, CarePlan)


def current_patient(db: Session) -> SignedInPatient:
    """The signed-in patient and their plan (the latest), or abort with the kind page."""
    row = _signed_in(db, _PATIENT_AND_PLAN)
    return SignedInPatient(patient=row.Patient, plan=row.CarePlan)


@dataclass(frozen=True)
class PlanFacts:
    """What recording a score needs to know about the signed-in patient's plan: plain
    values from one query, without loading the plan's activities or the patient."""

    id: int
    patient_id: int
    clinic_id: int
    procedure_date: date
    timezone: str
    status: str
    severe_pain_threshold: int


# Built once: this runs on every pain score posted.
_PLAN_FACTS = _latest_plan_query(
    *(
        CarePlan.__table__.c[name]
        for name in ("id", "patient_id", "clinic_id", "procedure_date", "timezone", "status")
    ),
    Clinic.__table__.c.severe_pain_threshold,
    with_clinic=True,
)


def signed_in_plan(db: Session) -> PlanFacts:
    """The same check as ``current_patient`` for a write that needs only the plan's facts
    (the busiest one: each pain score posted), or abort with the kind page."""
    return PlanFacts(*_signed_in(db, _PLAN_FACTS, core=True)[:-1])
