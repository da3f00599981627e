"""The scheduler process: APScheduler as a clock, the database as the queue.

One interval job ("tick") in a dedicated process (``tracker scheduler``). APScheduler keeps
no durable state (its default in-memory job store): its FAQ says a job store cannot be
shared by several processes, and every durable fact (what is planned, sent, leased) lives
in the database instead, so any number of scheduler processes can run side by side.
Web workers never start one.

Several processes share the tick's work (shards.py): the deliver and page steps through
their outbox leases, the alerts and plan steps through shards of plans taken per tick slot.
Every process ticks on the same grid, at multiples of the interval since the epoch (at the
start of each minute with the default 60 s), so the processes of a group tick together and
a tick slot means the same minute to all of them; the first tick runs at start, off the grid.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import delete

from tracker.core.db import session_factory, utcnow
from tracker.core.models import SchedulerHeartbeat
from tracker.reminders.delivery import worker_name
from tracker.scheduler.shards import EPOCH, ShardMember
from tracker.scheduler.tick import require_secret_key, run_tick

log = logging.getLogger("tracker.scheduler")
HEARTBEAT_KEEP = timedelta(days=7)


def write_heartbeat(app: Flask, name: str, now: datetime, summary: dict[str, Any]) -> None:
    """Record this process's last tick (for health checks) and forget long-gone processes."""
    with session_factory(app)() as session:
        session.merge(SchedulerHeartbeat(name=name, last_tick_at=now, last_summary=summary))
        session.execute(
            delete(SchedulerHeartbeat).where(SchedulerHeartbeat.last_tick_at < now - HEARTBEAT_KEEP)
        )
        session.commit()


def freeze_long_lived() -> None:
    """Put every object alive now out of the cyclic garbage collector's reach.

    Called once, after the first tick: what exists then (modules, the app, SQLAlchemy's
    metadata and compiled statements, templates, time zones) lives as long as the process.
    A full collection otherwise walks all of it whenever enough new objects have been made,
    which took about 45 ms of a 100 ms tick of a 10,000-patient database, every other tick.
    Objects made later are collected as usual (``gc.freeze``, Python 3.7+).
    """
    gc.collect()
    gc.freeze()


class SchedulerProcess:
    """Builds the APScheduler clock and runs ticks until SIGTERM or SIGINT."""

    def __init__(self, app: Flask, *, interval_seconds: float | None = None) -> None:
        require_secret_key(app)
        self.app = app
        self.interval = float(interval_seconds or app.config.get("SCHEDULER_INTERVAL_SECONDS", 60))
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:200]
        self.worker = worker_name()
        self.stop = threading.Event()
        self.ticks = 0
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            # One thread: with max_instances=1 there is never more than one tick anyway.
            executors={"default": ThreadPoolExecutor(max_workers=1)},
        )
        self.member = ShardMember(worker=self.worker, interval=self.interval)
        # On the grid shared by every scheduler process (multiples of the interval since
        # the epoch), so that they tick together and agree on each tick's slot.
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.interval, start_date=EPOCH, timezone=UTC),
            id="tick",
            name="reminders tick",
            # A tick still running when the next is due is not doubled (max_instances), ticks
            # missed while busy or suspended collapse into one (coalesce), and a late tick
            # still runs within the grace time instead of being dropped.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(self.interval)),
        )
        # The first tick at start, not at the next point of the grid (the executor's one
        # thread runs it before the grid's first tick).
        self.scheduler.add_job(
            self.tick,
            "date",
            run_date=datetime.now(UTC),
            id="first tick",
            name="first tick",
            misfire_grace_time=None,  # however long the process took to start
        )

    def tick(self) -> dict[str, Any]:
        now = utcnow()
        summary = run_tick(
            self.app, now, worker=self.worker, stop=self.stop, clock=utcnow, member=self.member
        )
        self.ticks += 1
        if self.ticks == 1:
            freeze_long_lived()
        try:
            write_heartbeat(self.app, self.name, now, summary)
        except Exception:
            log.exception("could not write the scheduler heartbeat")
        return summary

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.stop.is_set():
            return
        log.info("%s: finishing the message in flight, then exiting", signal.Signals(signum).name)
        self.stop.set()
        # Runs in the main thread (signal handlers do); the tick runs in the executor's
        # thread, so waiting here lets it finish its current send and release its leases.
        try:
            self.scheduler.shutdown(wait=True)
        except SchedulerNotRunningError:
            raise SystemExit(0) from None  # signalled before the first tick was scheduled

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        log.info(
            "scheduler %s started: tick every %gs, database %s",
            self.name,
            self.interval,
            self.app.config["DATABASE_URL"].split("@")[-1],
        )
        self.scheduler.start()
        self.leave()
        log.info("scheduler %s stopped after %d tick(s)", self.name, self.ticks)

    def leave(self) -> None:
        """Give back this process's takes of shards and leave the group, so the others take
        its share at their next tick instead of after its lease and heartbeat lapse."""
        try:
            with session_factory(self.app)() as session:
                self.member.leave(session, utcnow())
        except Exception:
            log.exception("could not leave the schedulers' group")


def configure_logging(level: int = logging.INFO) -> None:
    """Tick counts and log-channel messages go to stderr, one line each."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("tracker", "tracker.reminders", "tracker.scheduler"):
        logging.getLogger(name).setLevel(level)
    # APScheduler logs every job run at INFO: noise beside the tick's own summary.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
