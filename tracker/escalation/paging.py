"""On-call paging: every patient in trouble reaches a person (SPEC section 6, "Escalation").

Outside the clinic's office hours (its own time zone, office_hours.py), an open alert whose
urgency is pageable (critical and urgent always; high only when the clinic chooses) pages
the first of the clinic's active on-call contacts at once. Nobody acknowledging within the
clinic's escalation delay pages the next contact in position order, wrapping round the
list, for at most ``PASSES`` passes through it; then the escalation is *exhausted* (the
alert stays open on the triage list, and its history says nobody answered). This is the
escalation policy of on-call paging tools: only acknowledging (or resolving) stops it.

State lives on the alert: ``page_round`` (a new round starts when newer, worse evidence
re-opens it), ``escalation_level`` (pages queued in the round, 0: none yet) and
``next_escalation_at`` (when the next contact is due; NULL: nothing pending). Every change
to them is a conditional UPDATE on the values read, so two scheduler processes (or a web
request and a tick) never queue the same step twice: the loser's UPDATE matches no row
and it queues nothing. The unique key (alert, round, step) of the page outbox backs that
up with an insert-or-ignore.

Pages are rows of the ``page`` outbox, delivered by the tick exactly as reminders are
(reminder_delivery's ``claim``/``_finish``/``release``, with a lease): no page is lost when
a scheduler is killed, each carries an idempotency key (``page-<alert>-<round>-<step>``:
the email's Message-ID, the webhook's Idempotency-Key header), failures are retried with
the reminders' backoff, and a dead page tells the care team (a ``page_failed`` event on the
alert) and pages the next contact at once. A page whose alert was acknowledged or resolved
before it left is cancelled, not sent. Everything a page says is in the audit log.

Every function takes ``now``; nothing here reads the clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from markupsafe import escape
from sqlalchemy import Row, and_, literal_column, or_, select, update
from sqlalchemy.orm import Session

from tracker.alerts.rules import record_event
from tracker.core import audit
from tracker.core.db import insert_or_ignore
from tracker.core.models import Alert, Clinic, OnCallContact, Page, Patient
from tracker.core.timeutil import local_day, require_aware
from tracker.escalation.office_hours import is_open
from tracker.plans.warning_signs import current_signs, signs_911
from tracker.reminders.channels import Channels, DeliveryError
from tracker.reminders.delivery import (
    CANCELLED,
    DeliverySettings,
    _finish,
    backoff,
    claim,
    release,
    worker_name,
)
from tracker.reminders.messages import OutgoingMessage
from tracker.reminders.sms_text import fit
from tracker.web.time_format import clinic_time

log = logging.getLogger("tracker.paging")

# Urgencies that page out of hours whatever the clinic chose; "high" pages only when the
# clinic's ``page_high_alerts`` is set.
PAGED_ALWAYS = ("critical", "urgent")
PAGEABLE = (*PAGED_ALWAYS, "high")
# Passes through the on-call list before the escalation is exhausted.
PASSES = 3
# Alerts handled per transaction batch by the tick's escalation step.
ESCALATION_BATCH_SIZE = 200
# A page's text message fits in sms_text.MAX_SEGMENTS segments (SPEC section 6: a GSM-7
# segment holds 160 characters, 153 when concatenated; UCS-2 70, 67).

ACKNOWLEDGED = f"{CANCELLED}alert acknowledged/resolved"
SUPERSEDED = f"{CANCELLED}superseded by a newer round of paging for this alert"

RULE_TITLES = {
    "red_flag": "Red flag",
    "severe_pain": "Severe pain",
    "worsening": "Worsening pain",
    "not_improving": "Not improving",
    "missed_checkin": "No check-in",
    "undeliverable": "Reminder undeliverable",
}
CHANNEL_WORDS = {"email": "email", "webhook": "text message", "log": "the log"}
# The partial index ix_alert_escalation_due is on "status = 'open'": the literal (not a
# bound parameter) lets both databases see that the query's condition implies the index's.
OPEN = literal_column("'open'")


def _note(
    session: Session,
    alert: Any,
    *,
    kind: str,
    summary: str,
    now: datetime,
    detail: dict[str, Any],
    audited: dict[str, Any] | None = None,
) -> None:
    """One step of paging, in the alert's history and in the audit log (as ``alert.<kind>``,
    by the system): the audit row holds ``detail`` and, when given, what the page said."""
    record_event(session, alert_id=alert.id, kind=kind, summary=summary, now=now, detail=detail)
    audit.record(
        session,
        now=now,
        action=f"alert.{kind}",
        actor_type="system",
        clinic_id=alert.clinic_id,
        patient_id=alert.patient_id,
        detail={"alert_id": alert.id, **detail, **(audited or {})},
    )


def pageable(urgency: str, clinic: Clinic) -> bool:
    """Whether an alert of ``urgency`` pages the clinic's on-call contacts out of hours."""
    return urgency in PAGED_ALWAYS or (urgency == "high" and bool(clinic.page_high_alerts))


