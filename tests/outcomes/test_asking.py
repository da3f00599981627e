"""Asking the questions: the card on Today at each time point, the form, storing answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import count, sign_in, text_of
from tracker.core.models import AuditEvent, QuestionnaireResponse

ANSWERS = {"bed": "2", "walk": "1", "dress": "1", "chores": "2", "sit": "3", "sleep": "1"}
# 10 of 24: 41.7
TODAY = date(2026, 11, 21)


def enrol_on_day(enroll_patient, day_number: int, **fields):
    procedure = TODAY - timedelta(days=day_number)
    return enroll_patient(procedure_date=procedure.isoformat(), **fields)


def test_it_shows_the_card_on_today_at_a_time_point(client, enroll_patient):
    sign_in(client, enrol_on_day(enroll_patient, 14))
    page = text_of(client.get("/me/"))
    assert "A few questions about how you are doing" in page
    assert "Please answer by Friday 27 November" in page


def test_it_shows_no_card_between_time_points(client, enroll_patient):
    sign_in(client, enrol_on_day(enroll_patient, 7))
    assert "A few questions" not in text_of(client.get("/me/"))
    assert client.get("/me/questions/daily_life").status_code == 404


def test_it_stores_scored_answers(client, session, enroll_patient):
    enrolment = enrol_on_day(enroll_patient, 14)
    sign_in(client, enrolment)
    response = client.post("/me/questions/daily_life", data={"point": "14", **ANSWERS})
    assert response.status_code == 302
    row = session.scalars(select(QuestionnaireResponse)).one()
    assert (row.time_point_day, row.score, row.answered) == (14, 41.7, 6)
    assert row.answers["sit"] == 3
    today = text_of(client.get("/me/"))
    assert "Thank you, you answered these" in today


def at_local(day: date, hour: int, minute: int, zone: str = "America/New_York") -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(
        UTC
    )


HONOLULU = "Pacific/Honolulu"


@pytest.mark.parametrize(
    ("day", "hour", "minute", "status"),
    [
        (date(2026, 11, 27), 23, 59, 200),  # day 20, the window's last day (already 28th UTC)
        (date(2026, 11, 28), 0, 0, 404),  # day 21
        (date(2026, 11, 20), 23, 59, 404),  # day 13
        (date(2026, 11, 21), 0, 0, 200),  # day 14, the time point
    ],
)
def test_the_window_follows_the_patients_local_days(
    app, client, enroll_patient, day, hour, minute, status
):
    enrolment = enroll_patient(procedure_date="2026-11-07", timezone=HONOLULU)
    app.config["FIXED_NOW"] = at_local(day, hour, minute, HONOLULU)
    sign_in(client, enrolment)
    assert client.get("/me/questions/daily_life").status_code == status
    assert ("A few questions" in text_of(client.get("/me/"))) == (status == 200)


def test_answering_again_replaces_and_keeps_the_old_answers_in_the_audit(
    client, session, enroll_patient
):
    sign_in(client, enrol_on_day(enroll_patient, 14))
    client.post("/me/questions/daily_life", data={"point": "14", **ANSWERS})
    page = text_of(client.get("/me/questions/daily_life"))
    assert "Your new answers will replace the ones you sent" in page
    response = client.post(
        "/me/questions/daily_life", data={"point": "14", **ANSWERS, "sit": "0", "sleep": ""}
    )
    assert response.status_code == 302
    session.expire_all()
    row = session.scalars(select(QuestionnaireResponse)).one()
    assert (row.score, row.answered, "sleep" in row.answers) == (30.0, 5, False)  # 6/20
    assert row.replaced_at == NOW
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.questionnaire_replaced")
    ).one()
    assert event.detail["previous"]["score"] == 41.7
    assert event.detail["previous"]["answers"]["sit"] == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bed": "9"}, "was not one of the choices"),
        ({"bed": "-1"}, "was not one of the choices"),
        ({"bed": "two"}, "was not one of the choices"),
        ({"bed": "", "walk": ""}, "Please answer at least 5 of the 6 questions"),
    ],
)
def test_bad_answers_store_nothing(client, session, enroll_patient, data, message):
    sign_in(client, enrol_on_day(enroll_patient, 14))
    response = client.post("/me/questions/daily_life", data={"point": "14", **ANSWERS, **data})
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(session, QuestionnaireResponse) == 0


def test_a_page_from_a_closed_time_point_stores_nothing(client, session, enroll_patient):
    sign_in(client, enrol_on_day(enroll_patient, 14))
    response = client.post("/me/questions/daily_life", data={"point": "0", **ANSWERS})
    assert response.status_code == 302
    assert count(session, QuestionnaireResponse) == 0


def test_unknown_questionnaire_and_signed_out_are_refused(client, enroll_patient):
    assert client.get("/me/questions/daily_life").status_code in (302, 401, 403, 404)
    sign_in(client, enrol_on_day(enroll_patient, 14))
    assert client.get("/me/questions/nope").status_code == 404


def test_a_patient_only_ever_answers_for_their_own_plan(app, session, enroll_patient):
    mine = enrol_on_day(enroll_patient, 14, name="Mine")
    theirs = enrol_on_day(enroll_patient, 14, name="Theirs")
    client = sign_in(app.test_client(), mine)
    client.post("/me/questions/daily_life", data={"point": "14", **ANSWERS})
    row = session.scalars(select(QuestionnaireResponse)).one()
    assert row.plan_id == mine.plan.id != theirs.plan.id
    other = sign_in(app.test_client(), theirs)
    assert "Thank you, you answered these" not in text_of(other.get("/me/"))


def test_a_paused_plan_asks_nothing(client, session, enroll_patient):
    enrolment = enrol_on_day(enroll_patient, 14)
    enrolment.plan.status = "paused"
    session.commit()
    sign_in(client, enrolment)
    assert "A few questions" not in text_of(client.get("/me/"))
    assert client.get("/me/questions/daily_life").status_code == 404


def test_progress_shows_the_score_and_change_in_plain_words(client, session, enroll_patient):
    enrolment = enrol_on_day(enroll_patient, 14)
    session.add(
        QuestionnaireResponse(
            plan_id=enrolment.plan.id,
            questionnaire_id="daily_life",
            questionnaire_version=1,
            time_point_day=0,
            local_day=TODAY - timedelta(days=14),
            answers={"bed": 4, "walk": 4, "dress": 3, "chores": 3, "sit": 3, "sleep": 3},
            score=83.3,
            answered=6,
            recorded_at=NOW - timedelta(days=14),
        )
    )
    session.commit()
    sign_in(client, enrolment)
    client.post("/me/questions/daily_life", data={"point": "14", **ANSWERS})
    page = text_of(client.get("/me/progress"))
    assert "Your score at 2 weeks: 41.7 out of 100" in page
    assert "That is 41.6 points better than your first answers" in page
    assert "expected" not in page.lower()  # the expected course is for the care team only


def test_two_rows_for_one_time_point_are_refused_by_the_database(session, enroll_patient):
    """The net under two tabs sending at once: without the unique constraint this passes."""
    from sqlalchemy.exc import IntegrityError

    plan = enrol_on_day(enroll_patient, 14).plan
    for _ in range(2):
        session.add(
            QuestionnaireResponse(
                plan_id=plan.id,
                questionnaire_id="daily_life",
                questionnaire_version=1,
                time_point_day=14,
                local_day=TODAY,
                answers={},
                score=None,
                answered=0,
                recorded_at=NOW,
            )
        )
    with pytest.raises(IntegrityError):
        session.commit()


def test_the_demo_fills_the_time_points_already_started(session, enroll_patient):
    from tracker.outcomes.questionnaires import current_questionnaires
    from tracker.outcomes.responses import fill_past_time_points

    plan = enrol_on_day(enroll_patient, 20).plan
    stored = fill_past_time_points(
        session,
        plan,
        current_questionnaires(),
        today=TODAY,
        now=NOW,
        answer_for=lambda q, p: {i.key: 3 if p.day == 0 else 1 for i in q.items},
    )
    session.commit()
    rows = session.scalars(select(QuestionnaireResponse)).all()
    assert stored == 2
    assert sorted((r.time_point_day, r.score) for r in rows) == [(0, 75.0), (14, 25.0)]
