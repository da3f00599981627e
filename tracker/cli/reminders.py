"""CLI for reminders: ``tracker reminders tick --now ...`` and ``tracker scheduler``."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.core.config import ConfigError
from tracker.core.db import utcnow
from tracker.core.timeutil import parse_instant
from tracker.scheduler.process import SchedulerProcess, configure_logging
from tracker.scheduler.tick import require_secret_key, run_tick


class _CLIError(click.ClickException):
    exit_code = 2


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utcnow()
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise _CLIError(str(exc)) from None


@click.group("reminders")
def reminders_group() -> None:
    """Reminders: plan and deliver the outbox."""


@reminders_group.command("tick")
@click.option(
    "--now",
    "now_text",
    metavar="ISO8601",
    help="The instant to tick at, with offset (default: the current time).",
)
@with_appcontext
def tick_command(now_text: str | None) -> None:
    """Run one tick: the alert rules of plans that are due, then plan today's reminders and
    deliver what is due."""
    now = _parse_now(now_text)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        require_secret_key(app)
    except ConfigError as exc:
        raise _CLIError(str(exc)) from None
    configure_logging()
    summary = run_tick(app, now)
    click.echo(
        " ".join(
            f"{key}={summary.get(key, 0)}"
            for key in ("planned", "sent", "retried", "dead", "expired")
        )
    )


@click.command("scheduler")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    help="Seconds between ticks (default TRACKER_SCHEDULER_INTERVAL_SECONDS, 60).",
)
@with_appcontext
def scheduler_command(interval: float | None) -> None:
    """Run the reminder scheduler until SIGTERM or Ctrl-C (never inside a web worker)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        process = SchedulerProcess(app, interval_seconds=interval)
    except ConfigError as exc:
        raise _CLIError(str(exc)) from None
    configure_logging()
    process.run()
