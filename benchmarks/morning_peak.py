"""morning_peak: every patient's reminder due in the same minute, sent by 1 and by 2 schedulers.

PostgreSQL only: SQLite is the one-scheduler engine (a single writer at a time; a second
scheduler there would wait for the first's every commit), so a second scheduler has
nothing to add there.

The patients (in five time zones) all have their daily reminder at the same instant, and a
loopback webhook receiver in its own process (``benchmarks/receivers.py``) stands for the
clinic's SMS gateway (channel "webhook"). The driver plans the day's reminders with the
plan step itself, then, for each group of schedulers (1, then 2):

- every reminder is made pending again and due at one instant a few seconds ahead, the
  personal links stored by the previous group are deleted (each group stores them all
  again, as the first sending of the day does), and the tables are vacuumed and
  checkpointed;
- the group's processes (``python -m benchmarks.morning_peak worker ...``, each the app and
  the ``ShardMember`` of a ``tracker scheduler``, started and warmed by a tick with nothing
  due) are all told, at that instant, to run the tick of that minute: the real tick
  (alerts, escalation, paging, plan, deliver), sending with the real clock, the deliver
  steps sharing the reminders through their claims (``FOR UPDATE SKIP LOCKED``);
- the group is done when its last scheduler's tick ends. Every reminder must be sent, once,
  and the receiver must have taken every message.

Figures, each group: reminders per second (all of them ÷ the time from the due instant to
the last ``sent_at``), and p95 due→sent (``sent_at - due_at``: how long the last patients
wait). Target: 2 schedulers send at ≥ 1.6 times the rate of one, measured in the same run. This
machine has 2 CPUs, shared by both schedulers, PostgreSQL and the receiver.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from benchmarks import bulk, seed
from benchmarks.delivery import receiver
from benchmarks.harness import Workers, percentile, serve_ticks, status_kb
from benchmarks.report import Figure, ratio
from benchmarks.scale import PERIOD
from tracker.core.db import make_engine, utcnow
from tracker.core.models import PatientLinkToken, Reminder
from tracker.reminders.planning import ChannelSettings, plan_reminders

GROUPS = (1, 2)
RATE_TARGET = 1.6
SECRET = "benchmark-secret-key-not-for-production-0123456789"


@dataclass(frozen=True)
class Size:
    reminders: int
    # Seconds from making every reminder due again to the due instant: the reset, VACUUM
    # and CHECKPOINT happen before it, so none of them counts as a patient's wait.
    lead_seconds: float


# The full size sends 30,000 reminders, not the 100,000 of the issue that asked for this
# benchmark: at the 250-300 reminders a second one scheduler sends on this machine (a
# durable commit per reminder), 100,000 would take one scheduler six minutes and the two
# three more, and the full run would no longer fit in 30 minutes (docs/performance.md, "The
# full run's time"). The rate does not depend on the count past a few thousand; due→sent
# grows in proportion to it (at 100,000, about 3.3 times as long).
SIZES = {
    "smoke": Size(200, 2.0),
    "quick": Size(3_000, 4.0),
    "full": Size(30_000, 8.0),
}


def _reminder_time_of(peak: datetime):  # type: ignore[no-untyped-def]
    """Each patient's reminder time: the peak's local time in the patient's zone."""
    from zoneinfo import ZoneInfo

    local = {zone: peak.astimezone(ZoneInfo(zone)).time() for zone in seed.ZONES}
    return lambda i: local[seed.ZONES[i % len(seed.ZONES)]]


def _prepare(engine, reminders: int, hook_url: str) -> datetime:  # type: ignore[no-untyped-def]
    """Patients whose reminders all fall on this minute, their reminders planned by the plan
    step (and then marked sent, so a warm-up tick has nothing to do); returns the minute."""
    peak = utcnow().replace(second=0, microsecond=0)
    seed.clinic(engine, 1, peak, default_channel="webhook", webhook_url=hook_url)
    cohort = seed.Cohort(first_id=1, count=reminders, reminder_time=_reminder_time_of(peak))
    seed.patients(engine, cohort, peak, period=PERIOD)
    seed.finish(engine)
    with Session(engine) as session:
        plan_reminders(session, now=peak, settings=ChannelSettings())
        session.execute(update(Reminder).values(status="sent", sent_at=peak))
        session.commit()
        channels = {
            channel: n
            for channel, n in session.execute(
                select(Reminder.channel, func.count()).group_by(Reminder.channel)
            )
        }
    if channels != {"webhook": reminders}:
        raise RuntimeError(f"planned {channels}, not {reminders} webhook reminders")
    return peak


def _make_due(engine, lead_seconds: float) -> datetime:  # type: ignore[no-untyped-def]
    """Every reminder pending and due ``lead_seconds`` from now, no personal link stored;
    the tables then vacuumed and checkpointed. Returns the due instant."""
    due = utcnow() + timedelta(seconds=lead_seconds)
    with Session(engine) as session:
        session.execute(delete(PatientLinkToken))
        session.execute(seed.due_again(due))
        session.commit()
    bulk.settle(engine, ("reminder", "patient_link_token"))
    return due


