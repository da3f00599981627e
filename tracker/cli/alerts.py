"""``tracker alerts evaluate``: run the alert rules now, e.g. from cron before the scheduler
runs them on its tick, or after changing a clinic's thresholds."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.alerts.rules import evaluate_active_plans
from tracker.cli.errors import CLIError
from tracker.core.db import get_session, utcnow
from tracker.core.models import Clinic
from tracker.core.timeutil import parse_instant


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules."""


@alerts_group.command("evaluate")
@click.option("--clinic", "clinic_name", help="Only this clinic (default: every clinic).")
@click.option(
    "--now",
    "now_text",
    metavar="ISO8601",
    help="The instant to evaluate at, with offset (default: the current time).",
)
@with_appcontext
def evaluate_command(clinic_name: str | None, now_text: str | None) -> None:
    """Evaluate the alert rules of every active or paused plan and print the alerts raised
    (open alerts are brought up to date with newer evidence)."""

    try:
        now = utcnow() if now_text is None else parse_instant(now_text)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    session = get_session()
    clinic_id = None
    if clinic_name is not None:
        clinic_id = session.scalar(select(Clinic.id).where(Clinic.name == clinic_name))
        if clinic_id is None:
            raise CLIError(f"no clinic named {clinic_name!r}")
    raised = evaluate_active_plans(session, now, clinic_id=clinic_id, statuses=("active", "paused"))
    session.commit()
    for alert in raised:
        click.echo(f"alert {alert.id} patient {alert.patient_id} {alert.rule}: {alert.summary}")
    click.echo(f"{len(raised)} new alert{'' if len(raised) == 1 else 's'}")
