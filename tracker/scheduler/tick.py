"""One tick of the scheduler: a list of steps run in order with the same ``now``.

Each step gets its own database session and returns counts, which are merged into the
tick's summary and logged. ``TICK_STEPS`` is a plain list so that other work that must run
on the clock (e.g. evaluating alert rules) is one more entry, not another scheduler.

With a ``ShardMember`` (``tracker scheduler`` always has one), the alerts and plan steps
work only on the shards of plans this scheduler takes for the tick, so that several
schedulers share them instead of repeating them (shards.py); without one, each step does
all of its work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from tracker.alerts.rules import due_plan_ids, evaluate_due_plans
from tracker.core.config import ConfigError
from tracker.core.db import session_factory
from tracker.core.models import CarePlan
from tracker.core.secret_key import secret_key_problem
from tracker.core.timeutil import require_aware
from tracker.escalation.paging import deliver_pages, patient_page_link, run_escalation
from tracker.reminders.channels import Channels
from tracker.reminders.delivery import DeliverySettings, deliver_reminders, worker_name
from tracker.reminders.planning import (
    ChannelSettings,
    advance_mark,
    plan_reminders,
    planned_through,
)
from tracker.scheduler.shards import ShardMember, id_ranges, last_plan_id, plan_filter

log = logging.getLogger("tracker.scheduler")


@dataclass
class TickContext:
    app: Flask
    now: datetime
    worker: str
    stop: threading.Event = field(default_factory=threading.Event)
    # The real clock while sending (the scheduler); None means "now" throughout.
    clock: Callable[[], datetime] | None = None
    # This scheduler's place in the group sharing the alerts and plan steps; None: do all.
    member: ShardMember | None = None

    def session(self) -> Session:
        return session_factory(self.app)()


Step = Callable[[TickContext], dict[str, int]]


def plan_step(ctx: TickContext) -> dict[str, int]:
    settings = ChannelSettings.from_config(ctx.app.config)
    if ctx.member is None:
        with ctx.session() as session:
            planned = plan_reminders(session, now=ctx.now, settings=settings)
        return {"planned": planned}
    member = ctx.member

    def plan_shards(session: Session, shards: list[int]) -> dict[str, int]:
        # Reminders of past days are looked for since these shards were last planned (a
        # shard never planned: since the last whole plan step, before schedulers shared it).
        since = member.marks(session, "plan", shards) or planned_through(session)
        planned = plan_reminders(
            session,
            now=ctx.now,
            settings=settings,
            id_ranges=id_ranges(shards, last_plan_id(session)),
            since=since,
        )
        return {"planned": planned}

    counts = member.share("plan", ctx.now, ctx.session, plan_shards, ctx.stop)
    if counts["plan_shards"]:
        # ``planning_mark`` follows the shard planned longest ago.
        with ctx.session() as session:
            oldest = member.oldest_mark(session, "plan")
            if oldest is not None:
                advance_mark(session, oldest)
                session.commit()
    return {"planned": counts.get("planned", 0), "plan_shards": counts["plan_shards"]}


def deliver_step(ctx: TickContext) -> dict[str, int]:
    with ctx.session() as session:
        counts = deliver_reminders(
            session,
            now=ctx.now,
            channels=Channels.from_config(ctx.app.config),
            settings=DeliverySettings.from_config(ctx.app.config),
            worker=ctx.worker,
            stop=ctx.stop,
            clock=ctx.clock,
        )
    return {
        "sent": counts.sent,
        "retried": counts.retried,
        "dead": counts.dead,
        "expired": counts.expired,
        "lost_lease": counts.lost_lease,
        "deferred": counts.deferred,
        "errors": len(counts.errors),
    }


ALERT_BATCH_SIZE = 500


def alerts_step(ctx: TickContext) -> dict[str, int]:
    """Evaluate the alert rules of the plans that are due (alerts.py, "When the rules run"):
    those with new evidence since their last evaluation, and once a local day every active
    plan, for the time-based rules (e.g. no check-in for two days). A batch per transaction.
    With a member, only the plans of the shards it takes.
    """
    if ctx.member is None:
        with ctx.session() as session:
            due = due_plan_ids(session, ctx.now)
        return _evaluate(ctx, due)

    def evaluate_shards(session: Session, shards: list[int]) -> dict[str, int]:
        due = due_plan_ids(session, ctx.now, where=plan_filter(CarePlan.__table__.c.id, shards))
        session.commit()
        return _evaluate(ctx, due)

    counts = ctx.member.share("alerts", ctx.now, ctx.session, evaluate_shards, ctx.stop)
    return {
        "alerts_raised": counts.get("alerts_raised", 0),
        "alerts_evaluated": counts.get("alerts_evaluated", 0),
        "alerts_shards": counts["alerts_shards"],
    }


def _evaluate(ctx: TickContext, due: list[int]) -> dict[str, int]:
    raised, evaluated = 0, 0
    for start in range(0, len(due), ALERT_BATCH_SIZE):
        if ctx.stop.is_set():
            break
        with ctx.session() as session:
            new, ids = evaluate_due_plans(
                session, ctx.now, plan_ids=due[start : start + ALERT_BATCH_SIZE]
            )
            session.commit()
        raised += len(new)
        evaluated += len(ids)
    return {"alerts_raised": raised, "alerts_evaluated": evaluated}


def escalate_step(ctx: TickContext) -> dict[str, int]:
    """On-call paging (paging.py): first pages for open pageable alerts of clinics now out
    of hours (including those just raised by the rules), then the next contact for alerts
    nobody acknowledged within the clinic's delay."""
    with ctx.session() as session:
        counts = run_escalation(session, ctx.now, stop=ctx.stop)
    return {
        "pages_queued": counts.queued,
        "pages_escalated": counts.escalated,
        "escalations_exhausted": counts.exhausted,
        "escalation_errors": len(counts.errors),
    }


