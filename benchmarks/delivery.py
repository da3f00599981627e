"""Target 4: reminders delivered per second through a real channel ÷ a claim-and-mark loop.

Two loopback receivers run in their own processes: an HTTP server for the webhook channel
and a small asyncio SMTP server for email (receivers.py says why not aiosmtpd); every
message sent must have been received. The limit is the deliver step's own bookkeeping
with no sending: claim a batch with a lease (``claim``), then mark each row sent
(``_finish``), one commit each. The measured step is ``deliver_reminders`` as the
scheduler runs it: claim, store the personal link, compose the message from the agenda,
send, mark sent.

Every reminder of a channel is due at the same instant (the morning peak), so "due→sent"
is how long the last patients wait for the batch ahead of them.

The full size measures three rounds in a row (the limit, then each channel, every row due
again), reports each channel's round with the median ratio, and keeps every round's ratio in
the details: single rounds of this benchmark differed by a fifth and more on this machine
(0.217 to 0.396 within one run of three rounds).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from benchmarks import bulk, seed
from benchmarks.harness import REPO, percentile
from benchmarks.report import Figure, median_by, ratio
from tracker.core.db import make_engine, utcnow
from tracker.core.models import Reminder
from tracker.core.timeutil import local_day
from tracker.reminders.channels import Channels
from tracker.reminders.delivery import DeliverySettings, _finish, claim, deliver_reminders
from tracker.reminders.planning import idempotency_key

FAR = timedelta(days=3)


@dataclass(frozen=True)
class Size:
    per_channel: int
    rounds: int  # each round measures the limit and both channels again; the median counts


# Three rounds at full size, so that the whole full run stays under 30 minutes: the median
# of three still sets aside one outlying round.
SIZES = {"smoke": Size(20, 1), "quick": Size(100, 1), "full": Size(2000, 3)}


@contextmanager
def receiver(kind: str) -> Iterator[tuple[int, dict]]:
    """A receiver process; yields (port, stats) and fills stats when it stops."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.receivers", kind],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stats: dict = {}
    try:
        line = process.stdout.readline().split()
        if line[:1] != ["ready"]:
            raise RuntimeError(f"{kind} receiver did not start")
        yield int(line[1]), stats
    finally:
        out, _ = process.communicate(input="", timeout=30)
        if out.strip():
            stats.update(json.loads(out.strip().splitlines()[-1]))


def _seed(engine, size: Size, now: datetime, webhook_url: str) -> tuple[range, range]:
    seed.clinic(engine, 1, now)
    seed.clinic(engine, 2, now, default_channel="webhook", webhook_url=webhook_url)
    n = size.per_channel
    email = seed.Cohort(first_id=1, count=n, email=lambda i: f"patient{i}@example.org")
    hook = seed.Cohort(first_id=n + 1, count=n, clinic_id=2)
    today = now.date()
    for cohort, channel in ((email, "email"), (hook, "webhook")):
        seed.patients(engine, cohort, now)
        bulk.load(
            engine,
            "reminder",
            (
                "id", "plan_id", "kind", "local_day", "channel", "status", "attempts",
                "due_at", "next_attempt_at", "idempotency_key", "created_at",
            ),
            (
                (
                    i, i, "daily", local_day(now, cohort.timezone(i)), channel, "pending", 0,
                    now, now + FAR, idempotency_key(i, "daily", today), now,
                )
                for i in cohort.ids
            ),
        )  # fmt: skip
    seed.finish(engine)
    return email.ids, hook.ids


def _make_due(session: Session, ids: range) -> datetime:
    """Reset the rows to pending and due right now; returns that instant."""
    due = utcnow()
    session.execute(seed.due_again(due).where(Reminder.plan_id.between(ids.start, ids.stop - 1)))
    session.commit()
    return due


def claim_and_mark(session: Session, settings: DeliverySettings) -> int:
    """The limit: the deliver step's claim and per-row outcome commit, nothing sent."""
    marked = 0
    while ids := claim(session, now=utcnow(), worker="bench", settings=settings):
        for reminder_id in ids:
            values = {"status": "sent", "sent_at": utcnow(), "attempts": 1, "last_error": None}
            marked += _finish(session, reminder_id, "bench", values)
    return marked


def _waits(session: Session, ids: range) -> list[float]:
    rows = session.execute(
        select(Reminder.due_at, Reminder.sent_at).where(
            Reminder.plan_id.between(ids.start, ids.stop - 1), Reminder.status == "sent"
        )
    )
    return [(sent - due).total_seconds() for due, sent in rows]


