"""Target 5: one tick over 10,000, 100,000, 300,000 and 1,000,000 patients (full size).

SQLite stops at 300,000 patients: it is the one-process engine (one scheduler, one writer),
and a million patients there would add about ten minutes to a full run (seeding through the
driver's ``executemany``, and eighteen ticks of over ten seconds) for a size no SQLite
installation is meant to hold. PostgreSQL goes on to 1,000,000, its patients beyond the
first 1,440 copied by the server (``seed.patients(..., period=1440)``: reminder times a
minute apart repeat every 1,440 ids), so the driver's memory stays flat (its peak RSS is in
the details).

Patients' reminder times are spread over the day (a minute apart, in five time zones), so
a tick in the steady state of a day finds every active plan, plans the few whose time came
in the last minute and delivers them (log channel) — the work the scheduler repeats every
minute. The database grows from one size to the next; before each measured tick, the
reminders of the earlier minutes are planned and marked sent (as earlier ticks would have),
and the tables those writes touched are vacuumed, analysed and checkpointed, as a running
database's housekeeping would have left them (``bulk.settle``).

Each size's ticks run in their own processes (``benchmarks/scale_tick.py``: five minutes in
a row after a warm-up tick, the median reported), which report their time and peak RSS. At
full size each size is ticked by three processes, one after the other, each on the next
five minutes (so each does the same steady-state work), and the median of their medians is
reported. A fresh process runs the same ticks on the same data up to a seventh faster or
slower than another, and keeps that speed for its life (at 10,000 patients, eight processes
re-running the same five minutes took 0.092 to 0.121 s per tick; pinning them to one CPU or
fixing the hash seed did not remove it), so with one process per size the ratio of the
sizes was largely a draw.
The warm-up tick is the first to see the new plans, so it evaluates their alert rules; the
measured ticks evaluate only plans that are due, as a running scheduler does.

Only growth counts: the µs per patient of the largest size must be within 1.3x of the lowest
µs per patient of the smaller sizes. A smaller size that costs more per patient (its fixed
costs, or noise) is not a failure: the question is whether cost grows faster than the
patients. Memory must stay flat (peak RSS under 250 MB at the largest size).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic

from sqlalchemy import update
from sqlalchemy.orm import Session

from benchmarks import bulk, seed
from benchmarks.harness import REPO, status_kb
from benchmarks.report import Figure, median_by, ratio
from benchmarks.scale_tick import TICKS as TICKS_PER_PROCESS
from tracker.core.db import make_engine
from tracker.core.models import Reminder
from tracker.reminders.planning import ChannelSettings, plan_reminders

# 16:30 UTC: morning in the Americas, evening in London; about half the day's times passed.
NOW = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


GROWTH_TARGET = 1.3
RSS_LIMIT_MB = 250.0
# spread_time repeats every 1,440 ids, and so do the zones (5) and procedure dates (40).
PERIOD = 1440


@dataclass(frozen=True)
class Size:
    patients: tuple[int, ...]
    processes: int = 1  # tick processes per size; the median of their medians is reported
    sqlite_largest: int | None = None  # SQLite stops at this size (see above)

    def on(self, backend: str) -> tuple[int, ...]:
        if backend == "sqlite" and self.sqlite_largest is not None:
            return tuple(n for n in self.patients if n <= self.sqlite_largest)
        return self.patients


SIZES = {
    "smoke": Size((100, 200), processes=2),
    "quick": Size((1000, 3000, 10_000)),
    "full": Size((10_000, 100_000, 300_000, 1_000_000), processes=3, sqlite_largest=300_000),
}


def spread_time(i: int) -> time:
    minute = (i * 7) % 1440  # 7 is coprime with 1440: every minute of the day is used
    return time(minute // 60, minute % 60)


def tick_in_subprocess(database_url: str, now: datetime) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_tick", database_url, now.isoformat()],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    engine = make_engine(database_url)
    seed.clinic(engine, 1, NOW)
    seeded = 0
    ticks = []
    for patients in size.on(backend):
        started = monotonic()
        seed.patients(
            engine,
            seed.Cohort(first_id=seeded + 1, count=patients - seeded, reminder_time=spread_time),
            NOW,
            period=PERIOD,
        )
        seeded = patients
        seed.finish(engine)
        # The day so far: earlier ticks planned and sent everything due before this minute.
        with Session(engine) as session:
            plan_reminders(session, now=NOW - timedelta(minutes=1), settings=ChannelSettings())
            session.execute(
                update(Reminder).where(Reminder.status == "pending").values(status="sent")
            )
            session.commit()
        bulk.settle(engine, ("care_plan", "reminder"))
        prepared_seconds = monotonic() - started
        processes, starts = [], []
        for process in range(size.processes):
            # Each process ticks the next minutes: the ones before were planned and sent.
            starts.append(NOW + timedelta(minutes=process * TICKS_PER_PROCESS))
            processes.append(tick_in_subprocess(database_url, starts[-1]))
            with Session(engine) as session:  # the measured ticks' reminders count as sent
                session.execute(
                    update(Reminder).where(Reminder.created_at >= NOW).values(status="sent")
                )
                session.commit()
        result = median_by(processes, lambda process: process["seconds"])
        ticks.append(
            {
                "patients": patients,
                "seconds": round(result["seconds"], 4),
                "seconds_of_each_process": [round(p["seconds"], 4) for p in processes],
                "first_minute_of_each_process": [start.isoformat() for start in starts],
                "all_seconds": [p["all_seconds"] for p in processes],
                "us_per_patient": round(result["seconds"] / patients * 1e6, 2),
                "planned": result["summary"].get("planned"),
                "sent": result["summary"].get("sent"),
                "rss_before_mb": round(max(p["rss_before_kb"] for p in processes) / 1024, 1),
                "peak_rss_mb": round(max(p["peak_rss_kb"] for p in processes) / 1024, 1),
                "prepare_seconds": round(prepared_seconds, 1),
                "driver_peak_rss_mb": round(status_kb("VmHWM") / 1024, 1),
            }
        )
        print(
            f"  scale: {patients:,} patients, prepared in {prepared_seconds:.0f} s, "
            f"{ticks[-1]['us_per_patient']} µs/patient",
            file=sys.stderr,
        )
    engine.dispose()
    per_patient = [t["us_per_patient"] for t in ticks]
    peaks = [t["peak_rss_mb"] for t in ticks]
    # Growth only: the largest size against the cheapest smaller one (smoke and quick have
    # two sizes at least, so there is always a smaller one).
    lowest_smaller = min(per_patient[:-1])
    details = {"ticks": ticks, "lowest_smaller_us_per_patient": lowest_smaller}
    return [
        Figure(
            benchmark="scale",
            backend=backend,
            name=f"tick µs/patient at {ticks[-1]['patients']:,}",
            value=per_patient[-1],
            unit="µs",
            limit_name="lowest µs/patient of smaller sizes",
            limit=lowest_smaller,
            ratio=ratio(per_patient[-1], lowest_smaller),
            target=GROWTH_TARGET,
            higher_is_better=False,
            details=details,
        ),
        Figure(
            benchmark="scale",
            backend=backend,
            name=f"tick peak RSS at {ticks[-1]['patients']:,}",
            value=peaks[-1],
            unit="MB",
            limit_name="250 MB",
            limit=RSS_LIMIT_MB,
            ratio=ratio(peaks[-1], RSS_LIMIT_MB),
            target=1.0,
            higher_is_better=False,
            details={**details, "peak_growth_largest_vs_smallest": ratio(peaks[-1], peaks[0])},
        ),
    ]
