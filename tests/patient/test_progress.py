"""Progress: days since the procedure, limits, next visit, pain chart and check-in days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.conftest import NOW
from tests.patient.conftest import sign_in, text_of
from tracker.core.models import CarePlan, PainEntry, SymptomReport
from tracker.patient.progress import pain_chart, recovery_days


def _pain(session, plan_id, day, *scores):
    for score in scores:
        session.add(PainEntry(plan_id=plan_id, score=score, local_day=day, recorded_at=NOW))


def test_it_shows_days_limits_visit_and_a_chart_with_a_table(enroll_patient, client, session):
    enrolled = enroll_patient(procedure_date="2026-11-16")
    plan_id = enrolled.plan.id
    _pain(session, plan_id, date(2026, 11, 16), 8, 6)
    _pain(session, plan_id, date(2026, 11, 17), 7)
    _pain(session, plan_id, date(2026, 11, 19), 4)
    session.add(
        SymptomReport(
            plan_id=plan_id,
            local_day=date(2026, 11, 16),
            recorded_at=NOW,
            answers={},
            severity="none",
        )
    )
    session.commit()
    sign_in(client, enrolled)
    response = client.get("/me/progress")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "It has been 5 days since your procedure on Monday 16 November" in page
    assert "No heavy lifting — 39 days left" in page  # through the six-week visit
    assert "First follow-up visit: between Thursday 26 November and Monday 30 November" in page
    assert '<svg viewBox="0 0 360 240" role="img"' in html
    assert html.count('class="dot-max"') == 3
    assert "Highest pain was 8 out of 10 on day 0 and 4 out of 10 on day 3" in page
    assert "You checked in on 3 of 6 days so far" in page
    assert "Day 0 16 Nov 8 7.0 (2 scores) Done" in page
    assert "Day 1 17 Nov 7 7.0 Not done" in page
    assert "Day 2 18 Nov Not logged — Not done" in page
    assert "<script" not in html


def test_it_shows_an_empty_record_on_the_first_day(enroll_patient, client):
    sign_in(client, enroll_patient(procedure_date="2026-11-21"))
    page = text_of(client.get("/me/progress"))
    assert "No pain scores logged yet." in page
    assert "Day 0 21 Nov Not logged" in page


def test_recovery_days_summarise_max_mean_and_gaps(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    _pain(session, plan.id, date(2026, 11, 20), 3, 4, 8)
    session.commit()
    records = recovery_days(session, plan, date(2026, 11, 21))
    assert [(r.day_number, r.pain_max, r.pain_mean, r.pain_count) for r in records] == [
        (0, 8, 5.0, 3),
        (1, None, None, 0),
    ]
    assert records[0].warning_check_due and not records[0].warning_check_done


def test_recovery_days_stop_at_the_end_of_the_plan(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    records = recovery_days(session, plan, date(2027, 3, 1))
    assert len(records) == plan.duration_days


def test_the_chart_breaks_its_line_on_days_without_a_score(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    for n, score in [(0, 9), (1, 7), (3, 5)]:
        _pain(session, plan.id, plan.procedure_date + timedelta(days=n), score)
    session.commit()
    records = recovery_days(session, plan, plan.procedure_date + timedelta(days=3))
    chart = pain_chart(records, plan.duration_days)
    assert [len(run) for run in chart.max_lines] == [2, 1]
    top, bottom = chart.plot_top, chart.plot_bottom
    assert chart.max_points[0].y == bottom - (bottom - top) * 0.9
    assert chart.max_points[0].x < chart.max_points[1].x < chart.max_points[2].x
    assert [t.label for t in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]


def test_the_chart_fits_a_full_recovery(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    for n in range(plan.duration_days):
        _pain(session, plan.id, plan.procedure_date + timedelta(days=n), n % 11)
    session.commit()
    records = recovery_days(session, plan, date(2027, 1, 31))
    chart = pain_chart(records, plan.duration_days)
    assert len(chart.max_lines) == 1
    assert all(chart.plot_left <= p.x <= chart.plot_right for p in chart.max_points)
    assert all(chart.plot_top <= p.y <= chart.plot_bottom for p in chart.max_points)
    assert isinstance(datetime.now, object)
