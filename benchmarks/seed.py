"""Synthetic clinics, patients and plans for the benchmarks, loaded in bulk.

Plan ``i`` belongs to patient ``i``; every plan carries its own copy of the kyphoplasty
template's activities (about 4.6 kB of JSON), as real enrolments do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, Update, text

from benchmarks import bulk
from tracker.alerts.rules import next_daily_evaluation
from tracker.core.config import REPO_ROOT
from tracker.plans.links import hash_token
from tracker.plans.templates import load_directory

ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "UTC")


def link_token(patient_id: int) -> str:
    """The raw personal-link token of a benchmark patient (only its hash is stored)."""
    return f"bench-link-{patient_id:010d}-0123456789abcdefghijklmnop"


@dataclass(frozen=True)
class Cohort:
    first_id: int
    count: int
    clinic_id: int = 1
    # Functions of the patient id.
    procedure_date: Callable[[int], date] | None = None
    timezone: Callable[[int], str] = lambda i: ZONES[i % len(ZONES)]
    reminder_time: Callable[[int], time] = lambda i: time(8 + i % 4, 0)
    email: Callable[[int], str | None] = lambda i: None
    status: Callable[[int], str] = lambda i: "active"

    @property
    def ids(self) -> range:
        return range(self.first_id, self.first_id + self.count)


def clinic(
    engine: Engine,
    clinic_id: int,
    now: datetime,
    *,
    default_channel: str = "log",
    webhook_url: str | None = None,
) -> None:
    bulk.load(
        engine,
        "clinic",
        (
            "id",
            "name",
            "phone",
            "timezone",
            "severe_pain_threshold",
            "worsening_points",
            "worsening_percent",
            "not_improving_mean",
            "not_improving_day",
            "missed_checkin_days",
            "default_channel",
            "webhook_url",
            "created_at",
        ),
        [
            (
                clinic_id,
                f"Bench Clinic {clinic_id}",
                "555-0100",
                "America/New_York",
                7,
                2.0,
                30,
                4.0,
                14,
                2,
                default_channel,
                webhook_url,
                now,
            )
        ],
    )


def patients(
    engine: Engine,
    cohort: Cohort,
    now: datetime,
    *,
    links: bool = False,
    period: int | None = None,
) -> None:
    """Patients, their active plans and (optionally) a personal link each.

    ``period``: the cohort's functions repeat every ``period`` ids (e.g. 1,440 for reminder
    times a minute apart over the day, in five zones). On PostgreSQL only the first
    ``period`` patients are then sent (COPY); the others are copies of those made by the
    server, ``INSERT ... SELECT`` over ``generate_series``, with their own ids and names:
    a million patients in about a minute, with nothing held in this process.
    """
    if period is not None and engine.dialect.name == "postgresql" and cohort.count > period:
        if links:
            raise ValueError("personal links are per patient: they cannot be repeated")
        patients(engine, replace(cohort, count=period), now)
        _repeat(engine, cohort, period)
        return
    template = load_directory(REPO_ROOT / "schedules")["kyphoplasty"]
    activities = json.dumps([a.to_dict() for a in template.activities])
    today = now.date()
    procedure_date = cohort.procedure_date or (lambda i: today - timedelta(days=i % 40))
    bulk.load(
        engine,
        "patient",
        ("id", "clinic_id", "name", "email", "phone", "session_version", "created_at"),
        (
            (i, cohort.clinic_id, f"Patient {i}", cohort.email(i), "555-0199", 0, now)
            for i in cohort.ids
        ),
    )
    bulk.load(
        engine,
        "care_plan",
        (
            "id",
            "patient_id",
            "clinic_id",
            "template_id",
            "template_version",
            "title",
            "procedure",
            "procedure_date",
            "timezone",
            "reminder_time",
            "duration_days",
            "activities",
            "overrides",
            "status",
            "created_at",
            # A database in its steady state: every plan's alert rules were evaluated before,
            # and it is next due on its next local day, as the tick leaves it (enrolment
            # leaves it null until that first evaluation).
            "alerts_due_at",
        ),
        (
            (
                i,
                i,
                cohort.clinic_id,
                template.id,
                template.version,
                template.title,
                "kyphoplasty",
                procedure_date(i),
                cohort.timezone(i),
                cohort.reminder_time(i),
                template.duration_days,
                activities,
                "{}",
                cohort.status(i),
                now,
                next_daily_evaluation(i, cohort.timezone(i), now),
            )
            for i in cohort.ids
        ),
    )
    if links:
        bulk.load(
            engine,
            "patient_link_token",
            ("id", "patient_id", "token_hash", "created_at", "expires_at"),
            ((i, i, hash_token(link_token(i)), now, now + timedelta(days=90)) for i in cohort.ids),
        )


_PATIENT_COPIED = ("clinic_id", "email", "phone", "session_version", "created_at")
_PLAN_COPIED = (
    "clinic_id", "template_id", "template_version", "title", "procedure", "procedure_date",
    "timezone", "reminder_time", "duration_days", "activities", "overrides", "status",
    "created_at", "alerts_due_at",
)  # fmt: skip


def _repeat(engine: Engine, cohort: Cohort, period: int) -> None:
    """Patients and plans ``first_id + period`` up to the cohort's end, each a copy of the
    one ``period`` ids before it (``k`` periods on), made by PostgreSQL."""
    first, last = cohort.first_id, cohort.first_id + cohort.count - 1
    params = {"first": first, "template_last": first + period - 1, "last": last, "p": period}
    repeats = "generate_series(1, (:last - :first) / :p) AS k"
    within = "p.id BETWEEN :first AND :template_last AND p.id + k * :p <= :last"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO patient (id, name, {', '.join(_PATIENT_COPIED)}) "
                f"SELECT p.id + k * :p, 'Patient ' || (p.id + k * :p), "
                f"{', '.join('p.' + c for c in _PATIENT_COPIED)} "
                f"FROM patient AS p, {repeats} WHERE {within}"
            ),
            params,
        )
        conn.execute(
            text(
                f"INSERT INTO care_plan (id, patient_id, {', '.join(_PLAN_COPIED)}) "
                f"SELECT p.id + k * :p, p.patient_id + k * :p, "
                f"{', '.join('p.' + c for c in _PLAN_COPIED)} "
                f"FROM care_plan AS p, {repeats} WHERE {within}"
            ),
            params,
        )


def pain_entries(
    engine: Engine, plan_ids: range, per_plan: int, now: datetime, *, first_id: int = 1
) -> int:
    """``per_plan`` scores per plan, one a day going back from today (a plausible trend)."""
    today = now.date()

    def rows() -> Iterator[tuple]:
        entry_id = first_id
        for plan_id in plan_ids:
            for back in range(per_plan):
                day = today - timedelta(days=back // 2)
                score = min(10, 2 + (back // 4) + (plan_id + back) % 3)
                yield (
                    entry_id,
                    plan_id,
                    score,
                    "rest" if back % 2 else "activity",
                    None,
                    day,
                    now - timedelta(hours=12 * back),
                    None,
                )
                entry_id += 1

    return bulk.load(
        engine,
        "pain_entry",
        ("id", "plan_id", "score", "context", "note", "local_day", "recorded_at", "supersedes_id"),
        rows(),
    )


# The password of every coordinator the benchmarks seed (synthetic, loopback only).
PASSWORD = "benchmark password, not a real one"


def coordinators(engine: Engine, accounts: list[tuple[int, int, str]], now: datetime) -> None:
    """Coordinator accounts, each ``(id, clinic id, email)``, signing in with ``PASSWORD``."""
    from tracker.care.passwords import hash_password

    password_hash = hash_password(PASSWORD)
    bulk.load(
        engine,
        "user_account",
        (
            "id", "clinic_id", "email", "name", "password_hash", "role", "is_active",
            "session_version", "created_at",
        ),
        [
            (user_id, clinic_id, email, f"Bench Nurse {user_id}", password_hash, "coordinator",
             True, 0, now)
            for user_id, clinic_id, email in accounts
        ],
    )  # fmt: skip


def due_again(due: datetime) -> Update:
    """An UPDATE that makes reminders pending again, due (and next tried) at ``due``, as if
    never tried: add a ``where`` to choose which."""
    from sqlalchemy import update

    from tracker.core.models import Reminder

    return update(Reminder).values(
        status="pending",
        attempts=0,
        sent_at=None,
        due_at=due,
        next_attempt_at=due,
        locked_until=None,
        locked_by=None,
        last_error=None,
    )


def finish(engine: Engine) -> None:
    bulk.finish(
        engine, ("clinic", "patient", "care_plan", "patient_link_token", "pain_entry", "reminder")
    )
