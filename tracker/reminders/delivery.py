"""The tick's deliver step: claim due reminders, send them, record what happened.

The database is the queue. A claim is a *lease* (``locked_until``/``locked_by``) committed
before anything is sent, so:

- several scheduler processes share the work without sending anything twice (PostgreSQL
  claims with ``FOR UPDATE SKIP LOCKED``; SQLite, which has one writer at a time, with a
  conditional UPDATE);
- a process killed mid-send (even ``kill -9``) leaves leases that lapse, and the rows are
  claimed again: nothing is lost, and only a message that was in flight at the moment of
  the crash can go out twice (it carries the same idempotency key both times);
- sending happens outside any transaction, and the result is recorded only while the
  lease is still ours;
- the network part of a send runs on a sender thread while the next message is composed
  here, but a message is handed over only once the previous outcome is committed, so at
  most one message is ever out and not yet recorded.

A failed send is retried with exponential backoff; after ``max_attempts`` (or at once for
a permanent failure) the reminder is dead and an "undeliverable" alert tells the care team.
A reminder whose local day is over is not sent late: it is marked dead as *expired*,
without an alert, unless it had already failed (then the patient really was not reached).
(A reminder due in the last minutes of a day keeps ``LATE_SEND_GRACE`` after its time,
so a 23:59 reminder planned by the first tick after midnight still goes out.)
Reminders for plans that were paused or ended meanwhile are cancelled the same way.

**A channel that is down** (the SMTP server or an SMS gateway refusing connections,
timing out or answering 5xx) is not a reason to give up on every patient: when
``outage_recipients`` different patients' reminders fail transiently in a row on one
channel, one ``DeliveryIncident`` is opened (shown once on the triage list, logged as an
error) instead of one "undeliverable" alert per patient. While it is open, transient
failures on that channel never dead-letter a reminder: it is retried (backoff capped at
``outage_retry_max_seconds``) until the patient's local day is over, and after one failed
try per deliver step the channel's other reminders are held back to the same cap instead
of each waiting out its own timeout (a circuit breaker). The first success closes the
incident (with its duration) and brings every held-back reminder of that channel due at
once. A permanent failure for one recipient still dead-letters that reminder with its
alert. See docs/reminders.md, "When a channel is down".
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.alerts.rules import UNDELIVERABLE, raise_alert
from tracker.core.models import (
    Caregiver,
    CarePlan,
    Clinic,
    DeliveryIncident,
    Page,
    Patient,
    Reminder,
)
from tracker.core.timeutil import local_day, start_of_local_day_utc
from tracker.plans import opioid_rules
from tracker.plans.agenda import agenda_for_day
from tracker.plans.links import link_url, reminder_link_tokens
from tracker.reminders import sms_rules
from tracker.reminders.channels import Channels, DeliveryError, Handover, retry_at
from tracker.reminders.messages import compose, missed_yesterdays, recipient_language
from tracker.web.time_format import day_text

log = logging.getLogger("tracker.reminders")

# last_error prefixes of reminders that were never meant to reach the patient any more;
# they are "dead" in the outbox but are not undeliverable (see undeliverable_reminders).
EXPIRED = "expired: "
CANCELLED = "cancelled: "
# Prefix of reminders recorded for a past local day that no tick ever planned
# (reminder_planning.py): dead, never attempted.
NOT_CREATED = "not created: "

# How long after its time a reminder whose local day has just ended may still be sent: a
# 23:59 reminder planned by the first tick after midnight goes out, one from the morning
# that waited all day does not.
LATE_SEND_GRACE = timedelta(minutes=10)
# A suspected outage (fewer failing recipients than needed yet) is forgotten when its
# channel has not failed for this long.
OUTAGE_WINDOW = timedelta(minutes=15)
# An open outage with no failure for this long is closed (nothing is trying the channel).
STALE_OUTAGE = timedelta(hours=24)


@dataclass(frozen=True)
class DeliverySettings:
    base_url: str
    secret_key: str
    grace_days: int = 14
    max_attempts: int = 6
    retry_base_seconds: float = 60
    retry_max_seconds: float = 3600
    batch_size: int = 50
    lease_seconds: float = 300
    # Different patients' reminders failing transiently in a row that make an outage.
    outage_recipients: int = 3
    # The longest wait between tries of a reminder while its channel is down.
    outage_retry_max_seconds: float = 300
    # The longest wait a receiver's Retry-After can impose.
    retry_after_max_seconds: float = 3600
    # Replies to texts are read (TRACKER_SMS_INBOUND_SECRET set, tracker/texting): the daily
    # text asks for the pain score (sms_rules.PAIN_PROMPT).
    ask_for_replies: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DeliverySettings:
        return cls(
            base_url=config["BASE_URL"],
            secret_key=str(config["SECRET_KEY"]),
            grace_days=int(config.get("LINK_GRACE_DAYS", 14)),
            max_attempts=max(1, int(config.get("REMINDER_MAX_ATTEMPTS", 6))),
            retry_base_seconds=float(config.get("REMINDER_RETRY_BASE_SECONDS", 60)),
            retry_max_seconds=float(config.get("REMINDER_RETRY_MAX_SECONDS", 3600)),
            batch_size=max(1, int(config.get("REMINDER_BATCH_SIZE", 50))),
            lease_seconds=float(config.get("REMINDER_LEASE_SECONDS", 300)),
            outage_recipients=max(2, int(config.get("REMINDER_OUTAGE_RECIPIENTS", 3))),
            outage_retry_max_seconds=float(config.get("REMINDER_OUTAGE_RETRY_MAX_SECONDS", 300)),
            retry_after_max_seconds=float(config.get("REMINDER_RETRY_AFTER_MAX_SECONDS", 3600)),
            ask_for_replies=bool(config.get("SMS_INBOUND_SECRET")),
        )


@dataclass
class DeliveryCounts:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    expired: int = 0
    lost_lease: int = 0
    # Held back without a try because their channel is down (see Outages).
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def worker_name() -> str:
    """Who holds a lease: host, process and a random part (pids are reused after restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """Delay before the next try after ``attempts`` failures: base, 2x base, 4x base, ..."""
    seconds = settings.retry_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.retry_max_seconds))


