"""Patient sign-in by personal link, and the one check every patient page makes.

Patients do not use Flask-Login (that is for coordinators). Opening a personal link starts a
fresh session: a ``patient_session`` row (models.PatientSession) and a cookie holding the
patient's id, their ``session_version`` and the row's random id (only its SHA-256 is
stored). Every patient request checks all three in the same single query that fetches the
plan, so
- signing out on this device ends the row: a copy of the cookie stops working at once;
- revoking or rotating the link (which bumps ``session_version``) ends every session;
- a session unused for ``PATIENT_IDLE_MINUTES`` (60 by default), or older than
  ``PATIENT_SESSION_HOURS`` (12), is over (docs/security.md, "Patient sessions").
``last_seen_at`` is written at most once a minute per session (``TOUCH_SECONDS``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from flask import abort, current_app, g, make_response, render_template, session
from sqlalchemy import Row, Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.clock import request_now
from tracker.core.models import (
    CarePlan,
    Clinic,
    PainEntry,
    Patient,
    PatientSession,
    SymptomReport,
)
from tracker.plans.links import find_valid_token, hash_token

SESSION_PATIENT = "patient_id"
SESSION_VERSION = "patient_v"
SESSION_ID = "patient_sid"
SESSION_ID_BYTES = 32
# last_seen_at is refreshed at most this often: one UPDATE a minute per session at most.
TOUCH_SECONDS = 60


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
    _end_cookie_session(db, now)  # an earlier session on this browser ends here
    idle, longest = _limits()
    # This patient's finished sessions are of no further use: keep the table small.
    db.execute(
        delete(PatientSession).where(
            PatientSession.patient_id == patient.id,
            or_(
                PatientSession.ended_at.is_not(None),
                PatientSession.last_seen_at < now - idle,
                PatientSession.created_at < now - longest,
            ),
        )
    )
    raw_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    db.add(
        PatientSession(
            patient_id=patient.id, token_hash=hash_token(raw_id), created_at=now, last_seen_at=now
        )
    )
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
    session[SESSION_ID] = raw_id
    return patient


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=config["PATIENT_IDLE_MINUTES"]),
        timedelta(hours=config["PATIENT_SESSION_HOURS"]),
    )


def _cookie_session_hash() -> str | None:
    raw = session.get(SESSION_ID)
    return hash_token(raw) if isinstance(raw, str) and 0 < len(raw) <= 100 else None


def _end_cookie_session(db: Session, now: datetime) -> None:
    token_hash = _cookie_session_hash()
    if token_hash is not None:
        db.execute(
            update(PatientSession)
            .where(PatientSession.token_hash == token_hash, PatientSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def end_session(db: Session, now: datetime) -> None:
    """Sign out on this device: the session ends on the server (every copy of the cookie
    with it), then the cookie forgets the patient."""
    _end_cookie_session(db, now)
    db.commit()
    sign_out()


def sign_out() -> None:
    """Forget the patient in this cookie (the server's session row is left as it is)."""
    session.pop(SESSION_PATIENT, None)
    session.pop(SESSION_VERSION, None)
    session.pop(SESSION_ID, None)


def signed_out_page(status: int = 401):
    return make_response(render_template("patient/signed_out.html"), status)


Owned = TypeVar("Owned", PainEntry, SymptomReport)


def own_row_or_404(db: Session, me: SignedInPatient, model: type[Owned], row_id: int) -> Owned:
    """One of the signed-in patient's own rows; anyone else's (or none) is a 404."""
    row = db.get(model, row_id)
    if row is None or row.plan_id not in {plan.id for plan in me.patient.plans}:
        abort(404)
    return row


# session_row, session_seen, session_started, checked_version, language
_SESSION_COLUMNS = 5


def _latest_plan_query(*columns: Any, with_clinic: bool = False) -> Select[Any]:
    """``columns`` of patient ``:patient_id`` and their latest plan (``plans[-1]``), joined
    with the live session ``:session_hash`` of that patient; the session's id, last use and
    start, the patient's ``session_version`` and the language of the pages come last
    (``_SESSION_COLUMNS``)."""
    patient, plan, clinic = Patient.__table__.c, CarePlan.__table__.c, Clinic.__table__.c
    live = PatientSession.__table__.c
    query = (
        select(
            *columns,
            live.id.label("session_row"),
            live.last_seen_at.label("session_seen"),
            live.created_at.label("session_started"),
            patient.session_version.label("checked_version"),
            patient.language.label("language"),
        )
        .select_from(Patient.__table__)
        .join(CarePlan.__table__, plan.patient_id == patient.id)
        .join(
            PatientSession.__table__,
            (live.patient_id == patient.id)
            & (live.token_hash == bindparam("session_hash"))
            & live.ended_at.is_(None),
        )
    )
    if with_clinic:
        query = query.join(Clinic.__table__, clinic.id == plan.clinic_id)
    return query.where(patient.id == bindparam("patient_id")).order_by(plan.id.desc()).limit(1)


_TOUCH = (
    update(PatientSession.__table__)
    .where(PatientSession.__table__.c.id == bindparam("row"))
    .values(last_seen_at=bindparam("now"))
)


def _signed_in(db: Session, query: Select[Any], *, core: bool = False) -> Row[Any]:
    """One round trip for ``query`` (see ``_latest_plan_query``) for the signed-in patient;
    or sign out and abort with the kind page. The cookie's ``session_version`` must match
    (a revoked or rotated link ends this session too) and its session must be live: not
    signed out, not idle too long, not too old. At most once a minute, one UPDATE notes
    the session's use (committed at once). ``core``: plain columns, run on the session's
    connection without the ORM's per-statement work."""
    patient_id = session.get(SESSION_PATIENT)
    version = session.get(SESSION_VERSION)
    session_hash = _cookie_session_hash()
    row = None
    now = request_now()
    if isinstance(patient_id, int) and session_hash is not None:
        params = {"patient_id": patient_id, "session_hash": session_hash}
        result = db.connection().execute(query, params) if core else db.execute(query, params)
        row = result.first()
    if row is not None and version == row.checked_version:
        idle, longest = _limits()
        if now - row.session_seen <= idle and now - row.session_started <= longest:
            if (now - row.session_seen).total_seconds() >= TOUCH_SECONDS:
                db.connection().execute(_TOUCH, {"row": row.session_row, "now": now})
                db.commit()
            g.language = row.language  # the pages' language (tracker/app: Babel's locale)
            return row
    sign_out()
    abort(signed_out_page())


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
    return PlanFacts(*_signed_in(db, _PLAN_FACTS, core=True)[:-_SESSION_COLUMNS])
