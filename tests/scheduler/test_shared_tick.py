"""Several schedulers tick the same minutes together and share the alerts and plan steps.

PostgreSQL only (the engine for more than one scheduler; SQLite has one writer and runs one
scheduler). Each scheduler is a thread with its own app and connection pool, all starting
each minute's tick at the same moment, as ``tracker scheduler`` processes on the shared grid
do. Every plan is due for its alert rules every minute, and a third of the plans' reminders
come due each minute: across the group each plan must be read by the plan step and
evaluated exactly once per minute, and each reminder planned once, none missed.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_test_app
from tests.scheduler.conftest import START, make_all_due, minute_of
from tests.scheduler.test_shards import SHARED, Recorder
from tracker.core.db import session_factory
from tracker.core.models import Reminder
from tracker.scheduler.shards import SHARD_COUNT, ShardMember
from tracker.scheduler.tick import run_tick

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return Recorder(monkeypatch)


@pytest.fixture
def group_apps(database_url: str):
    """One app (engine, pool) per scheduler."""
    apps = []

    def make(count: int):
        apps.extend(make_test_app(database_url) for _ in range(count))
        return apps[-count:]

    yield make
    for app in apps:
        app.extensions["tracker.engine"].dispose()


def tick_together(pairs, now: datetime) -> dict[str, dict]:
    """Each (app, member) ticks at ``now`` in its own thread; all start at the same moment."""
    barrier = threading.Barrier(len(pairs))
    summaries: dict[str, dict] = {}
    errors: list[BaseException] = []

    def run(app, member: ShardMember) -> None:
        try:
            barrier.wait(timeout=30)
            summaries[member.worker] = run_tick(app, now, member=member, steps=SHARED)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=pair, name=pair[1].worker, daemon=True) for pair in pairs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(summaries) == len(pairs)
    assert not any(key.endswith("_failed") for s in summaries.values() for key in s)
    return summaries


def reminders_by_plan(app) -> Counter[int]:
    with session_factory(app)() as session:
        return Counter(session.scalars(select(Reminder.plan_id)))


def check_minute(app, recorder: Recorder, ids: list[int], now: datetime, summaries) -> None:
    """Across the group, each plan read and evaluated once, the minute's reminders planned
    once each and none missed, every shard of each step done by exactly one scheduler."""
    assert recorder.reads(now) == Counter(ids)
    assert recorder.evaluations(now) == Counter(ids)
    minute = round((now - START).total_seconds() / 60)
    due_so_far = [i for i in ids if minute_of(i) <= minute]
    assert reminders_by_plan(app) == Counter(due_so_far)
    due_now = sum(1 for i in ids if minute_of(i) == minute)
    assert sum(s["planned"] for s in summaries.values()) == due_now
    assert sum(s["alerts_evaluated"] for s in summaries.values()) == len(ids)
    for step in ("alerts", "plan"):
        assert sum(s[f"{step}_shards"] for s in summaries.values()) == SHARD_COUNT


@pytest.mark.parametrize("count", [2, 3])
def test_schedulers_ticking_the_same_minutes_plan_and_evaluate_each_plan_once(
    app, spread_plans, recorder, group_apps, count
) -> None:
    ids = spread_plans()
    members = [ShardMember(worker=f"scheduler-{n}") for n in range(count)]
    pairs = list(zip(group_apps(count), members, strict=True))
    # They have been running: each one's heartbeat is there when the first minute starts.
    for group_app, member in pairs:
        with session_factory(group_app)() as session:
            member.join(session, START)

    done: Counter[str] = Counter()
    for minute in (1, 2, 3):
        now = START + timedelta(minutes=minute)
        make_all_due(app, now)

        summaries = tick_together(pairs, now)

        check_minute(app, recorder, ids, now, summaries)
        assert {s["schedulers"] for s in summaries.values()} == {count}
        for worker, summary in summaries.items():
            done[worker] += summary["alerts_shards"] + summary["plan_shards"]
            # The plan step read only this scheduler's shards' plans.
            assert sum(recorder.reads(now, worker).values()) == 4 * summary["plan_shards"]
    # The work was shared: every scheduler did some of it, none all of it.
    assert set(done) == {m.worker for m in members}
    assert all(0 < shards < 3 * 2 * SHARD_COUNT for shards in done.values()), done
    assert sorted(reminders_by_plan(app)) == ids and set(reminders_by_plan(app).values()) == {1}


def test_a_scheduler_that_joins_takes_a_share_without_restarting_the_others(
    app, spread_plans, recorder, group_apps
) -> None:
    ids = spread_plans()
    first, second, newcomer = (ShardMember(worker=name) for name in ("A", "B", "C"))
    apps = group_apps(3)
    running = [(apps[0], first), (apps[1], second)]
    for group_app, member in running:
        with session_factory(group_app)() as session:
            member.join(session, START)

    shares: list[dict[str, int]] = []
    for minute in (1, 2, 3):
        now = START + timedelta(minutes=minute)
        make_all_due(app, now)
        pairs = [*running, (apps[2], newcomer)] if minute >= 2 else running

        summaries = tick_together(pairs, now)

        check_minute(app, recorder, ids, now, summaries)
        shares.append({w: s["alerts_shards"] for w, s in summaries.items()})
    # From its first tick on, the newcomer is counted, and the others take less.
    assert set(shares[0]) == {"A", "B"} and set(shares[2]) == {"A", "B", "C"}
    assert shares[2]["C"] > 0
    assert max(shares[2]["A"], shares[2]["B"]) < max(shares[0]["A"], shares[0]["B"])


def test_two_schedulers_recording_their_parts_of_one_gap_at_once_lose_no_count(app) -> None:
    # After an outage each scheduler finds the reminders no tick created in its own shards
    # and adds them to the one open "not created" incident at the same moment. The first
    # has added its part (row updated, not yet committed) when the second reads the
    # incident: without the row lock the second would overwrite the first's count.
    from datetime import date

    from sqlalchemy import text

    from tracker.core.models import Clinic, DeliveryIncident
    from tracker.reminders.planning import NOT_CREATED_KEY, PastReminder, _note_gap

    now = START + timedelta(hours=1)
    with session_factory(app)() as session:
        clinic = Clinic(name="Gap Clinic", phone="555-0100", timezone="UTC", created_at=START)
        session.add(clinic)
        session.flush()
        session.add(
            DeliveryIncident(
                kind="not_created",
                key=NOT_CREATED_KEY,
                channel="scheduler",
                target="the reminder scheduler",
                opened_at=START,
                confirmed_at=START,
                last_failure_at=START,
                failures=1,
                affected=4,
                detail={"clinics": {str(clinic.id): 4}, "days": ["2026-11-20"]},
            )
        )
        session.commit()
        clinic_id = clinic.id

    def part(plans: range) -> list[PastReminder]:
        return [PastReminder(p, clinic_id, date(2026, 11, 20), "log", START) for p in plans]

    first = session_factory(app)()
    _note_gap(first, part(range(1, 3)), now)  # flushed, holds the row
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with session_factory(app)() as session:
                _note_gap(session, part(range(10, 13)), now)
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with session_factory(app)() as watcher:  # until the second waits for the first's lock
        deadline = datetime.now().timestamp() + 20
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        while not watcher.scalar(waiting):
            assert datetime.now().timestamp() < deadline, "the second never waited"
            watcher.rollback()
    first.commit()
    first.close()
    thread.join(timeout=20)

    assert not errors
    with session_factory(app)() as session:
        incident = session.scalar(select(DeliveryIncident))
        assert incident.affected == 4 + 2 + 3
        assert incident.detail["clinics"] == {str(clinic_id): 9}
        assert incident.failures == 3