# The outbox tables (``Reminder``, and ``Page`` for paging.py) share these column names:
# status, next_attempt_at, locked_until, locked_by. ``claim``, ``_finish`` and ``release``
# take the table's model, so both outboxes have exactly the same lease guarantees.
Outbox = type[Reminder] | type[Page]


def _claimable(now: datetime, model: Outbox = Reminder) -> Any:
    return and_(
        model.status == "pending",
        model.next_attempt_at <= now,
        or_(model.locked_until.is_(None), model.locked_until < now),
    )


def claim(
    session: Session,
    *,
    now: datetime,
    worker: str,
    settings: DeliverySettings,
    model: Outbox = Reminder,
) -> list[int]:
    """Lease up to one batch of due rows of ``model``'s outbox (reminders unless told) to
    ``worker``; commits; returns their ids."""
    lease_until = now + timedelta(seconds=settings.lease_seconds)
    due = (
        select(model.id)
        .where(_claimable(now, model))
        .order_by(model.next_attempt_at, model.id)
        .limit(settings.batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows another process is claiming right now are skipped, not waited for.
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(locked_until=lease_until, locked_by=worker)
            )
    else:
        # SQLite serialises writers, and the WHERE is re-checked by the UPDATE itself: a row
        # another process leased a moment ago no longer matches and is not taken twice.
        session.execute(
            update(model)
            .where(model.id.in_(due.scalar_subquery()), _claimable(now, model))
            .values(locked_until=lease_until, locked_by=worker)
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(model.id)
                .where(
                    model.locked_by == worker,
                    model.locked_until == lease_until,
                    model.status == "pending",
                )
                .order_by(model.next_attempt_at, model.id)
            )
        )
    session.commit()
    return ids


