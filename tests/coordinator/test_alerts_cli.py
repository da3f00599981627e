"""``tracker alerts evaluate`` raises what the rules find, once."""

from __future__ import annotations

from datetime import timedelta

from tracker.cli import main
from tracker.db import utcnow
from tracker.timeutil import local_day


def test_it_evaluates_the_rules_from_the_command_line(runner, session, enroll_patient):
    now = utcnow()
    procedure = local_day(now, "America/New_York") - timedelta(days=5)
    plan = enroll_patient(now=now, procedure_date=procedure.isoformat(), name="Quiet Quinn").plan
    plan.created_at = now - timedelta(days=6)
    session.commit()

    first = runner.invoke(main, ["alerts", "evaluate", "--clinic", "Test Spine Clinic"])
    assert first.exit_code == 0, first.output
    assert "missed_checkin: No check-in for 2 days (none since enrolment)" in first.output
    assert first.output.strip().endswith("1 new alert")
    again = runner.invoke(main, ["alerts", "evaluate"])
    assert again.output.strip() == "0 new alerts"


def test_it_names_an_unknown_clinic(runner):
    result = runner.invoke(main, ["alerts", "evaluate", "--clinic", "Nowhere"])
    assert result.exit_code == 2
    assert "no clinic named 'Nowhere'" in result.output