def on_call_contacts(session: Session, clinic_id: int) -> list[OnCallContact]:
    """The clinic's active on-call contacts in escalation order (position, then id)."""
    return list(
        session.scalars(
            select(OnCallContact)
            .where(OnCallContact.clinic_id == clinic_id, OnCallContact.active)
            .order_by(OnCallContact.position, OnCallContact.id)
        )
    )


def contact_for_step(contacts: Sequence[OnCallContact], step: int) -> OnCallContact:
    """Step 1 pages the first contact, step k the k-th, wrapping round the list."""
    return contacts[(step - 1) % len(contacts)]


def page_key(alert_id: int, round_: int, step: int) -> str:
    return f"page-{alert_id}-{round_}-{step}"


# What paging reads of an alert, and then conditions its UPDATEs on.
_ALERT_STATE = (
    Alert.id,
    Alert.clinic_id,
    Alert.patient_id,
    Alert.status,
    Alert.urgency,
    Alert.page_round,
    Alert.escalation_level,
    Alert.next_escalation_at,
)


def _read_alert(session: Session, alert_id: int) -> Row[Any] | None:
    return session.execute(select(*_ALERT_STATE).where(Alert.id == alert_id)).one_or_none()


def _expire_alert(session: Session, alert_id: int) -> None:
    """The caller's copy of the alert (a web request that just raised it) is read again
    after the paging columns changed under it."""
    loaded = session.identity_map.get(session.identity_key(Alert, alert_id))
    if loaded is not None:
        session.expire(loaded, ["escalation_level", "next_escalation_at"])


def _paging_in_round(session: Session, alert_id: int, round_: int) -> bool:
    """A page of the alert's round is queued or was sent."""
    found = session.scalar(
        select(Page.id)
        .where(
            Page.alert_id == alert_id,
            Page.round == round_,
            Page.status.in_(("pending", "sent")),
        )
        .limit(1)
    )
    return found is not None