def _finish(
    session: Session,
    row_id: int,
    worker: str,
    values: dict[str, Any],
    *,
    model: Outbox = Reminder,
) -> bool:
    """Record an outcome only if the lease is still ours; commits. Returns whether it was.

    Whatever else the session holds (an alert, history) is committed with it, or rolled
    back with it when the lease was lost."""
    result = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.locked_by == worker,
            model.status == "pending",
        )
        .values(locked_until=None, locked_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()  # not ours any more: nothing else from this outcome is kept
        return False
    session.commit()
    return True


def release(
    session: Session, worker: str, *, keep: Collection[int] = (), model: Outbox = Reminder
) -> None:
    """Give back leases not used, so another process need not wait them out.

    Rows in ``keep`` (that failed unexpectedly) keep their lease, so they wait for it to
    lapse instead of being retried in a tight loop.
    """
    query = update(model).where(model.locked_by == worker, model.status == "pending")
    if keep:
        query = query.where(model.id.not_in(keep))
    session.execute(
        query.values(locked_until=None, locked_by=None).execution_options(synchronize_session=False)
    )
    session.commit()


def _load(session: Session, ids: list[int]) -> list[tuple[Reminder, CarePlan, Patient, Clinic]]:
    rows = session.execute(
        select(Reminder, CarePlan, Patient, Clinic)
        .join(CarePlan, CarePlan.id == Reminder.plan_id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .join(Clinic, Clinic.id == CarePlan.clinic_id)
        .where(Reminder.id.in_(ids))
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .execution_options(populate_existing=True)
    ).all()
    # Caregivers' reminders: their caregivers, in the session's identity map (``caregiver_of``).
    caregiver_ids = {row[0].caregiver_id for row in rows if row[0].caregiver_id is not None}
    if caregiver_ids:
        session.scalars(
            select(Caregiver)
            .where(Caregiver.id.in_(caregiver_ids))
            .execution_options(populate_existing=True)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def caregiver_of(session: Session, reminder: Reminder) -> Caregiver | None:
    """The caregiver a reminder is to (None: it is the patient's)."""
    if reminder.caregiver_id is None:
        return None
    return session.get(Caregiver, reminder.caregiver_id)


def _why_not_send(
    reminder: Reminder, plan: CarePlan, now: datetime, caregiver: Caregiver | None = None
) -> str | None:
    if plan.status != "active":
        return f"{CANCELLED}the plan is {plan.status}"
    if reminder.caregiver_id is not None:
        # A caregiver removed (or no longer asking for reminders) after it was planned.
        if caregiver is None or caregiver.removed_at is not None:
            return f"{CANCELLED}the caregiver was removed"
        if caregiver.reminder_channel is None:
            return f"{CANCELLED}the caregiver no longer gets reminders"
    today: date = local_day(now, plan.timezone)
    if reminder.local_day != today and now >= reminder.due_at + LATE_SEND_GRACE:
        return f"{EXPIRED}its day ({day_text(reminder.local_day)}) is over for the patient"
    if (
        reminder.kind == "appointment"
        and not agenda_for_day(plan, reminder.local_day + timedelta(days=1)).appointments_today
    ):
        # The clinic moved or cleared the visit date after this reminder was planned.
        return f"{CANCELLED}no visit is set for the next day any more"
    return None


def _dead_letter(
    session: Session,
    reminder: Reminder,
    plan: CarePlan,
    *,
    error: str,
    attempts: int,
    now: datetime,
) -> None:
    caregiver = caregiver_of(session, reminder)
    to = f" to the caregiver {caregiver.label}" if caregiver is not None else ""
    raise_alert(
        session,
        plan=plan,
        rule=UNDELIVERABLE,
        urgency="high",
        summary=(
            f"A {reminder.kind} reminder{to} for {day_text(reminder.local_day)} could not be "
            f"delivered by {reminder.channel} after {attempts} attempt(s): {error}"
        ),
        now=now,
        detail={
            "reminder_id": reminder.id,
            "kind": reminder.kind,
            "channel": reminder.channel,
            "local_day": reminder.local_day.isoformat(),
            "error": error,
        },
    )


def channel_key(channel: str, clinic: Clinic) -> str:
    """What fails together: the deployment's SMTP server, the deployment's webhook, or one
    clinic's own webhook URL."""
    if channel == "webhook" and clinic.webhook_url:
        return f"webhook:clinic-{clinic.id}"
    return channel


def open_incident(session: Session, key: str) -> DeliveryIncident | None:
    """The open incident of ``key`` (a partial unique index keeps it to one)."""
    return session.scalar(
        select(DeliveryIncident).where(
            DeliveryIncident.key == key, DeliveryIncident.closed_at.is_(None)
        )
    )


def add_or_join_incident(session: Session, incident: DeliveryIncident) -> DeliveryIncident:
    """Insert a new open incident, or take the one another process opened meanwhile for the
    same key (insert-or-ignore on the partial unique index of open incidents)."""
    try:
        with session.begin_nested():
            session.add(incident)
    except IntegrityError:
        opened = open_incident(session, incident.key)
        if opened is None:
            raise
        return opened
    return incident


class Outages:
    """One deliver step's view of channel outages (``DeliveryIncident`` rows).

    The open incidents are read once at the start of the step; a channel that fails is
    written to the database at once (with the outcome of that reminder, in the same
    commit), so two scheduler processes count the same failures.
    """

    def __init__(
        self, session: Session, channels: Channels, settings: DeliverySettings, now: datetime
    ):
        self.channels = channels
        self.settings = settings
        # An outage nothing has failed on for a day (the channel is no longer used, or
        # nobody's reminder was due) is not kept on the triage list for ever.
        session.execute(
            update(DeliveryIncident)
            .where(
                DeliveryIncident.kind == "channel_down",
                DeliveryIncident.closed_at.is_(None),
                DeliveryIncident.last_failure_at < now - STALE_OUTAGE,
            )
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(DeliveryIncident.key, DeliveryIncident.id, DeliveryIncident.confirmed_at).where(
                DeliveryIncident.kind == "channel_down", DeliveryIncident.closed_at.is_(None)
            )
        ).all()
        # Keys with an open row (suspected or confirmed), and confirmed ones by key.
        self.open: set[str] = {key for key, _, _ in rows}
        self.confirmed: dict[str, int] = {key: id_ for key, id_, at in rows if at is not None}
        # Confirmed down and already tried (and failed) in this step: hold the rest back.
        self.down: set[str] = set()

    def failed(self, session: Session, row: Row, error: str, now: datetime) -> bool:
        """Count a transient failure of ``row``'s channel; returns whether that channel is
        now known to be down (an outage incident is confirmed). Not committed."""
        reminder, _, _, clinic = row
        key = channel_key(reminder.channel, clinic)
        incident = open_incident(session, key)
        if (
            incident is not None
            and incident.confirmed_at is None
            and now - incident.last_failure_at > OUTAGE_WINDOW
        ):
            # Failures too far apart to be one outage: start counting again.
            incident.opened_at, incident.failures, incident.detail = now, 0, {}
        if incident is None:
            incident = DeliveryIncident(
                kind="channel_down",
                key=key,
                channel=reminder.channel,
                clinic_id=clinic.id if key.startswith("webhook:clinic-") else None,
                target=self.channels.target(reminder.channel, webhook_url=clinic.webhook_url),
                opened_at=now,
                last_failure_at=now,
                failures=0,
                affected=0,
                detail={},
            )
            incident = add_or_join_incident(session, incident)
        self.open.add(key)
        incident.failures += 1
        incident.last_failure_at = max(incident.last_failure_at, now)
        incident.last_error = error
        if incident.confirmed_at is None:
            plans = list(incident.detail.get("plans", []))
            if reminder.plan_id not in plans:
                plans.append(reminder.plan_id)
            incident.detail = {**incident.detail, "plans": plans}
            if len(plans) >= self.settings.outage_recipients:
                incident.confirmed_at = now
                session.flush()
                log.error(
                    "reminder channel %s (%s) is down: %d patients' reminders failed in a row; "
                    "retrying until it answers (incident %s): %s",
                    key,
                    incident.target,
                    len(plans),
                    incident.id,
                    error,
                )
        if incident.confirmed_at is None:
            return False
        session.flush()
        self.confirmed[key] = incident.id
        self.down.add(key)
        return True

    def held_back(self, row: Row) -> bool:
        """Whether ``row`` is not to be tried in this step: its channel is down and has
        already failed in this step."""
        return channel_key(row[0].channel, row[3]) in self.down

    def succeeded(self, session: Session, row: Row, now: datetime) -> None:
        """``row`` went out: its channel answers. Closes its incident, if any, and brings
        the reminders held back meanwhile due now. Commits."""
        reminder, _, _, clinic = row
        key = channel_key(reminder.channel, clinic)
        self.down.discard(key)
        if key not in self.open:
            return
        self.open.discard(key)
        self.confirmed.pop(key, None)
        incident = open_incident(session, key)
        if incident is None:
            return
        if incident.confirmed_at is None:
            session.delete(incident)  # a suspicion that did not hold
            session.commit()
            return
        incident.closed_at = now
        held = update(Reminder).where(
            Reminder.status == "pending",
            Reminder.channel == reminder.channel,
            Reminder.next_attempt_at > now,
        )
        if incident.clinic_id is not None:
            held = held.where(
                Reminder.plan_id.in_(
                    select(CarePlan.id).where(CarePlan.clinic_id == incident.clinic_id)
                )
            )
        session.execute(
            held.values(next_attempt_at=now).execution_options(synchronize_session=False)
        )
        session.commit()
        log.warning(
            "reminder channel %s (%s) answers again after %s (incident %s closed); "
            "%d reminder(s) were not delivered before their day ended",
            key,
            incident.target,
            now - incident.opened_at,
            incident.id,
            incident.affected,
        )

    def outage_for(self, row: Row) -> int | None:
        """The open, confirmed incident of ``row``'s channel, if any."""
        return self.confirmed.get(channel_key(row[0].channel, row[3]))


def _hold_back(
    session: Session,
    row: Row,
    *,
    now: datetime,
    worker: str,
    settings: DeliverySettings,
    counts: DeliveryCounts,
) -> None:
    """Its channel is down: try again later without spending an attempt (or a timeout)."""
    retry = now + timedelta(seconds=settings.outage_retry_max_seconds)
    if _finish(session, row[0].id, worker, {"next_attempt_at": retry}):
        counts.deferred += 1
    else:
        counts.lost_lease += 1


class Prepared(NamedTuple):
    """What a message needs that is looked up for a whole batch at once."""

    link: str  # the personal link's raw token
    missed: bool  # nothing recorded yesterday
    # The daily message's no-driving rule (opioid_rules.py); None for other kinds.
    opioids: opioid_rules.OpioidAnswers | None


def prepare_batch(
    session: Session,
    rows: list[tuple[Reminder, CarePlan, Patient, Clinic]],
    *,
    now: datetime,
    settings: DeliverySettings,
) -> dict[int, Prepared]:
    """Personal link, "missed yesterday" and opioid answers of each sendable reminder, by
    reminder id.

    Done for a whole claimed batch with a few statements instead of several round trips
    per message, and committed: every link is stored (hashed) before any message that
    carries it leaves.
    """
    sendable = [
        row
        for row in rows
        if _why_not_send(row[0], row[1], now, caregiver_of(session, row[0])) is None
    ]
    # A caregiver's message carries the caregiver's own link, never the patient's.
    links = reminder_link_tokens(
        session,
        [
            (patient, plan, reminder.idempotency_key, caregiver_of(session, reminder))
            for reminder, plan, patient, _ in sendable
        ],
        secret_key=settings.secret_key,
        now=now,
        grace_days=settings.grace_days,
    )
    daily = [(r, plan, clinic) for r, plan, _, clinic in sendable if r.kind == "daily"]
    missed = missed_yesterdays(session, [(plan, r.local_day) for r, plan, _ in daily])
    opioids = opioid_rules.answers_of_plans(
        session, [(plan.id, clinic.opioid_free_days_before_driving) for _, plan, clinic in daily]
    )
    session.commit()
    return {
        reminder.id: Prepared(
            links[reminder.idempotency_key],
            (plan.id, reminder.local_day) in missed,
            opioids.get(plan.id) if reminder.kind == "daily" else None,
        )
        for reminder, plan, *_ in sendable
    }


Row = tuple[Reminder, CarePlan, Patient, Clinic]


def prepare_one(
    session: Session,
    row: Row,
    *,
    now: datetime,
    worker: str,
    channels: Channels,
    settings: DeliverySettings,
    counts: DeliveryCounts,
    prepared: dict[int, Prepared] | None = None,
    outages: Outages | None = None,
) -> Handover | None:
    """Compose ``row``'s message and write it out for its channel; returns the call that
    hands it over, or None when there is nothing to send (the outcome is recorded: a
    reminder no longer due, or a message its channel can never take)."""
    reminder, plan, patient, clinic = row
    caregiver = caregiver_of(session, reminder)
    reason = _why_not_send(reminder, plan, now, caregiver)
    if reason is not None:
        error = f"{reason}; last error: {reminder.last_error}" if reminder.last_error else reason
        values = {"status": "dead", "last_error": error}
        outage = outages.outage_for(row) if outages is not None else None
        if outage is not None and reason.startswith(EXPIRED):
            # Its channel has been down: counted once on the outage's incident, not one
            # "undeliverable" alert per patient.
            values["last_error"] = (
                f"{reminder.last_error or 'not tried'}; not delivered before its day ended "
                f"because the channel was down (incident {outage})"
            )[:1000]
            session.execute(
                update(DeliveryIncident)
                .where(DeliveryIncident.id == outage)
                .values(affected=DeliveryIncident.affected + 1)
            )
        elif reminder.attempts > 0 and reason.startswith(EXPIRED):
            # It had been failing all day: the patient really was not reached.
            _dead_letter(session, reminder, plan, error=error, attempts=reminder.attempts, now=now)
            values["last_error"] = reminder.last_error or error
        if _finish(session, reminder.id, worker, values):
            counts.expired += 1
            log.info("reminder %s not sent: %s", reminder.idempotency_key, reason)
        return None

    if reminder.channel == "webhook" and _held_text(
        session, row, now=now, worker=worker, counts=counts
    ):
        return None

    if prepared is None or reminder.id not in prepared:
        prepared = prepare_batch(session, [row], now=now, settings=settings)
    link, missed, opioids = prepared[reminder.id]
    # A caregiver's text asks for no reply: the patient's text asks them for their score.
    texting = reminder.channel == "webhook" and settings.ask_for_replies and caregiver is None
    prompt = sms_rules.pain_prompt(recipient_language(patient, caregiver)) if texting else None
    message = compose(
        session,
        reminder,
        plan,
        patient,
        clinic,
        link_url(settings.base_url, link),
        missed=missed,
        opioids=opioids,
        reply_prompt=prompt,
        caregiver=caregiver,
    )
    if reminder.channel == "webhook":
        # In the patient's conversation before it leaves (once, however many tries).
        sms_rules.note_reminder_text(
            session,
            reminder=reminder,
            patient=patient,
            text=message.short_text,
            link=message.link,
            local_day=reminder.local_day,
            now=now,
            prompt=prompt,
            caregiver=caregiver,
        )
    session.commit()  # end the read transaction: nothing is held open while sending
    try:
        return channels.prepare(reminder.channel, message, webhook_url=clinic.webhook_url)
    except DeliveryError as exc:
        record_send(
            session,
            row,
            exc,
            now=now,
            worker=worker,
            settings=settings,
            counts=counts,
            outages=outages,
        )
        return None


def _held_text(
    session: Session, row: Row, *, now: datetime, worker: str, counts: DeliveryCounts
) -> bool:
    """A text to a number that opted out (STOP) is cancelled; one due in the clinic's quiet
    hours waits for their end in the patient's zone, or is cancelled when they last past
    its day (sms_rules.py). Returns whether ``row`` was held (its outcome recorded)."""
    reminder, plan, patient, clinic = row
    caregiver = caregiver_of(session, reminder)
    number = caregiver.sms_number if caregiver is not None else patient.sms_number
    stopped = sms_rules.opted_out_at(session, number)
    values: dict[str, Any] | None = None
    if stopped is not None:
        whose = "the caregiver's" if caregiver is not None else "the patient's"
        values = {
            "status": "dead",
            "last_error": f"{CANCELLED}{whose} number opted out of text messages "
            f"(STOP at {stopped.isoformat(timespec='minutes')})",
        }
    else:
        until = sms_rules.clinic_quiet_until(clinic, plan.timezone, now)
        if until is None:
            return False
        day_over = start_of_local_day_utc(reminder.local_day + timedelta(days=1), plan.timezone)
        if until <= day_over:
            if _finish(session, reminder.id, worker, {"next_attempt_at": until}):
                counts.deferred += 1
                log.info(
                    "reminder %s held for the clinic's quiet hours until %s",
                    reminder.idempotency_key,
                    until.isoformat(),
                )
            else:
                counts.lost_lease += 1
            return True
        values = {
            "status": "dead",
            "last_error": f"{CANCELLED}the clinic's quiet hours "
            f"({sms_rules.quiet_hours_text(clinic)}) last past the end of its day",
        }
    if _finish(session, reminder.id, worker, values):
        counts.expired += 1
        log.info("reminder %s not sent: %s", reminder.idempotency_key, values["last_error"])
    else:
        counts.lost_lease += 1
    return True


# The gateway's delivery reports in order: a report never moves a text back (they may
# arrive out of order); undelivered and failed are final.
GATEWAY_ORDER = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 3, "failed": 3}


def record_gateway_report(
    session: Session, *, idempotency_key: str, status: str, error: str | None, now: datetime
) -> Reminder | None:
    """A delivery report from the SMS gateway about the text of reminder
    ``idempotency_key``: its ``gateway_status`` moves forward; "undelivered" or "failed"
    makes the reminder dead (it never reached the patient) and raises the undeliverable
    alert, once however often the report is repeated. Returns the reminder (None if
    unknown). Not committed."""
    if status not in GATEWAY_ORDER:
        raise ValueError(f"unknown gateway status {status!r}")
    reminder = session.scalar(select(Reminder).where(Reminder.idempotency_key == idempotency_key))
    if reminder is None:
        return None
    earlier = [s for s, rank in GATEWAY_ORDER.items() if rank < GATEWAY_ORDER[status]]
    session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder.id,
            or_(Reminder.gateway_status.is_(None), Reminder.gateway_status.in_(earlier)),
        )
        .values(gateway_status=status, gateway_status_at=now)
        .execution_options(synchronize_session=False)
    )
    if GATEWAY_ORDER[status] == GATEWAY_ORDER["failed"]:
        text = f"the SMS gateway reported the text {status}" + (
            f" (error {error})" if error else ""
        )
        failed = session.execute(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.status != "dead")
            .values(
                status="dead",
                last_error=text,
                # A report about a text that was handed over: at least one attempt.
                attempts=case((Reminder.attempts < 1, 1), else_=Reminder.attempts),
                locked_until=None,
                locked_by=None,
            )
            .execution_options(synchronize_session=False)
        )
        if failed.rowcount == 1:
            plan = session.get(CarePlan, reminder.plan_id)
            if plan is not None:
                _dead_letter(
                    session, reminder, plan, error=text, attempts=max(reminder.attempts, 1), now=now
                )
            log.warning("reminder %s not delivered: %s", idempotency_key, text)
    session.expire(reminder)
    return reminder


