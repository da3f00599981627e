"""Progress: days since the procedure, limits, next visit, pain chart and check-in days."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import NOW
from tests.patient.conftest import sign_in, text_of
from tracker.core.models import CarePlan, PainEntry, SymptomReport
from tracker.patient.progress import pain_chart, recovery_days
from tracker.web.charts import SIZES


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
    # One line, the day's highest score, drawn at each size; days 0-1 a line, day 3 a point.
    assert html.count('<svg class="pain-chart"') == len(SIZES)
    assert html.count('class="line line-primary"') == len(SIZES)
    assert "line-secondary" not in html and "threshold" not in html
    assert html.count('class="point point-primary"') == 3 * len(SIZES)
    assert "<title>Day 0: 8</title>" in html and "<title>Day 3: 4</title>" in html
    assert "Your pain went down from 8 on day 0 to 4 on day 3." in page
    assert "Your highest pain score each day Today (day 5)" in page  # the legend
    assert "Days since your procedure" in html and "Pain score (0-10)" in html
    assert "You checked in on 3 of 6 days so far" in page
    assert "Day 0 16 Nov 8 7.0 (2 scores) Done" in page
    assert "Day 1 17 Nov 7 7.0 Not done" in page
    assert "Day 2 18 Nov Not logged — Not done" in page
    assert "<script" not in html


def test_it_shows_an_empty_record_on_the_first_day(enroll_patient, client):
    sign_in(client, enroll_patient(procedure_date="2026-11-21"))
    page = text_of(client.get("/me/progress"))
    assert "You have not logged a pain score yet." in page
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
    chart = pain_chart(records, plan.duration_days, 3)
    for drawing in chart.drawings:
        (line,) = drawing.lines
        assert len(line.runs) == 1 and line.runs[0].count(",") == 2  # days 0-1; day 3 alone
        top, bottom = drawing.plot_top, drawing.plot_bottom
        assert line.points[0].y == round(bottom - (bottom - top) * 0.9, 1)
        assert line.points[0].x < line.points[1].x < line.points[2].x
        assert [t.label for t in drawing.y_ticks] == ["0", "2", "4", "6", "8", "10"]
        # The first week is shown whole, with today on it.
        assert drawing.today.day == 3
        column = (drawing.plot_right - drawing.plot_left) / 7
        assert drawing.today.x == round(drawing.plot_left + 3.5 * column, 1)


def test_the_chart_fits_a_full_recovery(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    for n in range(plan.duration_days):
        _pain(session, plan.id, plan.procedure_date + timedelta(days=n), n % 11)
    session.commit()
    records = recovery_days(session, plan, date(2027, 1, 31))
    chart = pain_chart(records, plan.duration_days, 71)  # the plan ended weeks ago
    for drawing in chart.drawings:
        (line,) = drawing.lines
        assert len(line.runs) == 1 and len(line.points) == plan.duration_days
        assert all(drawing.plot_left <= p.x <= drawing.plot_right for p in line.points)
        assert all(drawing.plot_top <= p.y <= drawing.plot_bottom for p in line.points)
        assert drawing.today is None
    assert chart.description == "You have not logged a pain score in the last week."


def test_the_chart_plots_a_corrected_score_with_its_corrected_value(enrolled, session):
    plan = session.get(CarePlan, enrolled.plan.id)
    wrong = PainEntry(plan_id=plan.id, score=9, local_day=plan.procedure_date, recorded_at=NOW)
    session.add(wrong)
    session.flush()
    session.add(
        PainEntry(
            plan_id=plan.id,
            score=3,
            local_day=plan.procedure_date,
            recorded_at=NOW,
            supersedes_id=wrong.id,
        )
    )
    session.commit()
    records = recovery_days(session, plan, plan.procedure_date)
    (point,) = pain_chart(records, plan.duration_days, 0).drawings[0].lines[0].points
    assert (point.day, point.value) == (0, 3)
