"""Plan-step throughput: the tick's plan step against a raw bulk INSERT of the same rows.

Usage: python benchmarks/reminder_plan_step.py [DATABASE_URL] [--patients N]
(default: a temporary SQLite file, 100,000 patients). The database must be empty; the
schema is created with Alembic. Prints seconds for each and the ratio raw/plan-step
(1.0 = as fast as the raw INSERT; the target is >= 0.5).
"""

from __future__ import annotations

import argparse
import tempfile
import time as clock
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from tracker import migrate
from tracker.config import REPO_ROOT
from tracker.db import make_engine
from tracker.models import CarePlan, Clinic, Patient, Reminder
from tracker.plan_templates import load_directory
from tracker.reminder_planning import ChannelSettings, due_reminders, plan_reminders

NOW = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "UTC"]


def seed(session: Session, patients: int) -> None:
    template = load_directory(REPO_ROOT / "schedules")["kyphoplasty"]
    activities = [a.to_dict() for a in template.activities]
    session.execute(insert(Clinic).values(id=1, name="Bench", phone="555-0100", created_at=NOW))
    chunk = 10_000
    for start in range(0, patients, chunk):
        ids = range(start + 1, min(patients, start + chunk) + 1)
        session.execute(
            insert(Patient),
            [{"id": i, "clinic_id": 1, "name": f"P{i}", "created_at": NOW} for i in ids],
        )
        session.execute(
            insert(CarePlan),
            [
                {
                    "id": i,
                    "patient_id": i,
                    "clinic_id": 1,
                    "template_id": template.id,
                    "template_version": template.version,
                    "title": template.title,
                    "procedure": "kyphoplasty",
                    "procedure_date": NOW.date() - timedelta(days=i % 40),
                    "timezone": ZONES[i % len(ZONES)],
                    "reminder_time": time(8 + i % 4, 0),
                    "duration_days": template.duration_days,
                    "activities": activities,
                    "overrides": {},
                    "status": "active",
                    "created_at": NOW,
                }
                for i in ids
            ],
        )
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?")
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed(session, args.patients)
        rows = list(due_reminders(session, NOW, ChannelSettings()))
        session.rollback()

        started = clock.perf_counter()
        session.execute(insert(Reminder), rows)
        session.commit()
        raw = clock.perf_counter() - started
        session.execute(delete(Reminder))
        session.commit()

        started = clock.perf_counter()
        planned = plan_reminders(session, now=NOW, settings=ChannelSettings())
        step = clock.perf_counter() - started
        started = clock.perf_counter()
        again = plan_reminders(session, now=NOW, settings=ChannelSettings())
        idle = clock.perf_counter() - started
    engine.dispose()
    print(f"{engine.dialect.name}: {args.patients} plans, {planned} reminders planned")
    print(f"raw INSERT executemany   {raw:7.2f} s")
    print(f"plan step (first tick)   {step:7.2f} s   ratio raw/step = {raw / step:.2f}")
    print(f"plan step (next tick)    {idle:7.2f} s   ({again} planned)")


if __name__ == "__main__":
    main()