def record_send(
    session: Session,
    row: Row,
    error: DeliveryError | None,
    *,
    now: datetime,
    worker: str,
    settings: DeliverySettings,
    counts: DeliveryCounts,
    outages: Outages | None = None,
) -> None:
    """Record how sending ``row``'s message went: sent (``error`` None), to be retried with
    backoff (or when the receiver's Retry-After says), or dead (a permanent failure, or
    the last attempt while its channel is not known to be down) with an alert."""
    reminder, plan, _, _ = row
    if error is not None:
        attempts = reminder.attempts + 1
        text = str(error)[:1000]
        down = False
        if not error.permanent and outages is not None:
            down = outages.failed(session, row, text, now)
        if error.permanent or (attempts >= settings.max_attempts and not down):
            _dead_letter(session, reminder, plan, error=text, attempts=attempts, now=now)
            if _finish(
                session,
                reminder.id,
                worker,
                {"status": "dead", "attempts": attempts, "last_error": text},
            ):
                counts.dead += 1
                log.warning(
                    "reminder %s dead after %d attempt(s): %s",
                    reminder.idempotency_key,
                    attempts,
                    text,
                )
            else:
                counts.lost_lease += 1
            return
        next_at = retry_at(error, now, max_seconds=settings.retry_after_max_seconds)
        if next_at is None:
            delay = backoff(attempts, settings)
            if down:
                delay = min(delay, timedelta(seconds=settings.outage_retry_max_seconds))
            next_at = now + delay
        if _finish(
            session,
            reminder.id,
            worker,
            {"attempts": attempts, "last_error": text, "next_attempt_at": next_at},
        ):
            counts.retried += 1
            log.info(
                "reminder %s failed (attempt %d), retry at %s: %s",
                reminder.idempotency_key,
                attempts,
                next_at.isoformat(),
                text,
            )
        else:
            counts.lost_lease += 1
        return

    if _finish(
        session,
        reminder.id,
        worker,
        {"status": "sent", "sent_at": now, "attempts": reminder.attempts + 1, "last_error": None},
    ):
        counts.sent += 1
        if outages is not None:
            outages.succeeded(session, row, now)
    else:
        # Our lease lapsed while sending and someone else owns the row now; they will
        # send it too, with the same idempotency key.
        counts.lost_lease += 1
        log.warning("reminder %s sent after its lease lapsed", reminder.idempotency_key)