def _queue(
    session: Session,
    alert: Row[Any],
    clinic: Clinic,
    contacts: Sequence[OnCallContact],
    *,
    step: int,
    now: datetime,
    reason: str,
    due_only: bool = False,
) -> bool:
    """Queue page ``step`` of the alert's current round, if the alert is still as read.

    ``alert`` is what the caller read (status, round, level). The UPDATE applies only if
    the alert is still open, in the same round and at level ``step - 1`` (and, for the
    escalation timer, ``due_only``: still due): a second process that read the same
    values, or read them before this one committed, matches no row and queues nothing.
    Adds to ``session``; the caller commits. Returns whether this call queued the page.
    """
    conditions = [
        Alert.id == alert.id,
        Alert.status == "open",
        Alert.page_round == alert.page_round,
        Alert.escalation_level == step - 1,
    ]
    if due_only:
        conditions.append(Alert.next_escalation_at <= now)
    delay = timedelta(minutes=clinic.escalation_delay_minutes)
    result = session.execute(
        update(Alert)
        .where(*conditions)
        .values(escalation_level=step, next_escalation_at=now + delay)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _expire_alert(session, alert.id)
    contact = contact_for_step(contacts, step)
    key = page_key(alert.id, alert.page_round, step)
    page_id = session.execute(
        insert_or_ignore(session, Page.__table__).returning(Page.__table__.c.id),
        {
            "alert_id": alert.id,
            "clinic_id": alert.clinic_id,
            "contact_id": contact.id,
            "round": alert.page_round,
            "step": step,
            "channel": contact.channel,
            "address": contact.address,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "idempotency_key": key,
            "created_at": now,
        },
    ).scalar_one_or_none()
    if page_id is None:
        # Cannot happen while the UPDATE above guards the step; the unique key is the
        # second line of defence, and the page that exists is the one that counts.
        log.warning("page %s already existed", key)
        return True
    how = CHANNEL_WORDS.get(contact.channel, contact.channel)
    facts = {
        "page_id": page_id,
        "round": alert.page_round,
        "step": step,
        "contact_id": contact.id,
        "contact": contact.name,
        "channel": contact.channel,
        "address": contact.address,
        "idempotency_key": key,
        "reason": reason,
    }
    _note(
        session,
        alert,
        kind="page_queued",
        summary=f"Paging {contact.name} by {how} ({reason})",
        now=now,
        detail=facts,
    )
    log.info("alert %s: page %s queued for %s by %s", alert.id, key, contact.name, how)
    return True


def _exhaust(
    session: Session,
    alert: Row[Any],
    *,
    level: int,
    contacts: int,
    now: datetime,
) -> bool:
    """Stop escalating an alert whose pages went round the list ``PASSES`` times (or that
    has nobody left to page). Conditional, like ``_queue``; the caller commits."""
    result = session.execute(
        update(Alert)
        .where(
            Alert.id == alert.id,
            Alert.status == "open",
            Alert.page_round == alert.page_round,
            Alert.escalation_level == level,
            Alert.next_escalation_at.is_not(None),
        )
        .values(next_escalation_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _expire_alert(session, alert.id)
    if contacts:
        summary = (
            f"Nobody acknowledged after {level} page(s) ({PASSES} times through the on-call "
            "list); paging stopped, the alert stays open"
        )
    else:
        summary = "Nobody is left on the on-call list to page; the alert stays open"
    detail = {"round": alert.page_round, "pages": level, "contacts": contacts}
    _note(session, alert, kind="escalation_exhausted", summary=summary, now=now, detail=detail)
    log.warning("alert %s: escalation exhausted after %d page(s)", alert.id, level)
    return True


def _next_page(
    session: Session,
    alert: Row[Any],
    clinic: Clinic,
    *,
    now: datetime,
    reason: str,
    due_only: bool,
) -> str | None:
    """Page the next contact after the alert's current level, or stop when exhausted.

    Returns "queued", "exhausted" or None (nothing done: the alert changed meanwhile)."""
    contacts = on_call_contacts(session, clinic.id)
    level = alert.escalation_level
    if not contacts or level >= PASSES * len(contacts):
        done = _exhaust(session, alert, level=level, contacts=len(contacts), now=now)
        return "exhausted" if done else None
    queued = _queue(
        session, alert, clinic, contacts, step=level + 1, now=now, reason=reason, due_only=due_only
    )
    return "queued" if queued else None


def page_if_needed(session: Session, alert_id: int, now: datetime) -> bool:
    """Page the on-call contact about an alert just raised or made more urgent, if needed.

    Called by web requests right after raising or escalating an alert (before their
    commit), and by the tick. Queues the first page of the alert's current round when the
    alert is open, its urgency is pageable for its clinic, the clinic is outside office
    hours at ``now``, it has active on-call contacts and the round has no page yet.

    Returns True when a page of the current round is queued or was sent (by this call or
    earlier): only then may the patient be told that the on-call nurse is being paged.
    Adds to ``session``; the caller commits.
    """
    return _first_page(session, alert_id, now)[0]


def _first_page(session: Session, alert_id: int, now: datetime) -> tuple[bool, bool]:
    """``page_if_needed``: (a page of the round is queued or sent, this call queued it)."""
    require_aware(now)
    alert = _read_alert(session, alert_id)
    if alert is None or alert.status != "open":
        return False, False
    if alert.escalation_level > 0:
        return _paging_in_round(session, alert.id, alert.page_round), False
    clinic = session.get(Clinic, alert.clinic_id)
    if clinic is None or not pageable(alert.urgency, clinic) or is_open(clinic, now):
        return False, False
    contacts = on_call_contacts(session, clinic.id)
    if not contacts:
        return False, False
    if _queue(session, alert, clinic, contacts, step=1, now=now, reason="out of office hours"):
        return True, True
    # Another request or a scheduler queued it first (or the alert changed meanwhile).
    return _paging_in_round(session, alert.id, alert.page_round), False


# --- The tick: first pages and escalation ------------------------------------------------


@dataclass
class EscalationCounts:
    queued: int = 0  # first pages
    escalated: int = 0  # pages to the next contact
    exhausted: int = 0
    errors: list[str] = field(default_factory=list)


def _unpaged_alert_ids(session: Session, now: datetime) -> list[int]:
    """Open pageable alerts with no page in their round, of clinics closed at ``now`` that
    have someone on call. During office hours this is one small query (the clinics)."""
    clinics = session.scalars(
        select(Clinic).where(
            Clinic.id.in_(select(OnCallContact.clinic_id).where(OnCallContact.active))
        )
    ).all()
    closed = [clinic for clinic in clinics if not is_open(clinic, now)]
    if not closed:
        return []
    urgent = and_(Alert.clinic_id.in_([c.id for c in closed]), Alert.urgency.in_(PAGED_ALWAYS))
    high = [c.id for c in closed if c.page_high_alerts]
    which = (
        or_(urgent, and_(Alert.clinic_id.in_(high), Alert.urgency == "high")) if high else urgent
    )
    return list(
        session.scalars(
            select(Alert.id)
            .where(Alert.status == OPEN, Alert.escalation_level == 0, which)
            .order_by(Alert.id)
        )
    )


def _due_escalations(session: Session, now: datetime) -> list[Row[Any]]:
    """Open alerts whose next contact is due (ix_alert_escalation_due), oldest first."""
    return list(
        session.execute(
            select(*_ALERT_STATE)
            .where(Alert.status == OPEN, Alert.next_escalation_at <= now)
            .order_by(Alert.next_escalation_at, Alert.id)
            .limit(ESCALATION_BATCH_SIZE)
        ).all()
    )


def escalate(session: Session, alert: Row[Any], now: datetime) -> str | None:
    """Page the next contact of an alert read by ``_due_escalations`` (or stop paging it);
    "queued", "exhausted", or None when the alert changed since it was read. Adds to
    ``session``; the caller commits.

    Neither office hours nor urgency are looked at again: once a person has been paged,
    paging goes on until somebody acknowledges (or resolves) the alert, even if the office
    opens meanwhile. Opening time is no proof that anyone has read the triage list, and
    stopping there would leave the alert half-escalated, with the contacts paged so far
    believing someone else took it; acknowledging is the one signal that a person has.
    """
    clinic = session.get(Clinic, alert.clinic_id)
    if clinic is None:
        return None
    minutes = clinic.escalation_delay_minutes
    return _next_page(
        session,
        alert,
        clinic,
        now=now,
        reason=f"not acknowledged within {minutes} minute{'s' if minutes != 1 else ''}",
        due_only=True,
    )


def run_escalation(
    session: Session, now: datetime, *, stop: threading.Event | None = None
) -> EscalationCounts:
    """The tick's escalation step: (a) first pages for open pageable alerts with no page in
    their round whose clinic is now out of hours (alerts raised by the tick's own rules, and
    alerts still unacknowledged when the office closes); (b) the next contact for alerts
    whose escalation delay has passed. One transaction per alert, so one failure (or one
    lost race) costs only that alert."""
    require_aware(now)
    counts = EscalationCounts()

    def attempt(alert_id: int, work: Callable[[], Any]) -> Any:
        try:
            outcome = work()
            session.commit()
            return outcome
        except Exception as exc:
            session.rollback()
            counts.errors.append(f"alert {alert_id}: {type(exc).__name__}: {exc}")
            log.exception("paging alert %s failed", alert_id)
            return None

    unpaged = _unpaged_alert_ids(session, now)
    session.commit()
    for alert_id in unpaged:
        if stop and stop.is_set():
            return counts
        outcome = attempt(alert_id, lambda alert_id=alert_id: _first_page(session, alert_id, now))
        if outcome and outcome[1]:
            counts.queued += 1

    seen: set[int] = set()
    while not (stop and stop.is_set()):
        due = [row for row in _due_escalations(session, now) if row.id not in seen]
        session.commit()
        if not due:
            break
        for row in due:
            seen.add(row.id)
            outcome = attempt(row.id, lambda row=row: escalate(session, row, now))
            if outcome == "queued":
                counts.escalated += 1
            elif outcome == "exhausted":
                counts.exhausted += 1
    return counts


# --- The tick: delivering pages ------------------------------------------------------------


@dataclass
class PageCounts:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    lost_lease: int = 0
    errors: list[str] = field(default_factory=list)

    def progress(self) -> int:
        return self.sent + self.retried + self.dead + self.cancelled + self.lost_lease


def patient_page_link(app: Flask, base_url: str | None = None) -> Callable[[int], str]:
    """``patient id -> URL`` of the care team's page for that patient (BASE_URL and the
    coordinator ``patient_detail`` route), built without a request context."""
    base = (base_url if base_url is not None else app.config["BASE_URL"]).rstrip("/")
    adapter = app.url_map.bind("localhost")

    def link(patient_id: int) -> str:
        return base + adapter.build("coordinator.patient_detail", {"patient_id": patient_id})

    return link


def _sms(word: str, name: str, phone: str, clinic: str, summary: str, link: str) -> str:
    """The page as a text message: who, their phone, what is wrong, the link, and what the
    patient should do for a 911 sign (from the warning-signs data). At most
    ``MAX_SEGMENTS`` segments: the summary is shortened first, then the clinic's name and
    the patient's name; the urgency, phone, link and safety line are always there."""
    return fit(
        [
            (f"{word}:", True),
            (f"{name},", False),
            (f"{phone},", True),
            (f"{clinic}.", False),
            (summary, False),
            (link, True),
            (f"For {signs_911(current_signs())}, the patient should call 911 now.", True),
        ]
    )


def compose_page(
    page: Page,
    alert: Alert,
    patient: Patient,
    clinic: Clinic,
    contact: OnCallContact,
    link: str,
    *,
    now: datetime,
) -> OutgoingMessage:
    """What a page says: who, how to reach them, what is wrong now, where to act."""
    word = alert.urgency.upper()
    rule = RULE_TITLES.get(alert.rule, alert.rule.replace("_", " ").capitalize())
    subject = f"{word}: {rule} for {patient.name}"
    phone = patient.phone or "no phone number on file"
    minutes = clinic.escalation_delay_minutes
    order = "first" if page.step == 1 else f"number {page.step}"
    text_lines = [
        f"{word} alert for {patient.name} at {clinic.name}: {rule.lower()}.",
        "",
        alert.summary,
        f"Raised {clinic_time(alert.raised_at, clinic.timezone, now=now)}.",
        "",
        f"Patient: {patient.name}",
        f"Phone: {phone}",
        f"Clinic: {clinic.name} ({clinic.phone})",
        "",
        "Open the patient's page and acknowledge the alert to stop the paging:",
        link,
        "",
        f"You are on call for {clinic.name}; this is page {order} for this alert. If nobody "
        f"acknowledges it within {minutes} minute{'s' if minutes != 1 else ''}, the next "
        "on-call contact is paged.",
    ]
    text = "\n".join(text_lines)
    paragraphs = []
    for line in filter(None, text_lines):
        if line == link:
            paragraphs.append(f'<p><a href="{escape(link)}">{escape(link)}</a></p>')
        else:
            paragraphs.append(f"<p>{escape(line)}</p>")
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(subject)}</title>'
        f"</head><body>{''.join(paragraphs)}</body></html>"
    )
    short = _sms(word, patient.name, phone, clinic.name, alert.summary, link)
    return OutgoingMessage(
        idempotency_key=page.idempotency_key,
        kind="page",
        local_day=local_day(now, clinic.timezone),
        subject=subject,
        text=text,
        html=html,
        short_text=short,
        link=link,
        patient_id=patient.id,
        patient_name=patient.name,
        email=page.address if page.channel == "email" else None,
        phone=page.address if page.channel == "webhook" else None,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        to_name=contact.name,
    )


PageRow = tuple[Page, Alert, Patient, Clinic, OnCallContact]


def _load_page(session: Session, page_id: int) -> PageRow | None:
    row = session.execute(
        select(Page, Alert, Patient, Clinic, OnCallContact)
        .join(Alert, Alert.id == Page.alert_id)
        .join(Patient, Patient.id == Alert.patient_id)
        .join(Clinic, Clinic.id == Page.clinic_id)
        .join(OnCallContact, OnCallContact.id == Page.contact_id)
        .where(Page.id == page_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return tuple(row) if row is not None else None  # type: ignore[return-value]


def _page_facts(page: Page, contact: OnCallContact) -> dict[str, Any]:
    return {
        "alert_id": page.alert_id,
        "page_id": page.id,
        "round": page.round,
        "step": page.step,
        "contact_id": contact.id,
        "contact": contact.name,
        "channel": page.channel,
        "address": page.address,
        "idempotency_key": page.idempotency_key,
    }


def _cancel(session: Session, row: PageRow, *, reason: str, worker: str, now: datetime) -> bool:
    page, alert, _, _, contact = row
    _note(
        session,
        alert,
        kind="page_cancelled",
        summary=f"Page to {contact.name} not sent: {reason.removeprefix(CANCELLED)}",
        now=now,
        detail=_page_facts(page, contact),
        audited={"reason": reason},
    )
    return _finish(
        session,
        page.id,
        worker,
        {"status": "dead", "last_error": reason},
        model=Page,
    )


def record_page_outcome(
    session: Session,
    row: PageRow,
    message: OutgoingMessage,
    error: DeliveryError | None,
    *,
    now: datetime,
    worker: str,
    settings: DeliverySettings,
    counts: PageCounts,
) -> None:
    """Record how sending a page went: sent (``error`` None), to be retried with backoff,
    or dead (a permanent failure, or the last attempt): then the care team sees a
    ``page_failed`` event and the next contact is paged at once. Everything is committed
    with the page's new state, and only while the lease is still ``worker``'s: a late
    outcome after the lease was lost records nothing."""
    page, alert, _, clinic, contact = row
    facts = _page_facts(page, contact)
    attempts = page.attempts + 1
    how = CHANNEL_WORDS.get(page.channel, page.channel)
    if error is None:
        _note(
            session,
            alert,
            kind="page_sent",
            summary=f"Paged {contact.name} by {how}",
            now=now,
            detail=facts,
            audited={
                "attempts": attempts,
                "subject": message.subject,
                "text": message.text,
                "sms": message.short_text,
                "link": message.link,
            },
        )
        values = {"status": "sent", "sent_at": now, "attempts": attempts, "last_error": None}
        if _finish(session, page.id, worker, values, model=Page):
            counts.sent += 1
            log.info("page %s sent to %s by %s", page.idempotency_key, contact.name, how)
        else:
            counts.lost_lease += 1
            log.warning("page %s sent after its lease lapsed", page.idempotency_key)
        return

    text = str(error)[:1000]
    if not (error.permanent or attempts >= settings.max_attempts):
        retry_at = now + backoff(attempts, settings)
        values = {"attempts": attempts, "last_error": text, "next_attempt_at": retry_at}
        if _finish(session, page.id, worker, values, model=Page):
            counts.retried += 1
            log.info(
                "page %s failed (attempt %d), retry at %s: %s",
                page.idempotency_key,
                attempts,
                retry_at.isoformat(),
                text,
            )
        else:
            counts.lost_lease += 1
        return

    _note(
        session,
        alert,
        kind="page_failed",
        summary=f"Could not page {contact.name} by {how} after {attempts} attempt(s): {text}",
        now=now,
        detail={**facts, "attempts": attempts, "error": text},
        audited={"subject": message.subject, "text": message.text, "sms": message.short_text},
    )
    # Nobody was reached by this page: the next contact now, not after the delay. Only if
    # this page is still the alert's latest (escalation may have moved on meanwhile).
    current = _read_alert(session, alert.id)
    if (
        current is not None
        and current.status == "open"
        and current.page_round == page.round
        and current.escalation_level == page.step
    ):
        _next_page(
            session,
            current,
            clinic,
            now=now,
            reason=f"the page to {contact.name} failed",
            due_only=False,
        )
    values = {"status": "dead", "attempts": attempts, "last_error": text}
    if _finish(session, page.id, worker, values, model=Page):
        counts.dead += 1
        log.warning("page %s dead after %d attempt(s): %s", page.idempotency_key, attempts, text)
    else:
        counts.lost_lease += 1


def _why_not_send(page: Page, alert: Alert) -> str | None:
    if alert.status != "open":
        return ACKNOWLEDGED
    if page.round != alert.page_round:
        return SUPERSEDED
    return None


def deliver_page(
    session: Session,
    page_id: int,
    *,
    now: datetime,
    worker: str,
    channels: Channels,
    settings: DeliverySettings,
    link_for: Callable[[int], str],
    counts: PageCounts,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Send one claimed page (or cancel it) and record the outcome."""
    row = _load_page(session, page_id)
    if row is None:
        return
    page, alert, patient, clinic, contact = row
    if page.status != "pending" or page.locked_by != worker:
        session.commit()
        return  # not ours (any more)
    reason = _why_not_send(page, alert)
    if reason is not None:
        if _cancel(session, row, reason=reason, worker=worker, now=now):
            counts.cancelled += 1
            log.info("page %s not sent: %s", page.idempotency_key, reason)
        else:
            counts.lost_lease += 1
        return
    message = compose_page(page, alert, patient, clinic, contact, link_for(patient.id), now=now)
    session.commit()  # end the read transaction: nothing is held open while sending
    error: DeliveryError | None = None
    try:
        channels.prepare(page.channel, message, webhook_url=clinic.webhook_url)()
    except DeliveryError as exc:
        error = exc
    sent_now = max(now, clock()) if clock is not None else now
    record_page_outcome(
        session,
        row,
        message,
        error,
        now=sent_now,
        worker=worker,
        settings=settings,
        counts=counts,
    )


def deliver_pages(
    session: Session,
    *,
    now: datetime,
    channels: Channels,
    settings: DeliverySettings,
    link_for: Callable[[int], str],
    worker: str | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] | None = None,
) -> PageCounts:
    """The tick's page delivery: claim due pages with a lease (as reminders are claimed),
    send them one at a time, record each outcome; batch after batch until none is due.

    Pages are few and each matters: they are sent one after the other, with no sending
    thread; a page queued meanwhile (the next contact after a dead page) goes out in the
    same call. ``stop`` ends it after the page in flight; unsent leases are given back.
    """
    worker = worker or worker_name()
    current = (lambda: max(now, clock())) if clock is not None else (lambda: now)
    counts = PageCounts()
    failed: set[int] = set()
    try:
        while not (stop and stop.is_set()):
            claim_now = current()
            ids = claim(session, now=claim_now, worker=worker, settings=settings, model=Page)
            if not ids:
                break
            before = counts.progress()
            margin = timedelta(seconds=settings.lease_seconds / 5)
            lease_end = claim_now + timedelta(seconds=settings.lease_seconds) - margin
            for page_id in ids:
                if (stop and stop.is_set()) or current() >= lease_end:
                    break
                try:
                    deliver_page(
                        session,
                        page_id,
                        now=current(),
                        worker=worker,
                        channels=channels,
                        settings=settings,
                        link_for=link_for,
                        counts=counts,
                        clock=clock,
                    )
                except Exception as exc:
                    # One page's bug or database hiccup must not stop the others; it keeps
                    # its lease, which lapses, and is tried again then.
                    session.rollback()
                    failed.add(page_id)
                    counts.errors.append(f"page {page_id}: {type(exc).__name__}: {exc}")
                    log.exception("page %s: unexpected error", page_id)
            release(session, worker, keep=failed, model=Page)
            if counts.progress() == before:
                break
    finally:
        channels.close()
    return counts


# --- What is shown: the paging state of alerts -------------------------------------------


@dataclass(frozen=True)
class PagingState:
    """The latest page of an alert's current round, and where its escalation stands.

    ``status``: "queued" (not sent yet, maybe retrying), "sent", "failed" (dead letter)
    or "cancelled" (the alert was acknowledged or resolved before it left).
    """

    alert_id: int
    round: int
    step: int
    contact_name: str
    channel: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    attempts: int
    exhausted: bool
    next_escalation_at: datetime | None

    @property
    def someone_paged(self) -> bool:
        """A page of this round is on its way or was delivered: the on-call contact is
        being paged (what a patient may be told)."""
        return self.status in ("queued", "sent")


def _shown_status(page_status: str, last_error: str | None) -> str:
    if page_status == "pending":
        return "queued"
    if page_status == "sent":
        return "sent"
    return "cancelled" if (last_error or "").startswith(CANCELLED) else "failed"


def paging_states(session: Session, alert_ids: Collection[int]) -> dict[int, PagingState]:
    """For each of ``alert_ids`` with a page in its current round, its ``PagingState``;
    alerts never paged in their current round are absent. One query, whatever the
    number of alerts."""
    ids = sorted(set(alert_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            Alert.id,
            Alert.status,
            Alert.escalation_level,
            Alert.next_escalation_at,
            Page.round,
            Page.step,
            Page.channel,
            Page.status.label("page_status"),
            Page.created_at,
            Page.sent_at,
            Page.last_error,
            Page.attempts,
            OnCallContact.name,
        )
        .join(Page, and_(Page.alert_id == Alert.id, Page.round == Alert.page_round))
        .join(OnCallContact, OnCallContact.id == Page.contact_id)
        .where(Alert.id.in_(ids))
        .order_by(Alert.id, Page.step.desc())
    ).all()
    states: dict[int, PagingState] = {}
    for row in rows:
        if row.id in states:
            continue  # an earlier step of the same round
        states[row.id] = PagingState(
            alert_id=row.id,
            round=row.round,
            step=row.step,
            contact_name=row.name,
            channel=row.channel,
            status=_shown_status(row.page_status, row.last_error),
            created_at=row.created_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
            attempts=row.attempts,
            # Open, paged, and nothing more due: nobody acknowledged after the last pass.
            exhausted=(
                row.status == "open" and row.escalation_level > 0 and row.next_escalation_at is None
            ),
            next_escalation_at=row.next_escalation_at,
        )
    return states


__all__ = [
    "PAGEABLE",
    "PAGED_ALWAYS",
    "PASSES",
    "EscalationCounts",
    "PageCounts",
    "PagingState",
    "compose_page",
    "deliver_page",
    "deliver_pages",
    "escalate",
    "on_call_contacts",
    "page_if_needed",
    "pageable",
    "paging_states",
    "patient_page_link",
    "record_page_outcome",
    "run_escalation",
]
