"""Shared tick work: the alerts and plan steps divided among the running schedulers.

Every scheduler process runs the whole tick, but the two steps whose work grows with the
number of plans (alerts: evaluate the plans that are due; plan: read every active plan and
write the reminders that came due) are cut into ``SHARD_COUNT`` fixed shards of plans, and
each shard is worked on by one scheduler per tick slot. See docs/reminders.md, "Several
schedulers", for the reasons and the failure modes.

- **Shards.** Plan ids are dealt out in blocks of ``BLOCK`` consecutive ids:
  ``shard = (id // BLOCK) % SHARD_COUNT``. A shard is thus a set of id ranges, read through
  the primary key (the plan step reads only its own plans, not every plan filtered), and
  any stretch of recent enrolments is spread evenly over all shards.
- **Tick slots.** Schedulers tick on the same grid (``tracker scheduler`` aligns its ticks
  to multiples of the interval since the epoch), so a tick's slot is
  ``floor(now / interval)``: the same for every scheduler ticking that minute.
- **Takes, in the database.** ``tick_shard`` has one row per (step, shard). A scheduler
  *takes* a shard for its tick with one conditional UPDATE: only a shard nobody finished in
  this slot and nobody is working on (a take whose lease has not lapsed) can be taken
  (``_takeable``; on PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED``,
  so schedulers taking at the same moment get different shards). When the work is done
  the take is *finished* (lease cleared, ``done_through`` set to the tick's ``now``); if the
  work fails or the scheduler is stopped, the take is given back at once. A scheduler killed
  mid-step leaves its take leased: it lapses after ``lease`` (two intervals), and the next
  scheduler to tick takes it again. The work itself stays idempotent (insert-or-ignore,
  conditional updates), so a take that lapsed while its holder was still at work costs
  duplicate work, never a lost or doubled reminder or alert.
- **Fair share, then stealing.** Each scheduler writes its heartbeat in ``tick_member``
  (alive for three intervals) when its tick starts, counts the live members ``n``, takes
  at most ``ceil(SHARD_COUNT / n)`` shards (lowest numbers first, so a scheduler's shards
  are mostly neighbours and its id ranges long), works on them, then takes what is still
  untaken in this slot in smaller batches until nothing is left. A scheduler that joins is
  counted at its first tick, so the others take less from their next tick on (nobody is
  restarted); a scheduler that stops is no longer counted, and its shares are taken by the
  others' stealing at the next slot. One scheduler alone takes every shard.
- **The plan step's mark** is kept per shard (``done_through`` of its ``plan`` row), so
  reminders of past local days that no tick planned are looked for over each shard's own
  gap (planning.py, "Reminders that no scheduler created"); ``planning_mark`` follows the
  oldest of them.

A tick run without a member (``run_tick(app, now)``: ``tracker reminders tick``, tests)
takes no shards and does the whole of each step, as a single scheduler does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import ceil, floor
from threading import Event
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tracker.core.db import insert_or_ignore
from tracker.core.models import CarePlan, TickMember, TickShard
from tracker.core.timeutil import require_aware

SHARD_COUNT = 64
# Consecutive plan ids per block: small enough that a few thousand plans already spread over
# every shard, large enough that a scheduler's shards are a few long id ranges.
BLOCK = 50
SHARED_STEPS = ("alerts", "plan")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Members whose heartbeat lapsed this long ago are forgotten.
MEMBER_KEEP = timedelta(days=1)

ALL_SHARDS = tuple(range(SHARD_COUNT))


def shard_of(plan_id: int) -> int:
    return (plan_id // BLOCK) % SHARD_COUNT


def shard_expression(id_column: Any) -> ColumnElement[int]:
    """``shard_of`` in SQL (integer division on both databases)."""
    return (id_column // BLOCK) % SHARD_COUNT


def plan_filter(id_column: Any, shards: Sequence[int]) -> ColumnElement[bool] | None:
    """A condition on a plan id column selecting ``shards`` (None: every shard)."""
    if set(shards) >= set(ALL_SHARDS):
        return None
    return shard_expression(id_column).in_(sorted(shards))


def id_ranges(shards: Iterable[int], last_id: int) -> list[tuple[int, int]]:
    """The ids 0..``last_id`` that belong to ``shards``, as merged (first, last) ranges."""
    owned = sorted(set(shards))
    if not owned or last_id < 0:
        return []
    # Runs of consecutive shard numbers: each is one range per cycle of SHARD_COUNT blocks.
    runs: list[tuple[int, int]] = []
    for shard in owned:
        if runs and runs[-1][1] == shard - 1:
            runs[-1] = (runs[-1][0], shard)
        else:
            runs.append((shard, shard))
    cycle = SHARD_COUNT * BLOCK
    ranges: list[tuple[int, int]] = []
    for base in range(0, last_id + 1, cycle):
        for first_shard, last_shard in runs:
            low = base + first_shard * BLOCK
            if low > last_id:
                break
            high = min(base + (last_shard + 1) * BLOCK - 1, last_id)
            if ranges and ranges[-1][1] == low - 1:  # e.g. shard 63, then 0 of the next cycle
                ranges[-1] = (ranges[-1][0], high)
            else:
                ranges.append((low, high))
    return ranges


def last_plan_id(session: Session) -> int:
    return session.scalar(select(func.max(CarePlan.id))) or 0


def slot_start(now: datetime, interval: float) -> datetime:
    """The start of ``now``'s tick slot: a multiple of ``interval`` seconds since the epoch
    (the instants ``tracker scheduler`` ticks at)."""
    seconds = (now - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=floor(seconds / interval) * interval)


def _takeable(now: datetime, start: datetime, end: datetime, lease: timedelta) -> Any:
    """Rows of ``tick_shard`` a scheduler may take at ``now`` in the slot [start, end).

    Not takeable: a take in progress whose lease has not lapsed (a lease further ahead than
    a lease can be, left by a clock that went back, counts as lapsed), and a take finished
    in this slot. A take stamped in another slot, earlier or (a clock that went back) later,
    does not count for this one.
    """
    t = TickShard.__table__.c
    return or_(
        t.tick_at.is_(None),
        and_(t.leased_until.is_(None), or_(t.tick_at < start, t.tick_at >= end)),
        and_(
            t.leased_until.is_not(None),
            or_(t.leased_until <= now, t.leased_until > now + lease),
        ),
    )


@dataclass
class ShardMember:
    """One scheduler process in the group that shares the tick's alerts and plan steps."""

    worker: str
    interval: float = 60.0
    members: int = 1  # live members counted when this member's tick started
    _pruned: bool = field(default=False, repr=False)

    @property
    def lease(self) -> timedelta:
        """How long a take blocks the others: two intervals."""
        return timedelta(seconds=2 * self.interval)

    @property
    def alive(self) -> timedelta:
        """How long a heartbeat counts this member as live: three intervals."""
        return timedelta(seconds=3 * self.interval)

    def fair_share(self) -> int:
        return ceil(SHARD_COUNT / max(1, self.members))

    # --- membership ------------------------------------------------------------------

    def join(self, session: Session, now: datetime) -> int:
        """At the start of each tick: make sure the shard rows exist, write this member's
        heartbeat and count the live members (the first time also: forget members gone for
        a day). Commits."""
        require_aware(now)
        table = TickMember.__table__
        # Cheap when they exist (the unique index answers), and a table emptied by hand
        # does not stop the work.
        session.execute(
            insert_or_ignore(session, TickShard.__table__),
            [{"step": step, "shard": shard} for step in SHARED_STEPS for shard in ALL_SHARDS],
        )
        if not self._pruned:
            session.execute(delete(table).where(table.c.alive_until < now - MEMBER_KEEP))
        alive_until = now + self.alive
        beat = session.execute(
            update(table).where(table.c.worker == self.worker).values(alive_until=alive_until)
        ).rowcount
        if not beat:
            session.execute(
                insert_or_ignore(session, table).values(
                    worker=self.worker, joined_at=now, alive_until=alive_until
                )
            )
        live = select(func.count()).select_from(table).where(table.c.alive_until > now)
        self.members = max(1, session.scalar(live) or 0)
        session.commit()
        self._pruned = True
        return self.members

    def leave(self, session: Session, now: datetime) -> None:
        """On a clean stop: give back every take in progress and leave the group, so the
        others take this member's share at their next tick. Commits."""
        t = TickShard.__table__
        session.execute(
            update(t)
            .where(t.c.leased_by == self.worker, t.c.leased_until.is_not(None))
            .values(leased_until=now)
        )
        session.execute(delete(TickMember.__table__).where(TickMember.worker == self.worker))
        session.commit()

    # --- takes -------------------------------------------------------------------------

    def take(self, session: Session, step: str, now: datetime, limit: int) -> list[int]:
        """Take up to ``limit`` shards of ``step`` for the tick at ``now``; commits; returns
        their numbers, ascending."""
        t = TickShard.__table__
        start = slot_start(now, self.interval)
        takeable = _takeable(now, start, start + timedelta(seconds=self.interval), self.lease)
        # PostgreSQL: rows another scheduler is taking at this moment are skipped, not
        # waited for (a statement of its own: as a subquery of the UPDATE, PostgreSQL may run
        # it again for each row and take every shard). SQLite has one writer at a time, and
        # the UPDATE re-checks the condition either way.
        candidates = session.scalars(
            select(t.c.shard)
            .where(t.c.step == step, takeable)
            .order_by(t.c.shard)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        taken: list[int] = []
        if candidates:
            taken = sorted(
                session.scalars(
                    update(t)
                    .where(t.c.step == step, t.c.shard.in_(candidates), takeable)
                    .values(tick_at=now, leased_by=self.worker, leased_until=now + self.lease)
                    .returning(t.c.shard)
                )
            )
        session.commit()
        return taken

    def _mine(self, step: str, shards: Sequence[int], now: datetime) -> Any:
        t = TickShard.__table__.c
        return and_(
            t.step == step,
            t.shard.in_(list(shards)),
            t.leased_by == self.worker,
            t.tick_at == now,
        )

    def finish(self, session: Session, step: str, shards: Sequence[int], now: datetime) -> None:
        """The work on ``shards`` is done for the tick at ``now``. Commits."""
        session.execute(
            update(TickShard.__table__)
            .where(self._mine(step, shards, now))
            .values(leased_until=None, done_through=now)
        )
        session.commit()

    def give_back(self, session: Session, step: str, shards: Sequence[int], now: datetime) -> None:
        """The work on ``shards`` was not completed: anyone may take them again at once."""
        session.execute(
            update(TickShard.__table__)
            .where(self._mine(step, shards, now), TickShard.leased_until.is_not(None))
            .values(leased_until=now)
        )
        session.commit()

    def marks(self, session: Session, step: str, shards: Sequence[int]) -> datetime | None:
        """The oldest ``done_through`` of ``shards`` (None when one has never been done)."""
        t = TickShard.__table__.c
        oldest, known = session.execute(
            select(func.min(t.done_through), func.count(t.done_through)).where(
                t.step == step, t.shard.in_(list(shards))
            )
        ).one()
        return oldest if known == len(set(shards)) else None

    def oldest_mark(self, session: Session, step: str) -> datetime | None:
        """The oldest ``done_through`` of every shard of ``step`` (None while one is unset)."""
        return self.marks(session, step, ALL_SHARDS)

    # --- a shared step -----------------------------------------------------------------

    def share(
        self,
        step: str,
        now: datetime,
        session: Callable[[], Session],
        work: Callable[[Session, list[int]], dict[str, int]],
        stop: Event,
    ) -> dict[str, int]:
        """Run ``work`` on this member's shares of ``step`` at ``now``: its fair share first,
        then, in smaller batches, whatever no one has taken in this slot. Returns the summed
        counts of ``work`` and ``<step>_shards`` (how many shards this member did)."""
        counts: dict[str, int] = {}
        done = 0
        batch = self.fair_share()
        # No scheduler has more than every shard to do in one tick.
        while not stop.is_set() and done < SHARD_COUNT:
            with session() as s:
                taken = self.take(s, step, now, min(batch, SHARD_COUNT - done))
            if not taken:
                break
            try:
                with session() as s:
                    for key, value in work(s, taken).items():
                        counts[key] = counts.get(key, 0) + value
            except BaseException:
                with session() as s:
                    self.give_back(s, step, taken, now)
                raise
            with session() as s:
                if stop.is_set():  # the work may have been cut short: someone else redoes it
                    self.give_back(s, step, taken, now)
                    break
                self.finish(s, step, taken, now)
            done += len(taken)
            batch = max(1, self.fair_share() // 4)
        counts[f"{step}_shards"] = done
        return counts