def page_step(ctx: TickContext) -> dict[str, int]:
    """Deliver the paging outbox, with the reminders' lease, retry and dead-letter rules."""
    with ctx.session() as session:
        counts = deliver_pages(
            session,
            now=ctx.now,
            channels=Channels.from_config(ctx.app.config),
            settings=DeliverySettings.from_config(ctx.app.config),
            link_for=patient_page_link(ctx.app),
            worker=ctx.worker,
            stop=ctx.stop,
            clock=ctx.clock,
        )
    return {
        "pages_sent": counts.sent,
        "pages_retried": counts.retried,
        "pages_dead": counts.dead,
        "pages_cancelled": counts.cancelled,
        "pages_lost_lease": counts.lost_lease,
        "page_errors": len(counts.errors),
    }


# The alert rules first: when nothing changed they cost one statement, and a worsening
# trend must not wait behind a morning's reminders to a slow mail or SMS gateway. Paging
# right after them, for the same reason: a page to the on-call nurse goes out before the
# day's reminders.
TICK_STEPS: list[tuple[str, Step]] = [
    ("alerts", alerts_step),
    ("escalate", escalate_step),
    ("page", page_step),
    ("plan", plan_step),
    ("deliver", deliver_step),
]


def require_secret_key(app: Flask) -> None:
    """Reminder links are derived from the secret key: a guessable one would forge them.

    The web app's rule (secret_key.py), whatever ``TRACKER_ENV`` says; only the test
    suite's apps (``TESTING`` set in code, never from the environment) are exempt.
    """
    if app.testing:
        return
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    if problem is not None:
        raise ConfigError(f"{problem} (reminders carry personal links derived from it)")


def run_tick(
    app: Flask,
    now: datetime,
    *,
    worker: str | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] | None = None,
    steps: list[tuple[str, Step]] | None = None,
    member: ShardMember | None = None,
) -> dict[str, Any]:
    """Run every step once (inside an app context) and return the merged counts.

    With ``member``, the tick first writes its heartbeat in the group that shares the
    alerts and plan steps (shards.py), and those steps do only its shares."""
    require_aware(now)
    ctx = TickContext(
        app=app,
        now=now,
        worker=worker or (member.worker if member else None) or worker_name(),
        stop=stop or threading.Event(),
        clock=clock,
        member=member,
    )
    summary: dict[str, Any] = {"now": now.isoformat()}
    with app.app_context():
        if member is not None:
            try:
                with ctx.session() as session:
                    summary["schedulers"] = member.join(session, now)
            except Exception:
                # The shared steps then fail on their own; the others may still run.
                log.exception("tick could not join the schedulers' group")
                summary["join_failed"] = 1
        for name, step in steps if steps is not None else TICK_STEPS:
            if ctx.stop.is_set():
                break
            try:
                summary.update(step(ctx))
            except Exception:
                # One failing step (a database hiccup) must not keep the others from running.
                log.exception("tick step %s failed", name)
                summary[f"{name}_failed"] = 1
    log.info(
        "tick %s: %s",
        now.isoformat(timespec="seconds"),
        " ".join(f"{k}={v}" for k, v in summary.items() if k != "now"),
    )
    return summary
