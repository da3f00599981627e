"""Target 3: the daily plan step ÷ a raw driver ``executemany`` of the same rows.

N active plans whose reminder time has passed today (in five time zones): the plan step
(`plan_reminders`, as the tick runs it) reads the plans, decides what is due and inserts
the day's reminders. The limit is the database driver's own ``executemany`` of exactly
those rows into the same table (computed beforehand, so only the INSERT is timed). A
second plan step on the same day (everything already planned) must cost no more. The full
size measures three rounds and reports the round with the median ratio.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from benchmarks import bulk, seed
from benchmarks.report import Figure, median_by, ratio
from tracker.core.db import make_engine
from tracker.core.models import Reminder
from tracker.reminders.planning import (
    ChannelSettings,
    PlannedReminder,
    due_reminders,
    plan_reminders,
)

# 23:00 UTC: every plan's reminder time (08:00-11:00 local, UTC-8 to UTC+0) has passed.
NOW = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
COLUMNS = (
    "plan_id", "kind", "local_day", "channel", "status", "attempts", "due_at",
    "next_attempt_at", "idempotency_key", "created_at",
)  # fmt: skip


@dataclass(frozen=True)
class Size:
    patients: int
    # Each round times the raw INSERT, then the plan step twice, on an emptied table; the
    # round whose ratio is the median is reported, every round's ratio kept (single runs of
    # the plan step on this machine differ by a tenth and more).
    rounds: int


SIZES = {"smoke": Size(200, 1), "quick": Size(3000, 1), "full": Size(100_000, 3)}


def raw_executemany(engine, rows: list[PlannedReminder]) -> float:
    """Seconds for the driver's executemany of ``rows`` (values prepared beforehand)."""
    values = [tuple(getattr(r, c) for c in COLUMNS) for r in rows]
    if engine.dialect.name == "sqlite":
        values = [bulk.sqlite_row(v) for v in values]
        marks = ", ".join("?" for _ in COLUMNS)
    else:
        marks = ", ".join("%s" for _ in COLUMNS)
    statement = f"INSERT INTO reminder ({', '.join(COLUMNS)}) VALUES ({marks})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = clock.perf_counter()
        cursor.executemany(statement, values)
        raw.commit()
        elapsed = clock.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    return elapsed


def _empty_reminders(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # CASCADE: text_message.reminder_id refers to reminders (empty here, but
            # PostgreSQL refuses to TRUNCATE a referenced table alone).
            conn.execute(text("TRUNCATE reminder CASCADE"))
        else:
            conn.execute(delete(Reminder))
    bulk.finish(engine, ("reminder",))


def _round(engine, rows: list[PlannedReminder], settings: ChannelSettings) -> dict[str, float]:
    """Seconds of the raw INSERT of ``rows``, of the plan step, and of a second plan step."""
    _empty_reminders(engine)
    raw = raw_executemany(engine, rows)
    _empty_reminders(engine)
    with Session(engine) as session:
        started = clock.perf_counter()
        planned = plan_reminders(session, now=NOW, settings=settings)
        first = clock.perf_counter() - started
        started = clock.perf_counter()
        again = plan_reminders(session, now=NOW, settings=settings)
        second = clock.perf_counter() - started
    if planned != len(rows) or again != 0:
        raise RuntimeError(f"plan step planned {planned} then {again}, expected {len(rows)}, 0")
    return {"raw": raw, "first": first, "second": second}


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    engine = make_engine(database_url)
    seed.clinic(engine, 1, NOW)
    seed.patients(engine, seed.Cohort(first_id=1, count=size.patients), NOW)
    seed.finish(engine)
    settings = ChannelSettings()
    with Session(engine) as session:
        rows = list(due_reminders(session, NOW, settings))
        session.rollback()
    rounds = [_round(engine, rows, settings) for _ in range(size.rounds)]
    engine.dispose()
    median = median_by(rounds, lambda r: r["raw"] / r["first"])
    raw, first, second = median["raw"], median["first"], median["second"]
    details = {
        "patients": size.patients,
        "reminders": len(rows),
        "plan_step_seconds": round(first, 3),
        "raw_executemany_seconds": round(raw, 3),
        "second_run_seconds": round(second, 3),
        "rounds": size.rounds,
        "ratio_of_each_round": [ratio(r["raw"], r["first"]) for r in rounds],
        "second_run_ratio_of_each_round": [ratio(r["second"], r["first"]) for r in rounds],
    }
    return [
        Figure(
            benchmark="planning",
            backend=backend,
            name="plan step rows/s",
            value=round(len(rows) / first, 1),
            unit="rows/s",
            limit_name="raw executemany rows/s",
            limit=round(len(rows) / raw, 1),
            ratio=ratio(raw, first),
            target=0.5,
            details=details,
        ),
        Figure(
            benchmark="planning",
            backend=backend,
            name="second run (already planned)",
            value=round(second, 3),
            unit="s",
            limit_name="first run s",
            limit=round(first, 3),
            ratio=ratio(second, first),
            target=1.0,
            higher_is_better=False,
            details=details,
        ),
    ]
