"""Fixtures for the shared tick: plans spread over every shard, seeded in bulk."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from benchmarks import seed
from tracker.core.models import CarePlan
from tracker.scheduler.shards import BLOCK, SHARD_COUNT, shard_of

# Saturday 2026-11-21 15:00 UTC; the tests tick the minutes after it.
START = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
# Half a block apart: 256 plans fill every shard (four each).
SPACING = BLOCK // 2
PLANS = 4 * SHARD_COUNT


@dataclass(frozen=True)
class Spread(seed.Cohort):
    """Plans ``spacing`` ids apart (plan i belongs to patient i, as in benchmarks/seed.py)."""

    spacing: int = SPACING

    @property
    def ids(self) -> range:
        return range(self.first_id, self.first_id + self.count * self.spacing, self.spacing)


def minute_of(plan_id: int) -> int:
    """The minute after START at which a plan's reminder is due: 1, 2 or 3."""
    return 1 + ((plan_id - 1) // SPACING) % 3


@pytest.fixture
def spread_plans(app: Flask) -> Callable[..., list[int]]:
    """Seed ``count`` plans in UTC, started yesterday, each with its daily reminder at 15:01,
    15:02 or 15:03 (``minute_of``); returns their ids."""

    def _seed(count: int = PLANS, *, reminder: Callable[[int], time] | None = None) -> list[int]:
        engine = app.extensions["tracker.engine"]
        seed.clinic(engine, 1, START)
        cohort = Spread(
            first_id=1,
            count=count,
            timezone=lambda i: "UTC",
            procedure_date=lambda i: START.date() - timedelta(days=1),
            reminder_time=reminder or (lambda i: time(15, minute_of(i))),
        )
        seed.patients(engine, cohort, START)
        seed.finish(engine)
        ids = list(cohort.ids)
        assert {shard_of(i) for i in ids} == set(range(SHARD_COUNT))
        return ids

    return _seed


def make_all_due(app: Flask, now: datetime) -> None:
    """Every plan has new evidence: its alert rules are due at ``now``."""
    with app.extensions["tracker.engine"].begin() as conn:
        conn.execute(update(CarePlan.__table__).values(alerts_due_at=now))