def _round(session: Session, ids: dict[str, range], config: dict, settings) -> dict:
    """One round: the limit over every row, then each channel's deliver step."""
    _make_due(session, range(ids["email"].start, ids["webhook"].stop))
    started = clock.perf_counter()
    marked = claim_and_mark(session, settings)
    limit_seconds = clock.perf_counter() - started
    far = utcnow() + FAR
    session.execute(update(Reminder).values(next_attempt_at=far))
    session.commit()
    result = {"limit_rows": marked, "limit_seconds": limit_seconds, "channels": {}}
    for channel in ("email", "webhook"):
        due = _make_due(session, ids[channel])
        started = clock.perf_counter()
        counts = deliver_reminders(
            session,
            now=due,
            channels=Channels.from_config(config),
            settings=settings,
            worker="bench",
            clock=utcnow,
        )
        seconds = clock.perf_counter() - started
        result["channels"][channel] = (counts, seconds, _waits(session, ids[channel]))
    return result


def _rates(one_round: dict, channel: str) -> tuple[float, float]:
    """(messages sent per second, limit rows per second) of a round."""
    counts, seconds, _ = one_round["channels"][channel]
    return counts.sent / seconds, one_round["limit_rows"] / one_round["limit_seconds"]


def _ratio_of(one_round: dict, channel: str) -> float:
    return ratio(*_rates(one_round, channel))


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    now = utcnow()
    engine = make_engine(database_url)
    figures: list[Figure] = []
    with receiver("webhook") as (hook_port, hook_stats), receiver("smtp") as (smtp_port, smtp):
        hook_url = f"http://127.0.0.1:{hook_port}/hook"
        email_ids, hook_ids = _seed(engine, size, now, hook_url)
        config = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "BASE_URL": "http://127.0.0.1:5000",
            "SECRET_KEY": "benchmark-secret-key-not-for-production-0123456789",
        }
        settings = DeliverySettings.from_config(config)
        ids = {"email": email_ids, "webhook": hook_ids}
        with Session(engine, expire_on_commit=False) as session:
            rounds = [_round(session, ids, config, settings) for _ in range(size.rounds)]
    engine.dispose()

    received = {"email": smtp, "webhook": hook_stats}
    for channel in ("email", "webhook"):
        sent = sum(r["channels"][channel][0].sent for r in rounds)
        got = received[channel].get("messages")
        for r in rounds:
            counts, _, waits = r["channels"][channel]
            if counts.sent != len(waits) or counts.sent != size.per_channel or counts.errors:
                raise RuntimeError(f"{channel}: sent {counts.sent}, errors {counts.errors[:3]}")
        if got != sent:
            raise RuntimeError(f"{channel}: sent {sent} in all, the receiver took {got}")
        # The round whose ratio is the median of the rounds (the machine's noise is large).
        middle = median_by(rounds, partial(_ratio_of, channel=channel))
        counts, seconds, waits = middle["channels"][channel]
        rate, limit_rate = _rates(middle, channel)
        figures.append(
            Figure(
                benchmark="delivery",
                backend=backend,
                name=f"{channel} sent/s",
                value=round(rate, 1),
                unit="msg/s",
                limit_name="claim-and-mark rows/s",
                limit=round(limit_rate, 1),
                ratio=ratio(rate, limit_rate),
                target=0.3,
                details={
                    "reminders": size.per_channel,
                    "rounds": size.rounds,
                    "ratio_of_each_round": [_ratio_of(r, channel) for r in rounds],
                    "sent": counts.sent,
                    # The receivers count over all rounds (one deliver step per round).
                    "received": got,
                    "received_bytes": received[channel].get("bytes"),
                    "receiver_connections": received[channel].get("connections"),
                    "seconds": round(seconds, 3),
                    "claim_and_mark_rows": middle["limit_rows"],
                    "claim_and_mark_seconds": round(middle["limit_seconds"], 3),
                    "due_to_sent_p50_s": round(percentile(waits, 50), 3),
                    "due_to_sent_p95_s": round(percentile(waits, 95), 3),
                    "batch_size": settings.batch_size,
                },
            )
        )
        figures.append(
            Figure(
                benchmark="delivery",
                backend=backend,
                name=f"{channel} due→sent p95 (all due at once)",
                value=round(percentile(waits, 95), 3),
                unit="s",
                details={"p50_s": round(percentile(waits, 50), 3), "reminders": len(waits)},
            )
        )
    return figures