def _hand_over(handover: Handover) -> DeliveryError | None:
    """Runs on the sending thread: the channel's outcome, as a value."""
    try:
        handover()
    except DeliveryError as exc:
        return exc
    return None


def deliver_reminders(
    session: Session,
    *,
    now: datetime,
    channels: Channels,
    settings: DeliverySettings,
    worker: str | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] | None = None,
    max_batches: int | None = None,
) -> DeliveryCounts:
    """The deliver step: claim, send and record batch after batch until nothing is due.

    ``clock`` gives the current instant while sending (the scheduler passes the real
    clock; one-shot ticks and tests leave it at ``now``). It decides ``sent_at`` and when a
    lease is too close to lapsing to start another send. ``stop`` ends the step after the
    message in flight (SIGTERM): unsent leases are given back.
    """
    worker = worker or worker_name()
    clock = clock or (lambda: now)
    sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reminder-sender")
    try:
        return _deliver_batches(
            session,
            now=now,
            channels=channels,
            sender=sender,
            settings=settings,
            worker=worker,
            stop=stop,
            clock=clock,
            max_batches=max_batches,
        )
    finally:
        sender.shutdown(wait=True)
        # Connections are reused across the step's batches, not kept idle between ticks.
        channels.close()


def _deliver_batches(
    session: Session,
    *,
    now: datetime,
    channels: Channels,
    sender: Executor,
    settings: DeliverySettings,
    worker: str,
    stop: threading.Event | None,
    clock: Callable[[], datetime],
    max_batches: int | None,
) -> DeliveryCounts:
    counts = DeliveryCounts()
    batches = 0
    failed: set[int] = set()
    outages = Outages(session, channels, settings, now)
    session.commit()
    while not (stop and stop.is_set()):
        if max_batches is not None and batches >= max_batches:
            break
        claim_now = max(now, clock())
        ids = claim(session, now=claim_now, worker=worker, settings=settings)
        if not ids:
            break
        batches += 1
        before = _progress(counts)
        # Leave a margin so a send started near the end of the lease still finishes in it.
        margin = timedelta(seconds=settings.lease_seconds / 5)
        lease_end = claim_now + timedelta(seconds=settings.lease_seconds)
        rows = _load(session, ids)
        try:
            prepared = prepare_batch(session, rows, now=max(now, clock()), settings=settings)
        except Exception:
            # e.g. a database hiccup: each reminder then prepares its own (and fails alone).
            session.rollback()
            log.exception("preparing a batch of %d reminders failed", len(rows))
            prepared = {}
        _send_batch(
            session,
            rows,
            prepared,
            now=now,
            lease_end=lease_end - margin,
            channels=channels,
            sender=sender,
            settings=settings,
            worker=worker,
            stop=stop,
            clock=clock,
            counts=counts,
            failed=failed,
            outages=outages,
        )
        release(session, worker, keep=failed)
        if _progress(counts) == before:
            break  # nothing could be done with this batch; try again next tick
    return counts


