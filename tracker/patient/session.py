"""Patient sign-in by personal link, and the one check every patient page makes.

A caregiver's personal link signs in that caregiver, for their patient: a ``patient_session``
row with ``caregiver_id``, checked against the caregiver's own ``session_version`` and
``removed_at`` in the same single query (SPEC section 6, "Caregivers"). The pages are then in
the caregiver's language; a "view" caregiver may read but not record (``require_recorder``).

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
from sqlalchemy import Row, Select, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.clock import request_now
from tracker.core.models import (
    Caregiver,
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
class SignedInCaregiver:
    """The caregiver signed in on these pages, for the patient ``helping`` (their name)."""

    id: int
    name: str
    relation: str
    scope: str
    language: str
    helping: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.relation})"

    @property
    def can_record(self) -> bool:
        return self.scope == "act"


@dataclass(frozen=True)
class SignedInPatient:
    patient: Patient
    plan: CarePlan
    # None: the patient themselves; else the caregiver signed in for them.
    caregiver: SignedInCaregiver | None = None

    @property
    def can_record(self) -> bool:
        return self.caregiver is None or self.caregiver.can_record

    @property
    def caregiver_id(self) -> int | None:
        return self.caregiver.id if self.caregiver is not None else None


def sign_in_with_link(
    db: Session, raw: str, *, now: datetime, remote_addr: str | None
) -> Patient | None:
    """Start a session for a live link -- the patient's, or one of their caregivers' (who
    then signs in as themselves) -- and return the patient; None (and nothing stored)
    otherwise."""
    token = find_valid_token(db, raw, now=now)
    if token is None:
        return None
    patient = db.get(Patient, token.patient_id)
    if patient is None or not patient.plans:
        return None
    caregiver = db.get(Caregiver, token.caregiver_id) if token.caregiver_id is not None else None
    if token.caregiver_id is not None and (
        caregiver is None or caregiver.removed_at is not None or caregiver.patient_id != patient.id
    ):
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
            patient_id=patient.id,
            caregiver_id=caregiver.id if caregiver is not None else None,
            token_hash=hash_token(raw_id),
            created_at=now,
            last_seen_at=now,
        )
    )
    audit.record(
        db,
        now=now,
        action="caregiver.link_sign_in" if caregiver is not None else "patient.link_sign_in",
        **actor_fields(patient.id, caregiver.id if caregiver is not None else None),
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        detail={"token_id": token.id},
        remote_addr=remote_addr,
    )
    db.commit()
    # A new session: nothing from an earlier visitor on this browser carries over.
    session.clear()
    session[SESSION_PATIENT] = patient.id
    session[SESSION_VERSION] = (
        caregiver.session_version if caregiver is not None else patient.session_version
    )
    session[SESSION_ID] = raw_id
    return patient


def actor_fields(patient_id: int, caregiver_id: int | None) -> dict[str, Any]:
    """``audit.record``'s actor keywords for what the signed-in person does: the patient,
    or the caregiver signed in for them."""
    if caregiver_id is not None:
        return {"actor_type": "caregiver", "actor_caregiver_id": caregiver_id}
    return {"actor_type": "patient", "actor_patient_id": patient_id}


def view_only_page(me: SignedInPatient):
    """The kind refusal for a caregiver who may only view: a 403, nothing stored."""
    return make_response(render_template("patient/view_only.html", me=me), 403)


def require_recorder(db: Session, me: SignedInPatient | PlanFacts) -> None:
    """Abort with the view-only page unless the signed-in person may record: the patient,
    or a caregiver allowed to act for them."""
    if not me.can_record:
        abort(view_only_page(me if isinstance(me, SignedInPatient) else current_patient(db)))


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


# session_row, session_seen, session_started, checked_version, language, caregiver_id,
# caregiver_name, caregiver_relation, caregiver_scope, patient_name
_SESSION_COLUMNS = 10


def _latest_plan_query(*columns: Any, with_clinic: bool = False) -> Select[Any]:
    """``columns`` of patient ``:patient_id`` and their latest plan (``plans[-1]``), joined
    with the live session ``:session_hash`` of that patient -- and, for a caregiver's
    session, with that caregiver, who must not be removed. Last come the session's id, last
    use and start, the ``session_version`` the cookie must hold (the caregiver's for their
    session, else the patient's), the language of the pages, the caregiver's id, name,
    relation and scope (NULL for the patient) and the patient's name
    (``_SESSION_COLUMNS``)."""
    patient, plan, clinic = Patient.__table__.c, CarePlan.__table__.c, Clinic.__table__.c
    live, carer = PatientSession.__table__.c, Caregiver.__table__.c
    query = (
        select(
            *columns,
            live.id.label("session_row"),
            live.last_seen_at.label("session_seen"),
            live.created_at.label("session_started"),
            case(
                (live.caregiver_id.is_(None), patient.session_version),
                else_=carer.session_version,
            ).label("checked_version"),
            func.coalesce(carer.language, patient.language).label("language"),
            live.caregiver_id.label("caregiver_id"),
            carer.name.label("caregiver_name"),
            carer.relation.label("caregiver_relation"),
            carer.scope.label("caregiver_scope"),
            patient.name.label("patient_name"),
        )
        .select_from(Patient.__table__)
        .join(CarePlan.__table__, plan.patient_id == patient.id)
        .join(
            PatientSession.__table__,
            (live.patient_id == patient.id)
            & (live.token_hash == bindparam("session_hash"))
            & live.ended_at.is_(None),
        )
        .outerjoin(
            Caregiver.__table__,
            (carer.id == live.caregiver_id) & (carer.patient_id == patient.id),
        )
    )
    if with_clinic:
        query = query.join(Clinic.__table__, clinic.id == plan.clinic_id)
    # A caregiver's session whose caregiver was removed (or is not this patient's) has no
    # live caregiver row: no row at all, so the signed-out page.
    signed_in = (live.caregiver_id.is_(None)) | (carer.id.is_not(None) & carer.removed_at.is_(None))
    return (
        query.where(patient.id == bindparam("patient_id"), signed_in)
        .order_by(plan.id.desc())
        .limit(1)
    )


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
            g.caregiver = _caregiver_of(row)  # the "signed in as" banner (patient/base.html)
            return row
    sign_out()
    abort(signed_out_page())


def _caregiver_of(row: Row[Any]) -> SignedInCaregiver | None:
    if row.caregiver_id is None:
        return None
    return SignedInCaregiver(
        id=row.caregiver_id,
        name=row.caregiver_name,
        relation=row.caregiver_relation,
        scope=row.caregiver_scope,
        language=row.language,
        helping=row.patient_name,
    )


_PATIENT_AND_PLAN = _latest_plan_query(Patient, CarePlan)


def current_patient(db: Session) -> SignedInPatient:
    """The signed-in patient and their plan (the latest), and the caregiver when one is
    signed in for them; or abort with the kind page."""
    row = _signed_in(db, _PATIENT_AND_PLAN)
    return SignedInPatient(patient=row.Patient, plan=row.CarePlan, caregiver=_caregiver_of(row))


def current_recorder(db: Session) -> SignedInPatient:
    """``current_patient`` for a page that records: a caregiver who may only view gets
    the view-only page (403) and nothing is stored."""
    me = current_patient(db)
    require_recorder(db, me)
    return me


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
    # None: the patient; else the caregiver signed in for them (who records as themselves).
    caregiver_id: int | None
    can_record: bool


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
    row = _signed_in(db, _PLAN_FACTS, core=True)
    return PlanFacts(
        *row[:-_SESSION_COLUMNS],
        caregiver_id=row.caregiver_id,
        can_record=row.caregiver_id is None or row.caregiver_scope == "act",
    )
