"""Real ``tracker scheduler`` processes sharing the tick: one is killed (SIGKILL) while it
holds shards of the alerts or plan step, and nothing is lost.

PostgreSQL only. Two processes tick every second on the real clock; 800 plans, spread over
every shard, have never been evaluated, and 100 of them have today's reminder due, sent to a
loopback webhook receiver. The process killed left its takes leased: the survivor must take them
once their lease lapses (not before), and in the end every plan is evaluated, every reminder
planned once and received exactly once (the kill came between deliver steps, so no message
was in flight).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import time as wall_time
from datetime import timedelta

import pytest
from sqlalchemy import func, or_, select, update

from benchmarks import seed
from tests.reminders.conftest import WebhookReceiver
from tests.reminders.test_scheduler_process import Spawner, wait_for
from tests.scheduler.conftest import Spread
from tracker.core.db import session_factory, utcnow
from tracker.core.models import CarePlan, Reminder, TickMember, TickShard
from tracker.scheduler.shards import BLOCK, SHARD_COUNT

pytestmark = pytest.mark.postgres_only

PLANS = 800
SPACING = SHARD_COUNT * BLOCK // PLANS  # 4: the plans fill every shard
REMINDERS = PLANS // 8


def with_reminder(plan_id: int) -> bool:
    return (plan_id - 1) // SPACING % 8 == 0


@pytest.fixture
def spawner(tmp_path, database_url):
    spawner = Spawner(tmp_path, database_url)
    try:
        yield spawner
    finally:
        spawner.cleanup()


def seed_due_now(app) -> list[int]:
    """Plans in UTC, never evaluated; an eighth of them (``with_reminder``) started yesterday,
    with today's 00:00 reminder due; the others' plans are over (nothing to send)."""
    now = utcnow()
    engine = app.extensions["tracker.engine"]
    seed.clinic(engine, 1, now - timedelta(days=2))
    cohort = Spread(
        first_id=1,
        count=PLANS,
        spacing=SPACING,
        timezone=lambda i: "UTC",
        procedure_date=lambda i: now.date() - timedelta(days=1 if with_reminder(i) else 200),
        reminder_time=lambda i: wall_time(0, 0),
    )
    seed.patients(engine, cohort, now)
    seed.finish(engine)
    with engine.begin() as conn:
        conn.execute(update(CarePlan.__table__).values(alerts_due_at=None))
    assert sum(map(with_reminder, cohort.ids)) == REMINDERS
    return list(cohort.ids)


def takes_in_progress(app, worker: str | None = None) -> list[TickShard]:
    with session_factory(app)() as session:
        query = select(TickShard).where(TickShard.leased_until.is_not(None))
        if worker is not None:
            query = query.where(TickShard.leased_by == worker)
        rows = session.scalars(query).all()
        session.expunge_all()
        return list(rows)


def statuses(app) -> Counter[str]:
    with session_factory(app)() as session:
        return Counter(session.scalars(select(Reminder.status)))


def not_evaluated(app) -> int:
    with session_factory(app)() as session:
        return session.scalar(
            select(func.count()).where(
                or_(CarePlan.alerts_due_at.is_(None), CarePlan.alerts_due_at <= utcnow())
            )
        )


def test_a_scheduler_killed_while_holding_shards_loses_nothing(app, spawner) -> None:
    ids = seed_due_now(app)
    with WebhookReceiver() as receiver:
        settings = {"REMINDER_CHANNEL": "webhook", "WEBHOOK_URL": receiver.url}
        processes = {child.pid: child for child in (spawner.start(**settings) for _ in "AB")}

        # Wait until one of them holds a take of the alerts or plan step, then kill it.
        deadline = time.monotonic() + 30
        while not (held := takes_in_progress(app)):
            if time.monotonic() > deadline:
                pytest.fail(f"no take in progress was seen\n{spawner.logs()[-3000:]}")
            time.sleep(0.002)
        worker = held[0].leased_by
        victim = next(pid for pid in processes if f":{pid}:" in worker)
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait(timeout=10)
        killed_at = utcnow()
        left = {(r.step, r.shard): r.leased_until for r in takes_in_progress(app, worker)}
        assert left, "the process finished its takes before the kill landed"
        survivor = next(child for pid, child in processes.items() if pid != victim)

        # The survivor takes over what the killed process left, once each lease lapsed.
        def taken_over() -> bool:
            with session_factory(app)() as session:
                rows = session.scalars(select(TickShard)).all()
                return all(
                    r.leased_by != worker and r.leased_until is None
                    for r in rows
                    if (r.step, r.shard) in left
                )

        wait_for(taken_over, spawner, "the killed process's shards to be taken over")
        lapsed = max(left.values())
        assert lapsed <= killed_at + timedelta(seconds=2)  # a lease: two intervals
        with session_factory(app)() as session:
            for row in session.scalars(select(TickShard)):
                if (row.step, row.shard) in left:
                    # Taken again once its lease lapsed, not before; by the survivor's first
                    # ticks after that (each tick also delivers, so allow a few seconds).
                    assert left[row.step, row.shard] <= row.tick_at <= lapsed + timedelta(seconds=8)
                    assert row.done_through == row.tick_at

        # Nothing lost: every plan evaluated, every reminder planned once and received once.
        wait_for(lambda: not_evaluated(app) == 0, spawner, "every plan evaluated")
        wait_for(lambda: len(set(receiver.keys())) >= REMINDERS, spawner, "every reminder")
        wait_for(lambda: statuses(app) == {"sent": REMINDERS}, spawner, "all marked sent")
        with session_factory(app)() as session:
            planned = Counter(session.scalars(select(Reminder.plan_id)))
            keys = set(session.scalars(select(Reminder.idempotency_key)))
        time.sleep(1.5)  # more ticks: nothing else may arrive
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=20) == 0
        received = Counter(receiver.keys())

    assert planned == Counter(filter(with_reminder, ids))
    assert set(received) == keys and set(received.values()) == {1}
    with session_factory(app)() as session:
        # The survivor left the group when it stopped; the killed one's heartbeat lapses.
        assert session.scalars(select(TickMember.worker)).all() == [worker]
        assert all(row.leased_until <= utcnow() for row in takes_in_progress(app))
