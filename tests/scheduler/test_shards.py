"""Shards of plans and their takes (tracker/scheduler/shards.py), on both databases.

The takes' conditions are what keep two schedulers from doing the same shard's work in one
tick: a late scheduler finds nothing to take in a minute another scheduler already did, or
is still doing, and a take left by a scheduler that died is taken again once its lease lapses.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import literal, select

from tests.scheduler.conftest import START, make_all_due
from tracker.core.db import session_factory
from tracker.core.models import Reminder, TickMember, TickShard
from tracker.scheduler.process import SchedulerProcess
from tracker.scheduler.shards import (
    BLOCK,
    SHARD_COUNT,
    ShardMember,
    id_ranges,
    shard_expression,
    shard_of,
    slot_start,
)
from tracker.scheduler.tick import TICK_STEPS, run_tick

SHARED = [(name, step) for name, step in TICK_STEPS if name in ("alerts", "plan")]


class Recorder:
    """Which plans each scheduler (thread) read in the plan step and evaluated, per tick."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from tracker.alerts import rules
        from tracker.reminders import planning

        self.lock = threading.Lock()
        self.read: list[tuple[datetime, str, int]] = []
        self.evaluated: list[tuple[datetime, str, int]] = []
        due_in_chunk, evaluate = planning._due_in_chunk, rules.evaluate_active_plans

        def reading(session, chunk, now, settings, *rest):
            with self.lock:
                name = threading.current_thread().name
                self.read += [(now, name, row[0]) for row in chunk]
            return due_in_chunk(session, chunk, now, settings, *rest)

        def evaluating(session, now, **kwargs):
            with self.lock:
                name = threading.current_thread().name
                self.evaluated += [(now, name, plan_id) for plan_id in kwargs["plan_ids"]]
            return evaluate(session, now, **kwargs)

        monkeypatch.setattr(planning, "_due_in_chunk", reading)
        monkeypatch.setattr(rules, "evaluate_active_plans", evaluating)

    def reads(self, now: datetime, who: str | None = None) -> Counter[int]:
        return Counter(p for at, name, p in self.read if at == now and who in (None, name))

    def evaluations(self, now: datetime, who: str | None = None) -> Counter[int]:
        return Counter(p for at, name, p in self.evaluated if at == now and who in (None, name))


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return Recorder(monkeypatch)


def tick_as(app, member: ShardMember, now: datetime, steps=SHARED) -> dict:
    """One tick of ``member`` in a thread named after it (the recorder's key)."""
    result: dict = {}

    def run() -> None:
        result.update(run_tick(app, now, member=member, steps=steps))

    thread = threading.Thread(target=run, name=member.worker)
    thread.start()
    thread.join(timeout=60)
    return result


def test_every_plan_id_is_in_exactly_one_shard_and_the_ranges_hold_exactly_a_shards_ids() -> None:
    rng = random.Random(24)
    for last_id in (0, 1, BLOCK - 1, BLOCK, SHARD_COUNT * BLOCK - 1, 3 * SHARD_COUNT * BLOCK + 7):
        some = rng.sample(range(SHARD_COUNT), 9)
        for shards in ([0], [SHARD_COUNT - 1, 0], list(range(SHARD_COUNT)), some):
            ranges = id_ranges(shards, last_id)
            covered = [i for first, last in ranges for i in range(first, last + 1)]
            assert covered == sorted(i for i in range(last_id + 1) if shard_of(i) in shards)
            # Merged: no two ranges touch.
            assert all(a[1] + 1 < b[0] for a, b in pairwise(ranges))
    assert id_ranges(range(SHARD_COUNT), 10_000) == [(0, 10_000)]
    assert id_ranges([], 10_000) == []