def _send_batch(
    session: Session,
    rows: list[Row],
    prepared: dict[int, Prepared],
    *,
    now: datetime,
    lease_end: datetime,
    channels: Channels,
    sender: Executor,
    settings: DeliverySettings,
    worker: str,
    stop: threading.Event | None,
    clock: Callable[[], datetime],
    counts: DeliveryCounts,
    failed: set[int],
    outages: Outages,
) -> None:
    """Send a claimed batch, one message at a time, until ``lease_end`` (or ``stop``).

    While one message is on its way (on the ``sender`` thread: the channel's round trips
    to the receiver), the next one is composed and written out here. It is handed over
    only once the previous outcome is recorded, so at most one message is ever received
    and not yet marked sent, exactly as when everything happened on one thread. (If
    recording an outcome fails, that reminder keeps its lease and is sent again once the
    lease lapses: a duplicate with the same idempotency key, never a loss.)
    """
    in_flight: tuple[Row, datetime, Future[DeliveryError | None]] | None = None

    def unexpected(row: Row, exc: Exception) -> None:
        # A bug or a database hiccup on one reminder must not stop the others; its lease
        # lapses and it is tried again later.
        session.rollback()
        failed.add(row[0].id)
        counts.errors.append(f"{row[0].idempotency_key}: {type(exc).__name__}: {exc}")
        log.error("reminder %s: unexpected error", row[0].idempotency_key, exc_info=exc)

    def hold_back(row: Row, current: datetime) -> None:
        try:
            _hold_back(session, row, now=current, worker=worker, settings=settings, counts=counts)
        except Exception as exc:
            unexpected(row, exc)

    def may_start() -> bool:
        return not (stop and stop.is_set()) and max(now, clock()) < lease_end

    def settle() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        row, sent_now, outcome = in_flight
        in_flight = None
        try:
            record_send(
                session,
                row,
                outcome.result(),
                now=sent_now,
                worker=worker,
                settings=settings,
                counts=counts,
                outages=outages,
            )
        except Exception as exc:
            unexpected(row, exc)

    try:
        for row in rows:
            if not may_start():
                break
            current = max(now, clock())
            if (
                outages.held_back(row)
                and _why_not_send(row[0], row[1], current, caregiver_of(session, row[0])) is None
            ):
                hold_back(row, current)
                continue
            try:
                handover = prepare_one(
                    session,
                    row,
                    now=current,
                    worker=worker,
                    channels=channels,
                    settings=settings,
                    counts=counts,
                    prepared=prepared,
                    outages=outages,
                )
            except Exception as exc:
                unexpected(row, exc)
                continue
            if handover is None:
                continue
            settle()
            if not may_start():
                break  # composed but not sent: its lease is given back with the others
            if outages.held_back(row):
                hold_back(row, current)  # the message before it found the channel down
                continue
            in_flight = (row, current, sender.submit(_hand_over, handover))
    finally:
        settle()


