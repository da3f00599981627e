"""``tracker alerts evaluate`` raises what the rules find, once."""

from __future__ import annotations

from datetime import timedelta

from tracker.cli.commands import main
from tracker.core.db import utcnow
from tracker.core.timeutil import local_day


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


def test_it_evaluates_at_the_instant_given_with_now(runner, session, enrolled):
    plan = enrolled(days_ago=5, name="Quiet Quentin").plan
    # Enrolled on the procedure day (16 Nov), nothing recorded: on 17 Nov nothing is missed
    # yet; at 18 Nov 05:00 UTC (00:00 in New York) two whole days have passed.
    early = runner.invoke(main, ["alerts", "evaluate", "--now", "2026-11-18T04:59:59Z"])
    assert early.exit_code == 0, early.output
    assert early.output.strip() == "0 new alerts"
    due = runner.invoke(main, ["alerts", "evaluate", "--now", "2026-11-18T05:00:00+00:00"])
    assert f"patient {plan.patient_id} missed_checkin" in due.output
    assert due.output.strip().endswith("1 new alert")


def test_it_refuses_a_now_without_an_offset(runner):
    result = runner.invoke(main, ["alerts", "evaluate", "--now", "2026-11-18T05:00:00"])
    assert result.exit_code == 2
    assert "needs a UTC offset" in result.output
