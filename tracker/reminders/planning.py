"""The tick's plan step: write today's reminders into the outbox, once each.

For every active plan whose patient's local reminder time has passed *today* (in the
patient's own time zone), the day's ``daily`` digest is inserted if absent, and an
``appointment`` reminder on the day before a visit whose actual date the clinic has set.
Only the patient's current local day is planned for sending, so a scheduler that was down
for a day catches up on today's reminders and never sends yesterday's late.

What no tick planned is not forgotten, though. The plan step keeps a mark (``PlanningMark``:
the ``now`` of the last plan step that completed); a daily reminder of a past local day (up
to ``MISSED_LOOKBACK_DAYS`` back) whose time came after that mark, on a day the plan was
running, was never planned. It is planned now: to be sent, if it is still within
``LATE_SEND_GRACE`` of its time (a 23:59 reminder with ticks at 23:58:30 and 00:00:30), or
recorded as dead, "not created", and counted on one operator-facing ``DeliveryIncident``
for the whole gap (not one alert per patient). See docs/operations.md.

The nudge after a day without a check-in is folded into the daily digest (see
reminder_messages.py) rather than sent as a third message the same morning: one short
message a day is easier on patients who are tired, sore and often on opioids.

Set-based, for hundreds of thousands of patients, in chunks of 10,000 plans (by id, so
memory stays flat): per chunk, one query fetches the candidate plans (plain columns, no ORM
objects), one fetches the reminders already planned around today, due rows are computed in
Python and written with one INSERT ... ON CONFLICT DO NOTHING, then committed. The
unique constraints (plan, kind, local day, channel) and the idempotency key (plan, kind,
local day) make concurrent schedulers and repeated ticks harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, exists, literal, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from tracker.core.db import insert_or_ignore
from tracker.core.models import (
    Caregiver,
    CarePlan,
    Clinic,
    DeliveryIncident,
    Patient,
    PlanningMark,
    Reminder,
)
from tracker.core.timeutil import zone
from tracker.plans.agenda import agenda_for_day
from tracker.reminders.delivery import (
    LATE_SEND_GRACE,
    NOT_CREATED,
    add_or_join_incident,
    open_incident,
)

PLAN_BATCH_SIZE = 10_000
# How many past local days the plan step checks for reminders that no tick planned.
MISSED_LOOKBACK_DAYS = 3
PLAN_MARK = "plan"
NOT_CREATED_KEY = "not_created"
log = logging.getLogger("tracker.reminders")


@dataclass(frozen=True)
class ChannelSettings:
    """How the deployment can deliver: decides each plan's channel."""

    default_channel: str = "log"  # TRACKER_REMINDER_CHANNEL
    email_enabled: bool = False  # an SMTP host is configured

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ChannelSettings:
        return cls(
            default_channel=config.get("REMINDER_CHANNEL") or "log",
            email_enabled=bool(config.get("SMTP_HOST")),
        )


def choose_channel(
    settings: ChannelSettings, *, patient_email: str | None, clinic_channel: str | None
) -> str:
    """Email when the patient has an address and SMTP is set up; else the clinic's choice.

    A clinic left on ``log`` (the column default) has made no choice, so the deployment's
    ``TRACKER_REMINDER_CHANNEL`` applies. A channel that cannot reach the patient (email
    without an address, webhook without a URL) is kept, so delivery fails visibly and the
    care team gets an "undeliverable" alert instead of the reminder vanishing into a log.
    """
    if patient_email and settings.email_enabled:
        return "email"
    if clinic_channel and clinic_channel != "log":
        return clinic_channel
    return settings.default_channel


def idempotency_key(plan_id: int, kind: str, day: date) -> str:
    """Deterministic, and independent of the channel: one message per plan, kind and day."""
    return _key(plan_id, kind, day.isoformat())


CAREGIVER_KEY_PART = "-caregiver-"