def test_the_database_puts_each_plan_in_the_same_shard_as_python(session) -> None:
    ids = [1, 49, 50, 51, 3199, 3200, 3250, 987_654_321]
    got = [session.scalar(select(shard_expression(literal(i)))) for i in ids]
    assert got == [shard_of(i) for i in ids] == [0, 0, 1, 1, 63, 0, 1, (987_654_321 // 50) % 64]


def test_a_tick_slot_is_the_interval_the_scheduler_ticks_on() -> None:
    at = datetime(2026, 11, 21, 15, 1, 59, 999_000, tzinfo=UTC)
    assert slot_start(at, 60) == datetime(2026, 11, 21, 15, 1, tzinfo=UTC)
    assert slot_start(at, 1) == datetime(2026, 11, 21, 15, 1, 59, tzinfo=UTC)
    assert slot_start(at, 300) == datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def test_the_scheduler_ticks_on_the_grid_every_process_shares(app) -> None:
    process = SchedulerProcess(app, interval_seconds=60)
    trigger = process.scheduler.get_job("tick").trigger
    at = datetime(2026, 11, 21, 15, 0, 17, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, at) == datetime(2026, 11, 21, 15, 1, tzinfo=UTC)
    assert process.member.worker == process.worker and process.member.interval == 60


def test_one_scheduler_alone_takes_every_shard_and_does_all_the_work(
    app, spread_plans, recorder
) -> None:
    ids = spread_plans()
    member = ShardMember(worker="alone")
    for minute in (1, 2, 3):
        now = START + timedelta(minutes=minute)
        make_all_due(app, now)

        summary = tick_as(app, member, now, steps=TICK_STEPS)  # every step, log channel

        assert summary["schedulers"] == 1
        assert (summary["alerts_shards"], summary["plan_shards"]) == (SHARD_COUNT, SHARD_COUNT)
        assert recorder.reads(now) == Counter(ids)
        assert recorder.evaluations(now) == Counter(ids)
        assert summary["planned"] == summary["sent"] == len(ids) // 3 + (minute == 1)
    with session_factory(app)() as session:
        keys = session.scalars(select(Reminder.plan_id).where(Reminder.status == "sent")).all()
    assert sorted(keys) == ids


def test_a_late_scheduler_in_the_same_minute_takes_nothing_another_took(
    app, spread_plans, recorder
) -> None:
    # Scheduler A ticks at 15:01:00 and does every shard (alone so far). B's tick at
    # 15:01:30 is in the same minute: although every plan is due again, B takes no shard,
    # so no plan is read or evaluated twice in that minute.
    ids = spread_plans()
    first, late = ShardMember(worker="A"), ShardMember(worker="B")
    at = START + timedelta(minutes=1)
    make_all_due(app, at)
    summary = tick_as(app, first, at)
    assert (summary["alerts_shards"], summary["plan_shards"]) == (SHARD_COUNT, SHARD_COUNT)
    make_all_due(app, at)

    later = at + timedelta(seconds=30)
    summary = tick_as(app, late, later)

    assert summary["schedulers"] == 2
    assert (summary["alerts_shards"], summary["plan_shards"]) == (0, 0)
    assert summary["alerts_evaluated"] == summary["planned"] == 0
    assert not recorder.reads(later) and not recorder.evaluations(later)

    # The next minute A does not tick (it died): B takes its own share, then A's.
    at = START + timedelta(minutes=2)
    summary = tick_as(app, late, at)
    assert summary["schedulers"] == 2
    assert (summary["alerts_shards"], summary["plan_shards"]) == (SHARD_COUNT, SHARD_COUNT)
    assert recorder.evaluations(at) == Counter(ids)


def test_a_take_left_in_progress_blocks_others_until_its_lease_lapses(
    app, spread_plans, recorder
) -> None:
    # A takes every alerts shard at 15:01 and is killed before finishing: its lease (two
    # intervals) keeps B from doing that work twice while A might still be at it, in this
    # minute and the next; at 15:03 the lease has lapsed and B takes the shards over.
    ids = spread_plans()
    first, other = ShardMember(worker="A"), ShardMember(worker="B")
    at = START + timedelta(minutes=1)
    make_all_due(app, at)
    with session_factory(app)() as session:
        first.join(session, at)
        assert first.take(session, "alerts", at, SHARD_COUNT) == list(range(SHARD_COUNT))
        row = session.get(TickShard, ("alerts", 5))
        assert (row.leased_by, row.leased_until) == ("A", at + timedelta(minutes=2))

    for now in (at + timedelta(seconds=10), at + timedelta(seconds=119)):
        summary = tick_as(app, other, now)
        assert summary["alerts_shards"] == 0 and not recorder.evaluations(now)
        assert summary["plan_shards"] == SHARD_COUNT  # nobody took those this minute

    lapsed = at + first.lease
    summary = tick_as(app, other, lapsed)
    assert summary["alerts_shards"] == SHARD_COUNT
    assert recorder.evaluations(lapsed) == Counter(ids)
    with session_factory(app)() as session:
        rows = session.scalars(select(TickShard).where(TickShard.step == "alerts")).all()
    assert {(r.leased_by, r.leased_until, r.done_through) for r in rows} == {("B", None, lapsed)}


def test_a_clean_stop_gives_back_takes_in_progress_and_leaves_the_group(app) -> None:
    member, other = ShardMember(worker="A"), ShardMember(worker="B")
    with session_factory(app)() as session:
        member.join(session, START)
        other.join(session, START)
        assert member.take(session, "plan", START, 3) == [0, 1, 2]
        member.leave(session, START + timedelta(seconds=5))
        assert session.scalars(select(TickMember.worker)).all() == ["B"]
        assert other.join(session, START + timedelta(seconds=6)) == 1
        assert other.take(session, "plan", START + timedelta(seconds=6), 64) == list(range(64))


def test_a_failing_shard_is_given_back_at_once_and_the_step_counts_as_failed(
    app, spread_plans, monkeypatch
) -> None:
    from tracker.alerts import rules

    spread_plans()
    member = ShardMember(worker="A")
    at = START + timedelta(minutes=1)
    make_all_due(app, at)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(rules, "evaluate_active_plans", broken)
    summary = tick_as(app, member, at)
    assert summary["alerts_failed"] == 1 and summary["plan_shards"] == SHARD_COUNT
    monkeypatch.undo()

    # Given back, not left leased: taken again in the same minute by the next scheduler.
    summary = tick_as(app, ShardMember(worker="B"), at + timedelta(seconds=20))
    assert summary["alerts_shards"] == SHARD_COUNT and summary["plan_shards"] == 0
