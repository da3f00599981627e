"""``tracker alerts evaluate``: run the alert rules now, e.g. from cron before the scheduler
runs them on its tick, or after changing a clinic's thresholds."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.alerts import evaluate_active_plans
from tracker.db import get_session, utcnow
from tracker.models import Clinic


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules."""


@alerts_group.command("evaluate")
@click.option("--clinic", "clinic_name", help="Only this clinic (default: every clinic).")
@with_appcontext
def evaluate_command(clinic_name: str | None) -> None:
    """Evaluate every active plan's alert rules and print the alerts raised."""
    session = get_session()
    clinic_id = None
    if clinic_name is not None:
        clinic_id = session.scalar(select(Clinic.id).where(Clinic.name == clinic_name))
        if clinic_id is None:
            from tracker.cli import CLIError  # here: cli.py imports this module

            raise CLIError(f"no clinic named {clinic_name!r}")
    raised = evaluate_active_plans(session, utcnow(), clinic_id=clinic_id)
    session.commit()
    for alert in raised:
        click.echo(f"alert {alert.id} patient {alert.patient_id} {alert.rule}: {alert.summary}")
    click.echo(f"{len(raised)} new alert{'' if len(raised) == 1 else 's'}")
