"""scale_out: 1, 2 and 3 schedulers ticking the same steady-state minutes together.

The database is the scale benchmark's (``benchmarks/scale.py``): patients in five time zones
whose reminder times are spread over the day, so a tick in the steady state of a day looks at
every active plan and plans and delivers (log channel) the few whose time came in the last
minute. Each group of schedulers is that many processes (``python -m benchmarks.scale_out
worker ...``), each with its own ``ShardMember`` and connections, as ``tracker scheduler``
runs them: after a warm-up tick each is told to tick the same minute at the same moment, five
minutes in a row (a group ticks the five minutes after the previous group's, so each does the
same steady-state work). For each tick, each process reports its seconds, the plans its plan
step read, the plans it evaluated, the shards it did and (PostgreSQL) the rows its SELECTs
returned; at the end, its peak RSS.

Figures, each against a limit measured in the same run:

- **sum of work**: plans read + plans evaluated, summed over the group's schedulers, per
  tick, against one scheduler's (target ≤ 1.05: shared, not repeated);
- **tick wall time** of the group (until its last scheduler finished), with 2 schedulers
  against 1 (target ≤ 0.7) and with 3 against 1 (reported: this machine has 2 CPUs shared
  with PostgreSQL);
- **peak RSS** of each scheduler process (VmHWM) < 250 MB;
- on PostgreSQL, the rows all the group's SELECTs returned, against one scheduler's
  (reported: each tick also reads the reminders it delivers, the shards and heartbeats);
- **the floor** of the wall-time ratio on this machine (reported): pure-Python work as long
  as one scheduler's tick, run by 1 process, then split over the group's 2 and 3 processes
  at the same moment (three rounds, the median). A tick also waits on PostgreSQL, which
  shares the same CPUs, so the floor is the best the tick's ratio could be here.

The median tick of the five is reported for each group (the machine's noise alone is ±30 %).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from benchmarks import bulk, seed
from benchmarks.harness import Workers, serve_ticks
from benchmarks.report import Figure, ratio
from benchmarks.scale import NOW, PERIOD, spread_time
from tracker.core.db import make_engine
from tracker.core.models import Reminder
from tracker.reminders.planning import ChannelSettings, plan_reminders

GROUPS = (1, 2, 3)
TICKS = 5
RSS_LIMIT_MB = 250.0
WORK_TARGET = 1.05
WALL_TARGET = 0.7


@dataclass(frozen=True)
class Size:
    patients: int


SIZES = {
    "smoke": Size(3_200),  # one block of every shard
    "quick": Size(20_000),
    "full": Size(1_000_000),
}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


# --- the driver ------------------------------------------------------------------------------


def _prepare(database_url: str, patients: int) -> None:
    """The database of the scale benchmark, its day so far planned and sent."""
    engine = make_engine(database_url)
    seed.clinic(engine, 1, NOW)
    cohort = seed.Cohort(first_id=1, count=patients, reminder_time=spread_time)
    seed.patients(engine, cohort, NOW, period=PERIOD)
    seed.finish(engine)
    with Session(engine) as session:
        plan_reminders(session, now=NOW - timedelta(minutes=1), settings=ChannelSettings())
        session.execute(update(Reminder).where(Reminder.status == "pending").values(status="sent"))
        session.commit()
    bulk.settle(engine, ("care_plan", "reminder"))
    engine.dispose()


def _spin_together(workers: Workers, iterations: int) -> float:
    """Each process runs its part of ``iterations`` of pure-Python work at the same moment;
    the seconds until the last is done."""
    return max(r["seconds"] for r in workers.ask_all(f"spin {iterations // len(workers)}"))


def run_group(
    database_url: str, count: int, first: datetime, spin: int | None = None
) -> dict[str, Any]:
    """``count`` scheduler processes tick the minutes from ``first`` together, then split
    ``spin`` iterations of CPU work among them (the floor: how much shorter this machine
    makes the same work in ``count`` processes; calibrated on a tick when None)."""
    names = [f"s{n}" for n in range(count)]
    with Workers("benchmarks.scale_out", database_url, names) as workers:
        # The warm-up tick, together: the minute before (already done), to warm each
        # process's caches and connections, and to count each other.
        workers.ask_all((first - timedelta(minutes=1)).isoformat())
        ticks = []
        for minute in range(TICKS):
            now = first + timedelta(minutes=minute)
            started = time.perf_counter()
            replies = workers.ask_all(now.isoformat())
            ticks.append(
                {
                    "minute": now.isoformat(),
                    "driver_seconds": round(time.perf_counter() - started, 4),
                    # The group's tick ends when its last scheduler's does.
                    "seconds": round(max(r["seconds"] for r in replies), 4),
                    "work": sum(r["plans_read"] + r["evaluated"] for r in replies),
                    "rows_read": (
                        None
                        if replies[0]["rows_read"] is None
                        else sum(r["rows_read"] for r in replies)
                    ),
                    "schedulers": replies,
                }
            )
        if spin is None:  # about as much CPU work as one scheduler's median tick took
            calibration = 2_000_000
            rate = calibration / _spin_together(workers, calibration)
            tick = sorted(t["seconds"] for t in ticks)[len(ticks) // 2]
            spin = max(calibration, int(rate * tick))
        floor_rounds = [round(_spin_together(workers, spin), 4) for _ in range(3)]
        ends = workers.ask_all("exit")
    median = sorted(ticks, key=lambda tick: tick["seconds"])[len(ticks) // 2]
    return {
        "schedulers": count,
        "seconds": median["seconds"],
        "work": _median([tick["work"] for tick in ticks]),
        "rows_read": (
            None if ticks[0]["rows_read"] is None else _median([t["rows_read"] for t in ticks])
        ),
        "all_seconds": [tick["seconds"] for tick in ticks],
        "median_tick": median,
        "ticks": ticks,
        "peak_rss_mb": [round(end["peak_rss_kb"] / 1024, 1) for end in ends],
        "floor_iterations": spin,
        "floor_seconds": _median(floor_rounds),
        "floor_rounds": floor_rounds,
    }


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    started = time.monotonic()
    _prepare(database_url, size.patients)
    print(
        f"  scale_out: {size.patients:,} patients ready in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    groups: dict[int, dict[str, Any]] = {}
    spin = None
    for offset, count in enumerate(GROUPS):
        first = NOW + timedelta(minutes=offset * TICKS)
        groups[count] = run_group(database_url, count, first, spin)
        spin = groups[count]["floor_iterations"]
        print(
            f"  scale_out: {count} scheduler(s), ticks {groups[count]['all_seconds']} s",
            file=sys.stderr,
        )
    one = groups[1]
    label = f"{size.patients:,} pts"
    details = {"patients": size.patients, "groups": groups}
    one_s = "1 scheduler's"
    floor_details = {"rounds": {c: g["floor_rounds"] for c, g in groups.items()}}
    # Each against one scheduler's: (name, the group's figure, unit, limit's name, target
    # by number of schedulers, details).
    against_one: list[tuple[str, str, str, str, dict[int, float], dict[str, Any]]] = [
        ("plans read+evaluated", "work", "plans", one_s, {2: WORK_TARGET, 3: WORK_TARGET}, details),
        # Two CPUs shared with PostgreSQL: three schedulers are reported, not judged.
        ("tick wall time", "seconds", "s", one_s, {2: WALL_TARGET}, details),
        ("floor: a tick's CPU work", "floor_seconds", "s", "in 1 process", {}, floor_details),
    ]
    if one["rows_read"] is not None:  # PostgreSQL: what every SELECT returned, reported
        against_one.append(("rows read by SELECTs", "rows_read", "rows", one_s, {}, details))
    figures = [
        Figure(
            benchmark="scale_out",
            backend=backend,
            name=(
                f"{name} in {count} processes"
                if key == "floor_seconds"
                else f"{name}, {count} schedulers ({label})"
            ),
            value=groups[count][key],
            unit=unit,
            limit_name=limit_name,
            limit=one[key],
            ratio=ratio(groups[count][key], one[key]),
            target=targets.get(count),
            higher_is_better=False,
            details=about,
        )
        for name, key, unit, limit_name, targets, about in against_one
        for count in GROUPS[1:]
    ]
    peak = max(mb for group in groups.values() for mb in group["peak_rss_mb"])
    figures.append(
        Figure(
            benchmark="scale_out",
            backend=backend,
            name=f"peak RSS per scheduler process ({label})",
            value=peak,
            unit="MB",
            limit_name="250 MB",
            limit=RSS_LIMIT_MB,
            ratio=ratio(peak, RSS_LIMIT_MB),
            target=1.0,
            higher_is_better=False,
            details=details,
        )
    )
    return figures


# --- a scheduler process -----------------------------------------------------------------------


def worker(database_url: str, name: str) -> None:
    """Tick the minutes read from stdin (one ISO instant a line; "exit" to stop) as one
    scheduler of the group, answering each with one JSON line."""
    from tracker.app import create_app
    from tracker.reminders import planning

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
            "BASE_URL": "http://127.0.0.1:5000",
            "REMINDER_CHANNEL": "log",
        },
        serving=False,
    )
    engine = app.extensions["tracker.engine"]
    counts = {"plans_read": 0, "rows_read": 0}

    # The plans the plan step read (its chunks), and the rows every SELECT returned
    # (PostgreSQL reports them; SQLite's cursors do not).
    due_in_chunk = planning._due_in_chunk

    def reading(session, chunk, now, settings, *rest):  # type: ignore[no-untyped-def]
        counts["plans_read"] += len(chunk)
        return due_in_chunk(session, chunk, now, settings, *rest)

    planning._due_in_chunk = reading  # type: ignore[assignment]

    @event.listens_for(engine, "after_cursor_execute")
    def rows(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip()[:6].upper() == "SELECT" and cursor.rowcount > 0:
            counts["rows_read"] += cursor.rowcount

    def reply(summary: dict[str, Any]) -> dict[str, Any]:
        answer = {
            "plans_read": counts["plans_read"],
            "evaluated": summary.get("alerts_evaluated", 0),
            "rows_read": counts["rows_read"] if engine.dialect.name == "postgresql" else None,
            "shards": summary.get("alerts_shards", 0) + summary.get("plan_shards", 0),
            "planned": summary.get("planned", 0),
            "sent": summary.get("sent", 0),
            "failed": sorted(key for key in summary if key.endswith("_failed")),
        }
        counts.update(plans_read=0, rows_read=0)  # from zero for the next tick
        return answer

    def spin(line: str) -> dict[str, Any] | None:
        if not line.startswith("spin "):
            return None
        return {"seconds": _spin(int(line.split()[1]))}

    serve_ticks(app, name, reply, other=spin)


def _spin(iterations: int) -> float:
    """Pure-Python work (no I/O, no database): the seconds it took."""
    started = time.perf_counter()
    total = 0
    for i in range(iterations):
        total = (total + i * i) % 1_000_003
    return round(time.perf_counter() - started, 4)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m benchmarks.scale_out worker DATABASE_URL NAME")