def caregiver_idempotency_key(plan_id: int, kind: str, day: date, caregiver_id: int) -> str:
    """A caregiver's copy of the patient's message of that day: the patient's key and theirs
    (what ``plan_caregiver_reminders`` writes in SQL)."""
    return f"{idempotency_key(plan_id, kind, day)}{CAREGIVER_KEY_PART}{caregiver_id}"


def _key(plan_id: int, kind: str, iso_day: str) -> str:
    return f"reminder-{plan_id}-{kind}-{iso_day}"


class PlannedReminder(NamedTuple):
    """One reminder to insert, in the INSERT's column order."""

    plan_id: int
    kind: str
    local_day: date
    channel: str
    status: str
    attempts: int
    due_at: datetime
    next_attempt_at: datetime
    idempotency_key: str
    created_at: datetime


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return zone(name)


def _local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _due_at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    # Same rule as timeutil.local_wall_time_to_utc (fold=0), inlined for the hot loop:
    # the wall time is resolved in the patient's zone and converted to UTC before any
    # comparison, so a daylight-saving change never skips or doubles a day.
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


# (first, last) plan id ranges: a scheduler's shards of plans (scheduler/shards.py).
IdRanges = Sequence[tuple[int, int]]


def _candidate_query(now: datetime) -> Any:
    """Active plans that may be on a day today, with what deciding their reminders needs."""
    # A plan cannot be on a day later than the latest local date anywhere on Earth (UTC+14).
    latest_local = (now + timedelta(hours=14)).date()
    return (
        select(
            CarePlan.id,
            CarePlan.timezone,
            CarePlan.reminder_time,
            CarePlan.procedure_date,
            CarePlan.duration_days,
            # As text: parsing 100,000 JSON documents a minute to find the few visit dates
            # set for tomorrow would dominate the step; a substring test finds them.
            cast(CarePlan.overrides, String),
            Patient.email,
            Clinic.default_channel,
            CarePlan.clinic_id,
            CarePlan.created_at,
        )
        .join(Patient, Patient.id == CarePlan.patient_id)
        .join(Clinic, Clinic.id == CarePlan.clinic_id)
        .where(CarePlan.status == "active", CarePlan.procedure_date <= latest_local)
        .order_by(CarePlan.id)
    )


def _candidate_chunks(
    session: Session, now: datetime, size: int, id_ranges: IdRanges | None = None
) -> Iterator[list[Any]]:
    """Active plans in chunks of ``size``, by id (keyset pagination: no cursor is held open,
    so each chunk can be inserted and committed before the next is read); with
    ``id_ranges``, only those whose ids are in these (first, last) ranges, each range
    paginated the same way (so a chunk never spans two ranges)."""
    query = _candidate_query(now).limit(size)
    # Core rows through the session's connection: the ORM's result machinery would cost
    # more than the query itself for 100,000 plain tuples. (The connection is asked for per
    # chunk: the caller commits between chunks, which returns it to the pool.)
    for first, last in [(0, None)] if id_ranges is None else id_ranges:
        within = query if last is None else query.where(CarePlan.id <= last)
        after = first - 1
        while chunk := session.connection().execute(within.where(CarePlan.id > after)).all():
            yield chunk
            after = chunk[-1][0]


def _existing(session: Session, now: datetime, plan_ids: list[int]) -> set[tuple[int, str, date]]:
    """Reminders of these plans already planned for a local day that is "today" somewhere."""
    utc_day = now.date()
    # By plan id range, kind and day: the unique (plan, kind, local day, channel) index
    # serves it. ``plan_ids`` are ascending (a chunk of plans by id).
    rows = session.execute(
        select(Reminder.plan_id, Reminder.kind, Reminder.local_day).where(
            # A range, not a list of 10,000 ids: the planner then prefers the index even
            # when the table's statistics are stale (just after a day's bulk insert).
            Reminder.plan_id.between(plan_ids[0], plan_ids[-1]),
            Reminder.kind.in_(("daily", "appointment")),
            Reminder.local_day.between(utc_day - timedelta(days=1), utc_day + timedelta(days=1)),
        )
    )
    return {(plan_id, kind, day) for plan_id, kind, day in rows}


