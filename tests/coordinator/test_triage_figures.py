"""The triage row's figures, summed up in SQL, against their definitions: corrections,
days without scores, scores before the procedure, a DST night, ties."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tracker.alerts.corrections import current_pain
from tracker.core.models import CarePlan, CheckOff, PainEntry, SymptomReport
from tracker.core.timeutil import local_day
from tracker.plans.agenda import agenda_for_day, plan_last_day

TODAY = date(2026, 11, 21)


def row_of(client, name: str) -> str:
    page = client.get("/coordinator/").get_data(as_text=True)
    start = page.index(name)
    end = page.find("</tr>", start)
    return page[start:end]


def sparkline_label(row: str) -> str:
    return re.search(r'aria-label="([^"]*)"', row).group(1)


def reference_adherence(session, plan: CarePlan) -> tuple[int, int]:
    """(done, due) the slow way: every day's whole agenda, every current score."""
    pain_days = set(
        session.scalars(
            select(PainEntry.local_day).where(PainEntry.plan_id == plan.id, current_pain())
        )
    )
    report_days = set(
        session.scalars(select(SymptomReport.local_day).where(SymptomReport.plan_id == plan.id))
    )
    checkoffs = {
        (key, day)
        for key, day in session.execute(
            select(CheckOff.activity_key, CheckOff.local_day).where(CheckOff.plan_id == plan.id)
        )
    }
    first = max(plan.procedure_date, local_day(plan.created_at, plan.timezone))
    last = min(TODAY - timedelta(days=1), plan_last_day(plan))
    due = done = 0
    day = first
    while day <= last:
        for item in agenda_for_day(plan, day).adherence_items:
            due += 1
            if item.kind == "check_in" and item.check_in == "pain":
                done += day in pain_days
            elif item.kind == "check_in" and item.check_in == "warning_signs":
                done += day in report_days or (item.key, day) in checkoffs
            else:
                done += (item.key, day) in checkoffs
        day += timedelta(days=1)
    return done, due


def test_corrected_scores_count_as_their_corrections(session, coordinator_client, enrolled, record):
    plan = enrolled(days_ago=3, name="Cora Corrected").plan
    first = record.pain(plan, TODAY - timedelta(days=2), 9, hour=8)
    record.pain(plan, TODAY - timedelta(days=2), 4, hour=9, supersedes=first)
    record.pain(plan, TODAY - timedelta(days=1), 6, hour=8)
    latest = record.pain(plan, TODAY, 8, hour=8)
    record.pain(plan, TODAY, 3, hour=9, supersedes=latest)

    row = row_of(coordinator_client, "Cora Corrected")
    # The 9 and the 8 were corrected: neither the day's highest nor the latest.
    assert '<strong class="pain">3</strong>/10' in row
    assert sparkline_label(row) == "Highest daily pain, last 14 days: day 1: 4, day 2: 6, day 3: 3"
    done, due = reference_adherence(session, plan)
    assert f"{done} of {due}" in row


def test_days_without_scores_are_gaps_and_count_as_not_done(
    session, coordinator_client, enrolled, record
):
    plan = enrolled(days_ago=20, name="Gabe Gaps").plan
    record.pain(plan, TODAY - timedelta(days=19), 7)  # outside the 14 days shown
    record.pain(plan, TODAY - timedelta(days=10), 5)
    record.pain(plan, TODAY - timedelta(days=10), 6, hour=18)
    record.pain(plan, TODAY - timedelta(days=4), 2)
    record.checkoff(plan, "walk", TODAY - timedelta(days=4))
    record.report(plan, TODAY - timedelta(days=3))

    row = row_of(coordinator_client, "Gabe Gaps")
    assert sparkline_label(row) == "Highest daily pain, last 14 days: day 10: 6, day 16: 2"
    assert row.count('<circle class="spark-dot') == 2
    assert '<strong class="pain">2</strong>/10' in row
    done, due = reference_adherence(session, plan)
    assert 0 < done < due
    assert f"{done} of {due}" in row and f"{round(done * 100 / due)}%" in row


def test_scores_before_the_procedure_show_in_the_sparkline_not_in_adherence(
    session, coordinator_client, enrolled, record
):
    plan = enrolled(days_ago=2, name="Pre Procedure").plan
    record.pain(plan, TODAY - timedelta(days=5), 6)
    record.pain(plan, TODAY - timedelta(days=20), 8)  # more than 14 days ago: not shown
    record.pain(plan, TODAY - timedelta(days=1), 5)

    row = row_of(coordinator_client, "Pre Procedure")
    assert sparkline_label(row) == "Highest daily pain, last 14 days: day -3: 6, day 1: 5"
    done, due = reference_adherence(session, plan)
    assert f"{done} of {due}" in row


def test_latest_score_follows_the_clock_across_a_dst_night(session, coordinator_client, enrolled):
    # New York leaves DST at 02:00 on Sunday 2026-11-01: 01:30 happens twice.
    plan = enrolled(days_ago=22, name="Dee Est", timezone="America/New_York").plan
    assert plan.timezone == "America/New_York"
    night = date(2026, 11, 1)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the later one
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    # Stored out of order: the latest is the later instant, not the higher id.
    for score, at in ((4, second), (9, first)):
        session.add(PainEntry(plan_id=plan.id, score=score, local_day=night, recorded_at=at))
    session.add(
        PainEntry(
            plan_id=plan.id,
            score=5,
            local_day=date(2026, 10, 31),
            recorded_at=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),  # 23:00 EDT on the 31st
        )
    )
    session.commit()

    row = row_of(coordinator_client, "Dee Est")
    assert '<strong class="pain">4</strong>/10' in row
    assert '<span class="meta">Nov 1</span>' in row  # the patient's day of that score
    assert sparkline_label(row) == "No pain scores in the last 14 days"
    done, due = reference_adherence(session, plan)
    assert f"{done} of {due}" in row


def test_scores_recorded_at_the_same_instant_latest_is_the_last_stored(
    session, coordinator_client, enrolled, record
):
    plan = enrolled(days_ago=1, name="Tia Tie").plan
    at = record.at(plan, TODAY, 8)
    for score in (6, 2):
        session.add(PainEntry(plan_id=plan.id, score=score, local_day=TODAY, recorded_at=at))
        session.commit()

    row = row_of(coordinator_client, "Tia Tie")
    assert '<strong class="pain">2</strong>/10' in row
    assert sparkline_label(row) == "Highest daily pain, last 14 days: day 1: 6"


def test_a_plan_without_scores_shows_none(coordinator_client, enrolled):
    enrolled(days_ago=4, name="Nora None")
    row = row_of(coordinator_client, "Nora None")
    assert '<span class="none">No scores</span>' in row
    assert sparkline_label(row) == "No pain scores in the last 14 days"
    assert "0 of " in row