def _progress(counts: DeliveryCounts) -> int:
    return (
        counts.sent
        + counts.retried
        + counts.dead
        + counts.expired
        + counts.lost_lease
        + counts.deferred
    )


def undeliverable_reminders(
    session: Session,
    clinic_id: int,
    *,
    since: datetime | None = None,
    patient_id: int | None = None,
    limit: int = 200,
) -> list[tuple[Reminder, Patient]]:
    """Dead reminders of a clinic that never reached the patient, newest first.

    Expired (a day already over) and cancelled (plan paused or ended) reminders are left
    out: nobody failed to reach the patient there.
    """
    query = (
        select(Reminder, Patient)
        .join(CarePlan, CarePlan.id == Reminder.plan_id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .where(
            CarePlan.clinic_id == clinic_id,
            Reminder.status == "dead",
            Reminder.attempts > 0,
            or_(
                Reminder.last_error.is_(None),
                and_(
                    Reminder.last_error.not_like(f"{EXPIRED}%"),
                    Reminder.last_error.not_like(f"{CANCELLED}%"),
                ),
            ),
        )
        .order_by(Reminder.local_day.desc(), Reminder.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(Reminder.created_at >= since)
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    return [tuple(row) for row in session.execute(query).all()]  # type: ignore[misc]


# How long a closed incident stays on the triage list (with its duration).
INCIDENT_SHOWN_AFTER_CLOSE = timedelta(hours=24)


@dataclass(frozen=True)
class IncidentNotice:
    """One delivery incident as the triage list shows it to a clinic's care team."""

    id: int
    kind: str
    open: bool
    text: str


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def incident_notices(session: Session, clinic_id: int, now: datetime) -> list[IncidentNotice]:
    """Open channel outages and gaps of reminders never created that concern this clinic,
    and those closed within the last day (with their duration), newest first."""
    rows = session.scalars(
        select(DeliveryIncident)
        .where(
            DeliveryIncident.confirmed_at.is_not(None),
            or_(
                DeliveryIncident.closed_at.is_(None),
                DeliveryIncident.closed_at >= now - INCIDENT_SHOWN_AFTER_CLOSE,
            ),
            or_(DeliveryIncident.clinic_id.is_(None), DeliveryIncident.clinic_id == clinic_id),
        )
        .order_by(DeliveryIncident.opened_at.desc(), DeliveryIncident.id.desc())
        .limit(10)
    )
    notices = []
    for incident in rows:
        if incident.kind == "not_created":
            count = int((incident.detail or {}).get("clinics", {}).get(str(clinic_id), 0))
            if not count:
                continue
            days = ", ".join((incident.detail or {}).get("days", []))
            text = (
                f"{count} daily reminder{'' if count == 1 else 's'} of {days} "
                f"{'was' if count == 1 else 'were'} never sent: no reminder scheduler ran "
                "at the patients' reminder time that day. Those patients were not reminded."
            )
            notices.append(IncidentNotice(incident.id, incident.kind, False, text))
            continue
        what = "Text message" if incident.channel == "webhook" else "Email"
        since = incident.opened_at
        if incident.closed_at is None:
            text = (
                f"{what} reminders cannot be delivered: {incident.target} has not answered "
                f"for {_minutes(now - since)} (last error: {incident.last_error}). "
                "They are retried until each patient's day ends."
            )
        else:
            text = (
                f"{what} reminders could not be delivered for "
                f"{_minutes(incident.closed_at - since)} ({incident.target}); delivery "
                "resumed and the held reminders were sent."
            )
        if incident.affected:
            text += (
                f" {incident.affected} reminder{'' if incident.affected == 1 else 's'} "
                "could not be delivered before the patient's day ended."
            )
        notices.append(IncidentNotice(incident.id, incident.kind, incident.closed_at is None, text))
    return notices