def _appointment_tomorrow(session: Session, plan_id: int, tomorrow: date) -> bool:
    """Whether the plan has a visit with an actual date tomorrow (agenda decides)."""
    plan = session.get(CarePlan, plan_id)
    return plan is not None and bool(agenda_for_day(plan, tomorrow).appointments_today)


def _due_in_chunk(
    session: Session,
    chunk: list[Any],
    now: datetime,
    settings: ChannelSettings,
    days: dict[tuple[str, time], tuple[date, str, datetime, date, str]] | None = None,
) -> Iterator[PlannedReminder]:
    existing = _existing(session, now, [row[0] for row in chunk])
    # Patients share a handful of zones and reminder times: today's local date, its text
    # (for the idempotency key), the due instant and tomorrow's date as it appears in the
    # overrides' JSON are worked out once per (zone, wall time), not once per plan (``days``
    # may be kept for all the chunks of one step: it depends on ``now`` only).
    days = {} if days is None else days
    for (
        plan_id,
        tz_name,
        wall,
        procedure_date,
        duration_days,
        overrides,
        email,
        clinic_channel,
        _clinic_id,
        _created_at,
    ) in chunk:
        local = days.get((tz_name, wall))
        if local is None:
            tz = _zone(tz_name)
            today = _local_today(now, tz)
            tomorrow = today + timedelta(days=1)
            local = days[tz_name, wall] = (
                today,
                today.isoformat(),
                _due_at(today, wall, tz),
                tomorrow,
                f'"{tomorrow.isoformat()}"',
            )
        today, iso_today, due, tomorrow, quoted_tomorrow = local
        if now < due:
            continue
        channel = None
        day_number = (today - procedure_date).days
        if 0 <= day_number < duration_days and (plan_id, "daily", today) not in existing:
            channel = choose_channel(settings, patient_email=email, clinic_channel=clinic_channel)
            yield _row(plan_id, "daily", today, iso_today, channel, due, now)
        # Cheap text test first: only plans with an actual visit date set tomorrow are loaded.
        if (
            overrides
            and quoted_tomorrow in overrides
            and (plan_id, "appointment", today) not in existing
            and _appointment_tomorrow(session, plan_id, tomorrow)
        ):
            channel = channel or choose_channel(
                settings, patient_email=email, clinic_channel=clinic_channel
            )
            yield _row(plan_id, "appointment", today, iso_today, channel, due, now)


def due_reminders(
    session: Session, now: datetime, settings: ChannelSettings, *, chunk: int = PLAN_BATCH_SIZE
) -> Iterator[PlannedReminder]:
    """Rows for every reminder due today (local) and not yet planned."""
    for plans in _candidate_chunks(session, now, chunk):
        yield from _due_in_chunk(session, plans, now, settings)


def _row(
    plan_id: int, kind: str, day: date, iso_day: str, channel: str, due: datetime, now: datetime
) -> PlannedReminder:
    key = _key(plan_id, kind, iso_day)
    return PlannedReminder(plan_id, kind, day, channel, "pending", 0, due, due, key, now)


# One statement per batch on PostgreSQL: the rows travel as one array per column, so the
# server gets a single INSERT (fast, and its row count is exact) instead of thousands.
_PG_INSERT = text(
    """
    INSERT INTO reminder (plan_id, kind, local_day, channel, status, attempts, due_at,
                          next_attempt_at, idempotency_key, created_at)
    SELECT plan_id, kind, local_day, channel, 'pending', 0, due_at, due_at, key, :created_at
    FROM unnest(CAST(:plan_ids AS integer[]), CAST(:kinds AS varchar[]),
                CAST(:days AS date[]), CAST(:channels AS varchar[]),
                CAST(:due AS timestamptz[]), CAST(:keys AS varchar[]))
         AS t(plan_id, kind, local_day, channel, due_at, key)
    ON CONFLICT DO NOTHING
    """
)


