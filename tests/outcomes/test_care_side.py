"""The care team's side: scores on the patient page, FHIR export, and the clinic report."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from statistics import mean, median, stdev

from fhir.resources.R4B.bundle import Bundle

from tests.conftest import NOW, statements_of
from tests.coordinator.conftest import open_alert, sign_in_as
from tests.patient.conftest import text_of
from tracker.core.models import QuestionnaireResponse, Reminder

TODAY = date(2026, 11, 21)


def add_response(session, plan, point, score, answers=None):
    row = QuestionnaireResponse(
        plan_id=plan.id,
        questionnaire_id="daily_life",
        questionnaire_version=1,
        time_point_day=point,
        local_day=plan.procedure_date + timedelta(days=point),
        answers=answers or {"bed": 2, "walk": 2, "dress": 2, "chores": 2, "sit": 2, "sleep": 2},
        score=score,
        answered=6,
        recorded_at=NOW - timedelta(days=1),
    )
    session.add(row)
    session.commit()
    return row


def on_day(enroll_patient, n, **fields):
    return enroll_patient(procedure_date=(TODAY - timedelta(days=n)).isoformat(), **fields)


def test_the_patient_page_shows_scores_and_change(coordinator_client, session, enroll_patient):
    enrolment = on_day(enroll_patient, 14)
    add_response(session, enrolment.plan, 0, 75.0)
    add_response(session, enrolment.plan, 14, 50.0)
    page = text_of(coordinator_client.get(f"/coordinator/patients/{enrolment.patient.id}"))
    assert "Your back and daily life" in page
    assert "Latest change since baseline: -25 (lower is better)" in page
    assert "A lot of trouble with daily life" in page


def test_the_fhir_export_carries_a_valid_questionnaire_and_scored_response(
    coordinator_client, session, enroll_patient
):
    enrolment = on_day(enroll_patient, 14)
    add_response(session, enrolment.plan, 14, 50.0)
    response = coordinator_client.get(f"/coordinator/patients/{enrolment.patient.id}/fhir.json")
    data = json.loads(response.get_data(as_text=True))
    Bundle.model_validate(data)
    resources = [e["resource"] for e in data["entry"]]
    questionnaire = next(r for r in resources if r["resourceType"] == "Questionnaire")
    assert questionnaire["url"] == "urn:recovery-tracker:questionnaire:daily_life"
    assert questionnaire["status"] == "draft"  # not yet confirmed by a clinician
    scored = [
        r
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
        and r["questionnaire"].startswith(questionnaire["url"])
    ]
    assert len(scored) == 1
    items = {i["linkId"]: i["answer"][0] for i in scored[0]["item"]}
    assert items["total-score"] == {"valueDecimal": 50.0}
    assert items["bed"]["valueCoding"]["display"] == "Hard"


def test_another_clinics_patient_is_a_404(app, session, make_user, other_clinic, enroll_patient):
    enrolment = on_day(enroll_patient, 14)
    outsider = sign_in_as(app.test_client(), make_user(other_clinic))
    assert outsider.get(f"/coordinator/patients/{enrolment.patient.id}").status_code == 404


# --- the clinic report ---------------------------------------------------------------------


def populate(session, enroll_patient, record, clinic, count, *, offset=0):
    """``count`` patients with procedures 2-60 days ago, pain, answers, alerts, reminders."""
    plans = []
    for i in range(count):
        n = 2 + (i * 7 + offset) % 59
        plan = on_day(enroll_patient, n, name=f"Patient {offset + i}", clinic=clinic).plan
        plans.append(plan)
        for d in range(0, min(n, 6)):
            record.pain(plan, plan.procedure_date + timedelta(days=d), (i + d) % 11)
            if d == 1:
                record.pain(plan, plan.procedure_date + timedelta(days=d), (i + 5) % 11, hour=15)
        add_response(session, plan, 0, float(40 + i % 30))
        if i % 3 == 0:
            alert = open_alert(session, plan, "severe_pain", "high", "Pain")
            alert.acknowledged_at = alert.raised_at + timedelta(minutes=10 * (i + 1))
            if i % 2 == 0:
                alert.status = "resolved"
                alert.resolved_at = alert.raised_at + timedelta(hours=i + 1)
        session.add(
            Reminder(
                plan_id=plan.id,
                kind="daily",
                local_day=TODAY - timedelta(days=1),
                channel="log",
                due_at=NOW - timedelta(days=1),
                status="sent" if i % 4 else "dead",
                next_attempt_at=NOW,
                idempotency_key=f"r-{offset}-{i}",
                created_at=NOW,
            )
        )
        session.commit()
    return plans


def test_the_report_adds_up(
    app, admin_client, session, enroll_patient, record, clinic, other_clinic
):
    plans = populate(session, enroll_patient, record, clinic, 9)
    populate(session, enroll_patient, record, other_clinic, 3, offset=100)  # never counted
    start, end = TODAY - timedelta(days=90), TODAY
    page = admin_client.get(f"/coordinator/report?start={start}&end={end}")
    assert page.status_code == 200
    text = text_of(page)

    # Independently: every pain entry is a daily mean per plan (entries fetched afresh).
    from sqlalchemy import select

    from tracker.core.models import Alert, PainEntry

    session.expire_all()
    by_day: dict[int, list[float]] = {}
    for plan in plans:
        entries = session.scalars(select(PainEntry).where(PainEntry.plan_id == plan.id)).all()
        days: dict[date, list[int]] = {}
        for e in entries:
            days.setdefault(e.local_day, []).append(e.score)
        for d, scores in days.items():
            by_day.setdefault((d - plan.procedure_date).days, []).append(mean(scores))
    completed = sum(
        1 for p in plans if p.procedure_date + timedelta(days=p.duration_days - 1) < TODAY
    )
    rows = list(
        csv.reader(
            io.StringIO(
                admin_client.get(f"/coordinator/report.csv?start={start}&end={end}").get_data(
                    as_text=True
                )
            )
        )
    )
    table = {(r[0], r[1], r[2]): r[3:] for r in rows[1:]}
    assert table[("patients", "enrolled", "")][1] == "9"
    assert table[("patients", "completed", "")][1] == str(completed)
    for d, values in by_day.items():
        n, value, sd = table[("mean_pain_by_day", "pain_0_10", str(d))]
        assert int(n) == len(values)
        assert float(value) == round(mean(values), 2)
        if len(values) > 1:
            assert float(sd) == round(stdev(values), 2)
    scores = [float(40 + i % 30) for i in range(9)]
    n, value, sd = table[("questionnaire_score", "daily_life", "0")]
    assert (int(n), float(value), float(sd)) == (9, round(mean(scores), 2), round(stdev(scores), 2))
    alerts = session.scalars(select(Alert).where(Alert.clinic_id == clinic.id)).all()
    assert table[("alerts_by_kind", "severe_pain", "")][1] == str(len(alerts))
    ack = median([a.acknowledged_at - a.raised_at for a in alerts])
    n, hours, _ = table[("alerts", "median_hours_to_acknowledge", "")]
    assert (int(n), hours) == (len(alerts), f"{ack.total_seconds() / 3600:.2f}")
    resolved = [a.resolved_at - a.raised_at for a in alerts if a.resolved_at]
    assert table[("alerts", "median_hours_to_resolve", "")][1] == (
        f"{median(resolved).total_seconds() / 3600:.2f}"
    )
    assert table[("reminders", "delivered", "")][1] == str(sum(1 for i in range(9) if i % 4))
    assert table[("reminders", "failed", "")][1] == str(sum(1 for i in range(9) if not i % 4))
    due = sum(min(p.duration_days, (TODAY - p.procedure_date).days) for p in plans)
    done = sum(
        len(days)
        for days in [
            {
                e.local_day
                for e in session.scalars(select(PainEntry).where(PainEntry.plan_id == p.id))
            }
            for p in plans
        ]
    )
    assert table[("adherence", "days_with_pain_score_percent", "")][1] == (
        f"{round(100 * done / due, 1):g}"
    )
    assert f"{done} of {due} days" in text
    assert "Enrolled 9" in text


def test_the_report_refuses_a_bad_range(admin_client):
    response = admin_client.get("/coordinator/report?start=2026-13-01&end=2026-11-01")
    assert response.status_code == 400
    assert "Enter a date in YYYY-MM-DD form." in text_of(response)


def test_a_patient_signed_out_cannot_see_the_report(client):
    assert client.get("/coordinator/report").status_code in (302, 401)


def test_a_report_costs_the_same_statements_for_3_or_15_patients(
    app, admin_client, session, enroll_patient, record, clinic
):
    engine = app.extensions["tracker.engine"]
    url = f"/coordinator/report?start={TODAY - timedelta(days=90)}&end={TODAY}"

    def load():
        assert admin_client.get(url).status_code == 200

    populate(session, enroll_patient, record, clinic, 3)
    small = statements_of(engine, load)
    populate(session, enroll_patient, record, clinic, 12, offset=3)
    large = statements_of(engine, load)
    assert len(small) == len(large)
    assert len(large) <= 12  # session user, clinic, 6 report queries, the audit row, commit