def _waits(engine, due: datetime) -> tuple[list[float], datetime | None]:  # type: ignore[no-untyped-def]
    """Each sent reminder's due→sent seconds, and the last ``sent_at``."""
    with Session(engine) as session:
        rows = session.execute(
            select(Reminder.due_at, Reminder.sent_at).where(Reminder.status == "sent")
        ).all()
    waits = [(sent - when).total_seconds() for when, sent in rows if sent >= due]
    last = max((sent for _, sent in rows), default=None)
    return waits, last


def run_group(engine, database_url: str, count: int, size: Size) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    names = [f"m{n}" for n in range(count)]
    with Workers("benchmarks.morning_peak", database_url, names) as workers:
        # Warm-up: a tick of the current minute with nothing due (every reminder is sent).
        warm_ups = workers.ask_all(utcnow().isoformat())
        due = _make_due(engine, size.lead_seconds)
        late = (utcnow() - due).total_seconds()
        if late < 0:
            time.sleep(-late)
        replies = workers.ask_all(due.isoformat())
        ends = workers.ask_all("exit")
    waits, last = _waits(engine, due)
    sending = (last - due).total_seconds() if last is not None else 0.0
    sent = sum(r["sent"] for r in replies)
    failed = sorted({key for r in replies for key in r["failed"]})
    if sent != size.reminders or len(waits) != size.reminders or failed:
        raise RuntimeError(
            f"{count} scheduler(s): sent {sent}, {len(waits)} marked sent, failed {failed}"
        )
    return {
        "schedulers": count,
        "reminders": size.reminders,
        "due": due.isoformat(),
        "told_late_s": round(max(0.0, late), 3),
        "seconds_to_last_sent": round(sending, 3),
        "per_second": round(size.reminders / sending, 1) if sending > 0 else 0.0,
        "due_to_sent_p50_s": round(percentile(waits, 50), 3),
        "due_to_sent_p95_s": round(percentile(waits, 95), 3),
        "sent_by_each": [r["sent"] for r in replies],
        "tick_seconds_of_each": [r["seconds"] for r in replies],
        "step_seconds_of_each": [r["step_seconds"] for r in replies],
        "planned_in_warm_up": sum(r["planned"] for r in warm_ups),
        "planned_in_tick": sum(r["planned"] for r in replies),
        "peak_rss_mb": [round(end["peak_rss_kb"] / 1024, 1) for end in ends],
    }


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    if backend != "postgresql":
        # benchmarks/__main__.py does not run it there; see the docstring.
        print("  morning_peak: PostgreSQL only (SQLite has one writer)", file=sys.stderr)
        return []
    size = SIZES[size_name]
    engine = make_engine(database_url)
    started = time.monotonic()
    groups: dict[int, dict[str, Any]] = {}
    with receiver("webhook") as (port, received):
        _prepare(engine, size.reminders, f"http://127.0.0.1:{port}/hook")
        print(
            f"  morning_peak: {size.reminders:,} reminders ready in "
            f"{time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        for count in GROUPS:
            groups[count] = run_group(engine, database_url, count, size)
            print(
                f"  morning_peak: {count} scheduler(s), {groups[count]['per_second']}/s, "
                f"p95 due→sent {groups[count]['due_to_sent_p95_s']} s",
                file=sys.stderr,
            )
    engine.dispose()
    expected = size.reminders * len(GROUPS)
    if received.get("messages") != expected:
        raise RuntimeError(f"the receiver took {received.get('messages')}, not {expected}")
    one = groups[1]
    details = {
        "reminders": size.reminders,
        "groups": groups,
        "received": received.get("messages"),
        "receiver_connections": received.get("connections"),
        "driver_peak_rss_mb": round(status_kb("VmHWM") / 1024, 1),
    }
    label = f"{size.reminders:,} due at once"
    figures = []
    for count in GROUPS:
        group = groups[count]
        figures.append(
            Figure(
                benchmark="morning_peak",
                backend=backend,
                name=f"reminders/s, {count} scheduler{'s' if count > 1 else ''} ({label})",
                value=group["per_second"],
                unit="msg/s",
                limit_name="" if count == 1 else "1 scheduler's",
                limit=None if count == 1 else one["per_second"],
                ratio=None if count == 1 else ratio(group["per_second"], one["per_second"]),
                target=None if count == 1 else RATE_TARGET,
                details=details,
            )
        )
    for count in GROUPS:
        figures.append(
            Figure(
                benchmark="morning_peak",
                backend=backend,
                name=f"due→sent p95, {count} scheduler{'s' if count > 1 else ''}",
                value=groups[count]["due_to_sent_p95_s"],
                unit="s",
                higher_is_better=False,
                details={"p50_s": groups[count]["due_to_sent_p50_s"]},
            )
        )
    return figures


# --- a scheduler process -----------------------------------------------------------------------


def worker(database_url: str, name: str) -> None:
    """Tick the minutes read from stdin (one ISO instant a line; "exit" to stop) as one
    ``tracker scheduler`` of the group, sending with the real clock; one JSON line each."""
    from tracker.app import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "BASE_URL": "http://127.0.0.1:5000",
        },
        serving=False,
    )

    def reply(summary: dict[str, Any]) -> dict[str, Any]:
        return {
            "planned": summary.get("planned", 0),
            "sent": summary.get("sent", 0),
            "failed": sorted(
                key
                for key, value in summary.items()
                if (key.endswith("_failed") or key.endswith("errors")) and value
            ),
        }

    serve_ticks(app, name, reply, clock=utcnow)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m benchmarks.morning_peak worker DATABASE_URL NAME")
