"""When the alert rules run: severe pain in the request that records the score, everything
else at the scheduler's next tick for the plans that are due (new evidence, or a new local
day), and never again for a plan nothing happened to."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tracker.alerts import rules as alerts
from tracker.alerts.rules import SEVERE_PAIN, WORSENING, evaluate_due_plans, mark_due
from tracker.core.models import Alert, CarePlan, PainEntry
from tracker.core.timeutil import start_of_local_day_utc
from tracker.scheduler.tick import run_tick

TODAY = date(2026, 11, 21)  # NOW's local day in New York


def tick(app, at):
    return run_tick(app, at, worker="test-worker")


def open_rules(session, plan):
    session.expire_all()
    return sorted(
        a.rule
        for a in session.scalars(
            select(Alert).where(Alert.plan_id == plan.id, Alert.status != "resolved")
        )
    )


def due_at(session, plan):
    session.expire_all()
    return session.scalar(select(CarePlan.alerts_due_at).where(CarePlan.id == plan.id))


def post_pain(client, enrollment, score):
    assert client.get(f"/p/{enrollment.link_token}").status_code == 302
    return client.post("/me/pain", data={"score": str(score), "context": "rest"})


def test_worsening_pain_reaches_triage_at_the_next_tick(app, client, session, enrolled, record):
    enrollment = enrolled(days_ago=6)
    plan = enrollment.plan
    for n, score in enumerate([3, 3, 3, 3, 3, 4]):  # day 0 to yesterday: steady
        record.pain(plan, TODAY - timedelta(days=6 - n), score)
    first = tick(app, NOW - timedelta(minutes=10))
    assert first["alerts_evaluated"] == 1 and open_rules(session, plan) == []
    # Nothing new: the next ticks leave the plan alone until its next local day.
    assert tick(app, NOW - timedelta(minutes=5))["alerts_evaluated"] == 0

    response = post_pain(client, enrollment, 6)  # 3-day mean 3 -> 4.33: worsening by percent
    assert response.status_code == 302
    assert open_rules(session, plan) == []  # the request decides severe pain only
    assert due_at(session, plan) == NOW

    after = tick(app, NOW + timedelta(minutes=1))
    assert after["alerts_evaluated"] == 1
    assert open_rules(session, plan) == [WORSENING]
    assert tick(app, NOW + timedelta(minutes=2))["alerts_evaluated"] == 0


def test_an_unchanged_plan_is_evaluated_once_a_local_day(app, session, enrolled, record):
    plan = enrolled(days_ago=6).plan
    record.pain(plan, TODAY - timedelta(days=1), 3)  # yesterday: no missed check-in today
    assert tick(app, NOW)["alerts_evaluated"] == 1
    # Its next local day (New York), a few minutes in: spread by plan id.
    tomorrow = start_of_local_day_utc(TODAY + timedelta(days=1), "America/New_York")
    assert due_at(session, plan) == tomorrow + timedelta(minutes=plan.id % 60)
    for hours in (1, 6, 12):
        assert tick(app, NOW + timedelta(hours=hours))["alerts_evaluated"] == 0
    next_day = tick(app, NOW + timedelta(days=1))  # missed: today only
    assert next_day["alerts_evaluated"] == 1 and open_rules(session, plan) == []
    day_after = tick(app, NOW + timedelta(days=2))  # two whole local days without a check-in
    assert day_after["alerts_evaluated"] == 1
    assert open_rules(session, plan) == [alerts.MISSED_CHECKIN]


def test_evidence_recorded_during_an_evaluation_is_evaluated_at_the_next_tick(
    session, enrolled, monkeypatch
):
    plan = enrolled(days_ago=6).plan
    during = NOW + timedelta(seconds=20)
    evaluate = alerts.evaluate_active_plans

    def evaluate_while_a_score_arrives(session, now, **kwargs):
        raised = evaluate(session, now, **kwargs)
        mark_due(session, plan.id, during)  # as a pain score committed meanwhile would
        return raised

    monkeypatch.setattr(alerts, "evaluate_active_plans", evaluate_while_a_score_arrives)
    _, ids = evaluate_due_plans(session, NOW)
    session.commit()
    assert ids == [plan.id]
    assert due_at(session, plan) == during  # still due: not overwritten by the next day


def test_severe_pain_is_raised_at_once_once_and_again_after_resolution(client, session, enrolled):
    enrollment = enrolled(days_ago=3)
    assert post_pain(client, enrollment, 8).status_code == 302
    assert open_rules(session, enrollment.plan) == [SEVERE_PAIN]
    alert = session.scalar(select(Alert))
    assert alert.summary == "Pain 8/10 on day 3 (at rest)"
    assert alert.urgency == "high" and alert.detail["threshold"] == 7

    assert post_pain(client, enrollment, 9).status_code == 302  # still open: no second one
    assert len(session.scalars(select(Alert)).all()) == 1

    alert.status, alert.resolved_at = "resolved", NOW - timedelta(minutes=1)
    session.commit()
    assert post_pain(client, enrollment, 7).status_code == 302  # newer than the resolution
    session.expire_all()
    newest = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.rule, a.status) for a in newest] == [
        (SEVERE_PAIN, "resolved"),
        (SEVERE_PAIN, "open"),
    ]
    assert newest[-1].summary.startswith("Pain 7/10")


def test_the_clinic_threshold_decides_at_once(client, session, clinic, enrolled):
    clinic.severe_pain_threshold = 9
    session.commit()
    enrollment = enrolled(days_ago=3)
    assert post_pain(client, enrollment, 8).status_code == 302
    assert open_rules(session, enrollment.plan) == []
    assert post_pain(client, enrollment, 9).status_code == 302
    assert open_rules(session, enrollment.plan) == [SEVERE_PAIN]


def test_a_paused_plan_still_raises_severe_pain_at_once(client, session, enrolled):
    enrollment = enrolled(days_ago=3)
    enrollment.plan.status = "paused"
    session.commit()
    assert post_pain(client, enrollment, 10).status_code == 302
    assert open_rules(session, enrollment.plan) == [SEVERE_PAIN]


def test_a_correction_to_a_severe_score_raises_at_once(client, session, enrolled):
    enrollment = enrolled(days_ago=3)
    assert post_pain(client, enrollment, 4).status_code == 302
    entry_id = session.scalar(select(PainEntry.id))
    response = client.post(f"/me/pain/{entry_id}/fix", data={"score": "8"})
    assert response.status_code == 302
    assert open_rules(session, enrollment.plan) == [SEVERE_PAIN]
    assert due_at(session, enrollment.plan) == NOW


def test_new_clinic_thresholds_make_the_clinics_active_plans_due(
    app, admin_client, session, enrolled
):
    from tests.coordinator.test_admin import GOOD_CLINIC

    plan = enrolled(days_ago=6).plan
    assert tick(app, NOW - timedelta(minutes=5))["alerts_evaluated"] == 1
    assert due_at(session, plan) > NOW
    response = admin_client.post("/coordinator/admin/clinic", data=GOOD_CLINIC)
    assert response.status_code == 302
    assert due_at(session, plan) == NOW
    assert tick(app, NOW + timedelta(minutes=1))["alerts_evaluated"] == 1


def test_warning_signs_answers_make_the_plan_due(client, session, enrolled):
    enrollment = enrolled(days_ago=3)
    assert client.get(f"/p/{enrollment.link_token}").status_code == 302
    page = client.get("/me/warning-signs").get_data(as_text=True)
    names = sorted(set(re.findall(r'name="(q_[a-z0-9_]+)"', page)))
    assert names
    response = client.post("/me/warning-signs", data=dict.fromkeys(names, "no"))
    assert response.status_code == 302
    assert due_at(session, enrollment.plan) == NOW


def test_the_tick_finds_due_plans_by_index_not_by_reading_every_plan(session, enrolled):
    # A tick with few plans due must read few index entries however many plans exist: the
    # lookups may not walk the plans in id order (as an ORDER BY id made both databases do).
    from sqlalchemy import event, text

    enrolled(days_ago=3)
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert alerts.due_plan_ids(session, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(statements) == 2
    connection = session.connection()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        # The tables are tiny here: forbid the sequential scan to see which index is used.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
    for statement, parameters in statements:
        # With an ORDER BY, a planner that knows the table is large (statistics) walks the
        # primary key instead; these tiny tables cannot show that, so it is asserted apart.
        assert "ORDER BY" not in statement.upper()
        explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
        plan = " ".join(str(row[-1] if not postgres else row[0]) for row in rows)
        assert "ix_care_plan_alerts_due" in plan, plan
    session.rollback()