_SQLITE_INSERT = """
    INSERT INTO reminder (plan_id, kind, local_day, channel, status, attempts, due_at,
                          next_attempt_at, idempotency_key, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO NOTHING
"""


def _sqlite_values(session: Session, rows: list[PlannedReminder]) -> list[tuple[Any, ...]]:
    """Driver tuples in the INSERT's column order, each date and instant converted by the column's
    own bind processor once: many rows share a day and a due instant (one per zone and
    reminder time)."""
    dialect = session.get_bind().dialect
    table = Reminder.__table__

    def converter(name: str) -> Any:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is None:
            return lambda value: value
        done: dict[Any, Any] = {}

        def convert(value: Any) -> Any:
            if value is None:
                return None
            if value not in done:
                done[value] = processor(value)
            return done[value]

        return convert

    day, instant = converter("local_day"), converter("due_at")
    return [
        (plan, kind, day(local), chan, status, tries, instant(due), instant(nxt), key, instant(at))
        for plan, kind, local, chan, status, tries, due, nxt, key, at in rows
    ]


def insert_ignoring_duplicates(session: Session, rows: list[PlannedReminder]) -> int:
    """INSERT the rows, skipping any that another tick or process already inserted.

    Returns how many were inserted. The rows of one batch share ``created_at``.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        result = session.execute(
            _PG_INSERT,
            {
                "plan_ids": [r.plan_id for r in rows],
                "kinds": [r.kind for r in rows],
                "days": [r.local_day for r in rows],
                "channels": [r.channel for r in rows],
                "due": [r.due_at for r in rows],
                "keys": [r.idempotency_key for r in rows],
                "created_at": rows[0].created_at,
            },
        )
        return result.rowcount
    if dialect == "sqlite":
        # The driver's executemany (SQLite reports the exact number of rows inserted), with
        # values converted once each by the columns' own bind processors: converting every
        # value of every row through SQLAlchemy cost as much as the INSERT itself.
        return (
            session.connection()
            .exec_driver_sql(_SQLITE_INSERT, _sqlite_values(session, rows))
            .rowcount
        )
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover


def plan_caregiver_reminders(
    session: Session, now: datetime, id_ranges: IdRanges | None = None
) -> int:
    """Each caregiver's own daily reminder, in one INSERT ... SELECT for the whole step.

    A caregiver who asked for the daily reminder (``reminder_channel`` set) and is not
    removed gets one wherever their patient's daily reminder of a day was planned (to be
    sent) on an active plan: same day, same time, by the caregiver's own channel, with the
    patient's idempotency key plus theirs (``caregiver_idempotency_key``). So a paused or
    ended plan, a day off the plan, or a time not yet come plans none for them either.
    A caregiver added after the patient's reminder time starts the next day. Driven by the
    (few) caregivers, the patient's rows found by the (plan, kind, day) index; the same rows
    found again by the next tick are skipped (NOT EXISTS, and the unique indexes for two
    schedulers at once). Returns how many were inserted; not committed.
    """
    # The plans with a caregiver who wants reminders, first and on their own: few or none,
    # and without them the planner may start from the day's reminders (a table PostgreSQL
    # has never counted caregivers in can look big), once per shard taken.
    wanted = (
        select(CarePlan.id)
        .join(Caregiver, Caregiver.patient_id == CarePlan.patient_id)
        .where(
            Caregiver.removed_at.is_(None),
            Caregiver.reminder_channel.is_not(None),
            CarePlan.status == "active",
        )
    )
    if id_ranges is not None:
        wanted = wanted.where(or_(*(CarePlan.id.between(a, b) for a, b in id_ranges)))
    plan_ids = sorted(set(session.scalars(wanted)))
    if not plan_ids:
        return 0
    patient_row = aliased(Reminder)
    mine = aliased(Reminder)
    utc_day = now.date()
    where = [
        patient_row.plan_id.in_(plan_ids),
        Caregiver.removed_at.is_(None),
        Caregiver.reminder_channel.is_not(None),
        CarePlan.status == "active",
        patient_row.kind == "daily",
        patient_row.caregiver_id.is_(None),
        patient_row.local_day.between(utc_day - timedelta(days=1), utc_day + timedelta(days=1)),
        # Not a past day recorded as never planned (dead, never to be sent).
        or_(patient_row.status != "dead", ~patient_row.last_error.like(f"{NOT_CREATED}%")),
        patient_row.due_at >= Caregiver.created_at,
        patient_row.due_at <= now,
        ~exists().where(
            mine.plan_id == patient_row.plan_id,
            mine.kind == patient_row.kind,
            mine.local_day == patient_row.local_day,
            mine.caregiver_id == Caregiver.id,
        ),
    ]
    rows = (
        select(
            patient_row.plan_id,
            patient_row.kind,
            patient_row.local_day,
            Caregiver.reminder_channel,
            literal("pending"),
            literal(0),
            patient_row.due_at,
            patient_row.due_at,
            patient_row.idempotency_key + literal(CAREGIVER_KEY_PART) + cast(Caregiver.id, String),
            literal(now, Reminder.__table__.c.created_at.type),
            Caregiver.id,
        )
        .select_from(Caregiver)
        .join(CarePlan, CarePlan.patient_id == Caregiver.patient_id)
        .join(patient_row, patient_row.plan_id == CarePlan.id)
        .where(and_(*where))
    )
    table = Reminder.__table__
    insert = insert_or_ignore(session, table).from_select(
        [
            table.c.plan_id,
            table.c.kind,
            table.c.local_day,
            table.c.channel,
            table.c.status,
            table.c.attempts,
            table.c.due_at,
            table.c.next_attempt_at,
            table.c.idempotency_key,
            table.c.created_at,
            table.c.caregiver_id,
        ],
        rows,
    )
    # The ids inserted, counted (psycopg does not report a row count for INSERT ... SELECT
    # as the SQLite driver does).
    return len(session.execute(insert.returning(table.c.id)).all())


def planned_through(session: Session) -> datetime | None:
    """The ``now`` of the last plan step that completed, if any."""
    return session.scalar(
        select(PlanningMark.planned_through).where(PlanningMark.name == PLAN_MARK)
    )


def advance_mark(session: Session, now: datetime) -> None:
    """Move ``planning_mark`` forward to ``now`` (never back)."""
    moved = session.execute(
        update(PlanningMark)
        .where(PlanningMark.name == PLAN_MARK, PlanningMark.planned_through < now)
        .values(planned_through=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        session.execute(
            insert_or_ignore(session, PlanningMark.__table__).values(
                name=PLAN_MARK, planned_through=now
            )
        )


class PastReminder(NamedTuple):
    """A daily reminder of a past local day that no tick planned."""

    plan_id: int
    clinic_id: int
    local_day: date
    channel: str
    due_at: datetime


def _past_in_chunk(
    session: Session,
    chunk: list[Any],
    since: datetime,
    now: datetime,
    settings: ChannelSettings,
    windows: dict[tuple[str, time], list[tuple[date, datetime]]] | None = None,
) -> list[PastReminder]:
    """Daily reminders of the last ``MISSED_LOOKBACK_DAYS`` local days that came due after
    ``since`` (the last completed plan step), on a day of the plan, after the plan was
    created, and that are not in the outbox. Usually none: only when the scheduler was
    down, or a late reminder time fell between a tick before midnight and one after."""
    # The past days whose reminder came due in (since, now], per (zone, wall time); may be
    # kept for all the chunks of one step (it depends on ``since`` and ``now`` only).
    windows = {} if windows is None else windows
    candidates: list[PastReminder] = []
    for (
        plan_id,
        tz_name,
        wall,
        procedure_date,
        duration_days,
        _overrides,
        email,
        clinic_channel,
        clinic_id,
        created_at,
    ) in chunk:
        past = windows.get((tz_name, wall))
        if past is None:
            tz = _zone(tz_name)
            today = _local_today(now, tz)
            past = windows[tz_name, wall] = [
                (day, due)
                for back in range(MISSED_LOOKBACK_DAYS, 0, -1)
                for day in [today - timedelta(days=back)]
                for due in [_due_at(day, wall, tz)]
                if since < due <= now
            ]
        for day, due in past:
            if 0 <= (day - procedure_date).days < duration_days and created_at <= due:
                channel = choose_channel(
                    settings, patient_email=email, clinic_channel=clinic_channel
                )
                candidates.append(PastReminder(plan_id, clinic_id, day, channel, due))
    if not candidates:
        return []
    days = sorted({c.local_day for c in candidates})
    existing = set(
        session.execute(
            select(Reminder.plan_id, Reminder.local_day).where(
                Reminder.plan_id.between(candidates[0].plan_id, candidates[-1].plan_id),
                Reminder.kind == "daily",
                Reminder.local_day.in_(days),
            )
        ).all()
    )
    return [c for c in candidates if (c.plan_id, c.local_day) not in existing]


def _record_past(
    session: Session, past: list[PastReminder], now: datetime
) -> tuple[int, list[PastReminder]]:
    """Insert each past reminder: to be sent if still within ``LATE_SEND_GRACE`` of its
    time, else dead as never created. Returns how many are to be sent, and the ones
    recorded as not created (by this process: a concurrent one records the others)."""
    late, missed = [], []
    for item in past:
        (late if now < item.due_at + LATE_SEND_GRACE else missed).append(item)
    sent_late = insert_ignoring_duplicates(
        session,
        [
            _row(p.plan_id, "daily", p.local_day, p.local_day.isoformat(), p.channel, p.due_at, now)
            for p in late
        ],
    )
    recorded: list[PastReminder] = []
    for start in range(0, len(missed), 500):
        part = missed[start : start + 500]
        values = [
            {
                "plan_id": p.plan_id,
                "kind": "daily",
                "local_day": p.local_day,
                "channel": p.channel,
                "status": "dead",
                "attempts": 0,
                "due_at": p.due_at,
                "next_attempt_at": p.due_at,
                "last_error": (
                    f"{NOT_CREATED}no scheduler ran between its time "
                    f"({p.due_at.isoformat(timespec='minutes')}) and the end of the "
                    "patient's day, so it was never planned or sent"
                ),
                "idempotency_key": idempotency_key(p.plan_id, "daily", p.local_day),
                "created_at": now,
            }
            for p in part
        ]
        inserted = set(
            session.execute(
                insert_or_ignore(session, Reminder.__table__)
                .values(values)
                .returning(Reminder.__table__.c.plan_id, Reminder.__table__.c.local_day)
            ).all()
        )
        recorded.extend(p for p in part if (p.plan_id, p.local_day) in inserted)
    return sent_late, recorded


def _note_gap(session: Session, recorded: list[PastReminder], now: datetime) -> None:
    """One operator-facing incident for reminders never created (merged into the open one,
    if a tick already opened it); closed by the next plan step that finds no new gap."""
    clinics: dict[str, int] = {}
    for item in recorded:
        clinics[str(item.clinic_id)] = clinics.get(str(item.clinic_id), 0) + 1
    days = {item.local_day.isoformat() for item in recorded}
    incident = _open_gap(session)
    if incident is None:
        incident = DeliveryIncident(
            kind="not_created",
            key=NOT_CREATED_KEY,
            channel="scheduler",
            target="the reminder scheduler",
            opened_at=now,
            confirmed_at=now,
            last_failure_at=now,
            failures=0,
            affected=0,
            detail={},
        )
        incident = add_or_join_incident(session, incident)
    # Schedulers sharing the plan step record their parts of one gap at the same moment:
    # the row is locked and read again before it is added to, so no part is lost.
    session.refresh(incident, with_for_update=True)
    old = incident.detail or {}
    merged = dict(old.get("clinics", {}))
    for clinic_id, count in clinics.items():
        merged[clinic_id] = merged.get(clinic_id, 0) + count
    incident.detail = {
        "clinics": merged,
        "days": sorted(set(old.get("days", [])) | days),
    }
    incident.affected += len(recorded)
    incident.failures += 1
    incident.last_failure_at = now
    incident.last_error = (
        f"{len(recorded)} daily reminder(s) of {', '.join(sorted(days))} were never created: "
        "no scheduler ran between their time and the end of the patient's day"
    )
    session.flush()
    log.error("%s (incident %s)", incident.last_error, incident.id)


def _open_gap(session: Session) -> DeliveryIncident | None:
    return open_incident(session, NOT_CREATED_KEY)


def plan_reminders(
    session: Session,
    *,
    now: datetime,
    settings: ChannelSettings,
    batch_size: int = PLAN_BATCH_SIZE,
    id_ranges: IdRanges | None = None,
    since: datetime | None = None,
) -> int:
    """The plan step. Commits each batch; returns how many reminders were newly planned
    to be sent (today's, and a past day's still within ``LATE_SEND_GRACE`` of its time).

    Plans are read, decided and inserted one chunk at a time, so memory stays flat however
    many patients there are, even on the first tick of a day when all of them are due.
    Past days' reminders that no tick planned are recorded as they are found (see the
    module's docstring), and the mark moves to ``now`` once every chunk is done.

    ``id_ranges`` limits the step to the plans whose ids are in these (first, last) ranges:
    a scheduler's shards (scheduler/shards.py), whose own mark ``since`` is then given by
    the caller, who keeps the shards' marks (``planning_mark`` is left alone).
    """
    floor = now - timedelta(days=MISSED_LOOKBACK_DAYS + 1)
    if id_ranges is None:
        since = planned_through(session)
    since = max(since or floor, floor)
    session.commit()
    planned = 0
    recorded: list[PastReminder] = []
    # Worked out once per (zone, wall time) for the whole step, not once per chunk: a
    # scheduler's shards are read in many short chunks.
    days: dict[tuple[str, time], tuple[date, str, datetime, date, str]] = {}
    windows: dict[tuple[str, time], list[tuple[date, datetime]]] = {}
    for plans in _candidate_chunks(session, now, batch_size, id_ranges):
        rows = list(_due_in_chunk(session, plans, now, settings, days))
        planned += insert_ignoring_duplicates(session, rows)
        if since < now:
            past = _past_in_chunk(session, plans, since, now, settings, windows)
            if past:
                sent_late, missed = _record_past(session, past, now)
                planned += sent_late
                recorded.extend(missed)
        session.commit()
    # Caregivers' own reminders, mirroring the patients' just planned: one statement.
    planned += plan_caregiver_reminders(session, now, id_ranges)
    session.commit()
    if recorded:
        _note_gap(session, recorded, now)
    else:
        session.execute(
            update(DeliveryIncident)
            .where(
                DeliveryIncident.key == NOT_CREATED_KEY,
                DeliveryIncident.closed_at.is_(None),
                # Not a gap another scheduler recorded after this step's plans were last
                # planned (its own shards, in this same tick): the next step closes it.
                DeliveryIncident.last_failure_at <= since,
            )
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
    if id_ranges is None:
        advance_mark(session, now)
    session.commit()
    return planned
