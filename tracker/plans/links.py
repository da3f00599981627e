"""Personal sign-in links for patients and their caregivers: long random tokens, stored only
as a SHA-256 hash. A caregiver's link (``caregiver_id`` set) signs in that caregiver, for
their patient; it stops working when they are removed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.core.db import insert_or_ignore
from tracker.core.models import Caregiver, CarePlan, Patient, PatientLinkToken
from tracker.core.timeutil import local_wall_time_to_utc
from tracker.plans.agenda import plan_last_day

TOKEN_BYTES = 32  # 256 bits; the URL-safe text is 43 characters
LINK_PATH = "/p/"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def link_url(base_url: str, raw: str) -> str:
    return base_url.rstrip("/") + LINK_PATH + raw


def link_expiry(plan: CarePlan, grace_days: int) -> datetime:
    """Links stay valid until the end of the plan's last local day plus a grace period."""
    last = plan_last_day(plan) + timedelta(days=grace_days + 1)
    return local_wall_time_to_utc(last, time(0, 0), plan.timezone)


def issue_link(
    session: Session,
    patient: Patient,
    plan: CarePlan,
    *,
    now: datetime,
    grace_days: int,
    caregiver: Caregiver | None = None,
) -> str:
    """Create a new personal link for ``patient`` (or for ``caregiver``, one of theirs) and
    return its raw token (shown once)."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        PatientLinkToken(
            patient_id=patient.id,
            caregiver_id=caregiver.id if caregiver is not None else None,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=max(link_expiry(plan, grace_days), now + timedelta(days=1)),
        )
    )
    return raw


def revoke_links(session: Session, patient: Patient, *, now: datetime) -> int:
    """Revoke every live link of ``patient`` and end their sessions; returns how many.
    Their caregivers' links and sessions are theirs: ``revoke_caregiver_links``."""
    result = session.execute(
        update(PatientLinkToken)
        .where(
            PatientLinkToken.patient_id == patient.id,
            PatientLinkToken.caregiver_id.is_(None),
            PatientLinkToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    patient.session_version += 1
    return result.rowcount or 0


def revoke_caregiver_links(session: Session, caregiver: Caregiver, *, now: datetime) -> int:
    """Revoke every live link of ``caregiver`` and make their session cookies stale (their
    ``session_version``); returns how many links."""
    result = session.execute(
        update(PatientLinkToken)
        .where(
            PatientLinkToken.caregiver_id == caregiver.id,
            PatientLinkToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    caregiver.session_version += 1
    return result.rowcount or 0


def rotate_link(
    session: Session, patient: Patient, plan: CarePlan, *, now: datetime, grace_days: int
) -> str:
    revoke_links(session, patient, now=now)
    return issue_link(session, patient, plan, now=now, grace_days=grace_days)


def find_valid_token(session: Session, raw: str, *, now: datetime) -> PatientLinkToken | None:
    """The live token for ``raw``, or None if unknown, expired, revoked or of a removed
    caregiver (indistinguishably)."""
    if not raw or len(raw) > 200:
        return None
    found = session.execute(
        select(PatientLinkToken, Caregiver.removed_at)
        .outerjoin(Caregiver, Caregiver.id == PatientLinkToken.caregiver_id)
        .where(PatientLinkToken.token_hash == hash_token(raw))
    ).first()
    if found is None:
        return None
    token, caregiver_removed_at = found
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.caregiver_id is not None and caregiver_removed_at is not None:
        return None
    return token


def _reminder_raw(
    secret_key: str, message_key: str, session_version: int, caregiver_id: int | None = None
) -> str:
    who = "" if caregiver_id is None else f"caregiver-{caregiver_id}:"
    material = f"reminder-link:{who}{message_key}:{session_version}".encode()
    digest = hmac.new(secret_key.encode("utf-8"), material, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def reminder_link_tokens(
    session: Session,
    messages: Sequence[
        tuple[Patient, CarePlan, str] | tuple[Patient, CarePlan, str, Caregiver | None]
    ],
    *,
    secret_key: str,
    now: datetime,
    grace_days: int,
) -> dict[str, str]:
    """The raw personal-link token for each ``(patient, plan, message_key)``, by message key;
    a fourth item, a caregiver of the patient, makes it that caregiver's link (derived from
    their own session version, so removing them or rotating their link changes it).

    Each token is derived from the server secret, the message's idempotency key and the
    patient's session version, so every retry of a message carries the same link (a
    duplicate is identical), while revoking or rotating the patient's links (which bumps
    the session version) makes the next message carry a fresh one. Only hashes are stored:
    one query finds those already stored, one INSERT adds the rest (a row another
    scheduler stored meanwhile is skipped: same token). The caller commits.
    """
    raws: dict[str, str] = {}
    wanted: dict[str, tuple[Patient, CarePlan, Caregiver | None]] = {}
    for message in messages:
        patient, plan, message_key = message[:3]
        caregiver = message[3] if len(message) > 3 else None
        if caregiver is None:
            raw = _reminder_raw(secret_key, message_key, patient.session_version)
        else:
            raw = _reminder_raw(secret_key, message_key, caregiver.session_version, caregiver.id)
        raws[message_key] = raw
        wanted[hash_token(raw)] = (patient, plan, caregiver)
    if not wanted:
        return raws
    stored = set(
        session.scalars(
            select(PatientLinkToken.token_hash).where(PatientLinkToken.token_hash.in_(wanted))
        )
    )
    missing = [
        {
            "patient_id": patient.id,
            "caregiver_id": caregiver.id if caregiver is not None else None,
            "token_hash": token_hash,
            "created_at": now,
            "expires_at": max(link_expiry(plan, grace_days), now + timedelta(days=1)),
        }
        for token_hash, (patient, plan, caregiver) in wanted.items()
        if token_hash not in stored
    ]
    if missing:
        session.execute(
            insert_or_ignore(session, PatientLinkToken, index_elements=["token_hash"]), missing
        )
    return raws


def reminder_link_token(
    session: Session,
    patient: Patient,
    plan: CarePlan,
    *,
    secret_key: str,
    message_key: str,
    now: datetime,
    grace_days: int,
) -> str:
    """The raw personal-link token to put in one reminder message (see reminder_link_tokens)."""
    return reminder_link_tokens(
        session,
        [(patient, plan, message_key)],
        secret_key=secret_key,
        now=now,
        grace_days=grace_days,
    )[message_key]
