"""Pain entries and symptom reports are never edited in place; corrections supersede.

The statement recorder at the bottom watches every SQL statement the application sends
during whole patient flows: nothing ever UPDATEs or DELETEs a pain entry, a symptom report
or an audit event.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

from tests.conftest import NOW
from tests.patient.conftest import count, csrf_token, post_form, sign_in, text_of
from tracker.alerts import rules as alerts
from tracker.core.models import Alert, AuditEvent, PainEntry, SymptomReport
from tracker.patient.progress import pain_logged_on, recovery_days
from tracker.plans.warning_signs import load_signs, signs_path
from tracker.reminders.messages import missed_yesterday

TODAY = date(2026, 11, 21)


def _log_pain(client, score, **extra):
    return post_form(client, "/me/pain", data={"score": str(score), **extra})


def _only_entry(session) -> PainEntry:
    session.expire_all()
    return session.scalars(select(PainEntry)).one()


def test_it_corrects_todays_score_with_a_new_entry_and_keeps_both(
    patient_client, session, enrolled
):
    _log_pain(patient_client, 8, context="rest", note="typo")
    original = _only_entry(session)
    form = patient_client.get(f"/me/pain/{original.id}/fix")
    assert form.status_code == 200
    page = text_of(form)
    assert "Fix a pain score" in page
    assert "You logged 8 out of 10 at 10:00 am" in page
    assert 'id="score-8" value="8" checked' in form.get_data(as_text=True)

    response = post_form(
        patient_client,
        f"/me/pain/{original.id}/fix",
        data={"score": "3", "context": "rest", "note": "meant three"},
    )
    assert response.status_code == 302
    assert response.location.endswith("/me/pain")
    session.expire_all()
    rows = session.scalars(select(PainEntry).order_by(PainEntry.id)).all()
    assert [(r.score, r.note, r.supersedes_id) for r in rows] == [
        (8, "typo", None),
        (3, "meant three", original.id),
    ]
    assert rows[1].local_day == TODAY

    pain_page = text_of(patient_client.get("/me/pain"))
    assert "Corrected. Your pain score is now 3 (it was 8; both are kept in your record)." in (
        pain_page
    )
    assert "3 out of 10, at rest — “meant three” (corrected)" in pain_page
    assert "8 out of 10" not in pain_page
    # Every daily summary counts the correction only.
    today_record = recovery_days(session, enrolled.plan, TODAY)[-1]
    assert (today_record.pain_max, today_record.pain_count) == (3, 1)
    event_row = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.pain_corrected")
    ).one()
    assert event_row.detail == {"pain_entry_id": rows[1].id, "supersedes_id": original.id}


def test_progress_shows_the_corrected_score_not_the_first(patient_client, session):
    _log_pain(patient_client, 9)
    original = _only_entry(session)
    post_form(patient_client, f"/me/pain/{original.id}/fix", data={"score": "2"})
    page = text_of(patient_client.get("/me/progress"))
    assert "You logged one pain score in the last week: 2 on day 1." in page
    assert re.search(r"Day 1 \d+ \w+ 2 2\.0 ", page)  # the table: highest and average
    assert "9 on day" not in page and " 9 9.0 " not in page


def test_an_entry_is_corrected_only_once(patient_client, session):
    _log_pain(patient_client, 8)
    original = _only_entry(session)
    fixed = post_form(patient_client, f"/me/pain/{original.id}/fix", data={"score": "3"})
    assert fixed.status_code == 302
    # A second tab still showing the first form: refused, nothing stored.
    again = patient_client.post(
        f"/me/pain/{original.id}/fix",
        data={"score": "4", "csrf_token": _csrf(patient_client)},
    )
    assert again.status_code == 409
    assert "This pain score has already been corrected." in text_of(again)
    assert count(session, PainEntry) == 2
    reopened = patient_client.get(f"/me/pain/{original.id}/fix")
    assert reopened.status_code == 409


def _csrf(client):
    return csrf_token(client.get("/me/pain").get_data(as_text=True))


def test_the_database_refuses_two_corrections_of_one_entry(session, enrolled):
    """Two simultaneous corrections (the check above raced) still leave one successor."""
    first = PainEntry(plan_id=enrolled.plan.id, score=5, local_day=TODAY, recorded_at=NOW)
    session.add(first)
    session.flush()
    for score in (1, 2):
        session.add(
            PainEntry(
                plan_id=enrolled.plan.id,
                score=score,
                local_day=TODAY,
                recorded_at=NOW,
                supersedes_id=first.id,
            )
        )
    with pytest.raises(Exception, match=r"(?i)unique"):
        session.flush()
    session.rollback()


def test_only_todays_entries_can_be_corrected(patient_client, session, enrolled):
    old = PainEntry(
        plan_id=enrolled.plan.id, score=6, local_day=TODAY - timedelta(days=1), recorded_at=NOW
    )
    session.add(old)
    session.commit()
    opened = patient_client.get(f"/me/pain/{old.id}/fix")
    assert opened.status_code == 409
    assert "Only today's pain scores can be corrected." in text_of(opened)
    sent = patient_client.post(
        f"/me/pain/{old.id}/fix", data={"score": "1", "csrf_token": _csrf(patient_client)}
    )
    assert sent.status_code == 409
    assert count(session, PainEntry) == 1


def test_another_patients_entry_is_not_found(patient_client, session, enroll_patient):
    other = enroll_patient(name="Someone Else")
    theirs = PainEntry(plan_id=other.plan.id, score=6, local_day=TODAY, recorded_at=NOW)
    session.add(theirs)
    session.commit()
    assert patient_client.get(f"/me/pain/{theirs.id}/fix").status_code == 404
    sent = patient_client.post(
        f"/me/pain/{theirs.id}/fix", data={"score": "1", "csrf_token": _csrf(patient_client)}
    )
    assert sent.status_code == 404
    assert patient_client.get("/me/pain/999999/fix").status_code == 404
    assert count(session, PainEntry) == 1


def test_a_bad_correction_is_refused_and_nothing_stored(patient_client, session):
    _log_pain(patient_client, 8)
    original = _only_entry(session)
    response = post_form(patient_client, f"/me/pain/{original.id}/fix", data={"score": "11"})
    assert response.status_code == 400
    assert "Your correction was not saved." in text_of(response)
    assert count(session, PainEntry) == 1


def test_daily_checks_read_current_entries_only(session, enrolled):
    """A superseded row never counts on its own: a day is what its current rows say."""
    plan = enrolled.plan
    yesterday = TODAY - timedelta(days=1)
    first = PainEntry(plan_id=plan.id, score=7, local_day=yesterday, recorded_at=NOW)
    session.add(first)
    session.flush()
    # A correction dated another day (only possible by hand) leaves ``first`` superseded.
    session.add(
        PainEntry(
            plan_id=plan.id, score=1, local_day=TODAY, recorded_at=NOW, supersedes_id=first.id
        )
    )
    session.commit()
    assert not pain_logged_on(session, plan, yesterday)
    assert missed_yesterday(session, plan, TODAY)
    records = {r.local_day: r for r in recovery_days(session, plan, TODAY)}
    assert records[yesterday].pain_max is None
    assert records[TODAY].pain_max == 1


# --- the application never edits or deletes these rows ------------------------------------

_PROTECTED = re.compile(
    r"^\s*(UPDATE|DELETE\s+FROM)\s+\"?(pain_entry|symptom_report|audit_event)\b", re.I
)


class StatementRecorder:
    """Every statement sent through the app's engine that would change a protected table."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seen: list[str] = []
        self.total = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.total += 1
        if _PROTECTED.match(statement):
            self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def test_the_recorder_catches_an_update(app, session, enrolled):
    """The check below is only worth something if an UPDATE would be caught."""
    engine = app.extensions["tracker.engine"]
    with StatementRecorder(engine) as recorder, engine.begin() as conn:
        conn.execute(text("UPDATE pain_entry SET score = 1 WHERE id = -1"))
        conn.execute(text("DELETE FROM audit_event WHERE id = -1"))
    assert len(recorder.seen) == 2


def test_full_patient_flows_never_update_or_delete_protected_rows(app, client, enrolled, session):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    engine = app.extensions["tracker.engine"]
    with StatementRecorder(engine) as recorder:
        sign_in(client, enrolled)
        client.get("/me/")
        post_form(client, "/me/", "/me/tasks/walk", {"action": "done", "day": "2026-11-21"})
        post_form(client, "/me/", "/me/tasks/walk", {"action": "undo", "day": "2026-11-21"})
        _log_pain(client, 8, context="activity", note="after the walk")
        _log_pain(client, 4)
        entry = session.scalars(select(PainEntry).order_by(PainEntry.id)).first()
        post_form(client, f"/me/pain/{entry.id}/fix", data={"score": "7"})
        post_form(client, "/me/pain", data={"score": "eleven"})  # refused
        yes = {f"q_{s.key}": "yes" if s.action == "call_team" else "no" for s in signs}
        post_form(client, "/me/warning-signs", data=yes)
        post_form(client, "/me/warning-signs", data=yes)  # a second red flag: same alert
        report = session.scalars(select(SymptomReport).order_by(SymptomReport.id)).first()
        no = {key: "no" for key in yes}
        post_form(client, f"/me/warning-signs/{report.id}/change", data=no)
        client.get("/me/progress")
        client.post("/me/sign-out", data={"csrf_token": _csrf_today(client)})
        sign_in(client, enrolled)
    assert recorder.total > 20  # the recorder saw the flows' statements
    assert recorder.seen == []
    assert count(session, PainEntry) == 3
    assert count(session, SymptomReport) == 3
    # One red-flag alert for two red-flag reports (de-duplicated), one for the severe score.
    session.expire_all()
    assert sorted(a.rule for a in session.scalars(select(Alert))) == sorted(
        [alerts.RED_FLAG, alerts.SEVERE_PAIN]
    )
    assert count(session, AuditEvent) >= 3


def _csrf_today(client):
    return csrf_token(client.get("/me/").get_data(as_text=True))


def test_a_correction_to_severe_pain_alerts_the_care_team(patient_client, session):
    _log_pain(patient_client, 2)
    original = _only_entry(session)
    assert count(session, Alert) == 0
    post_form(patient_client, f"/me/pain/{original.id}/fix", data={"score": "9"})
    session.expire_all()
    alert = session.scalars(select(Alert)).one()
    assert alert.rule == alerts.SEVERE_PAIN


# --- warning-signs answers ----------------------------------------------------------------


def _answers(app, *yes):
    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    return {f"q_{s.key}": "yes" if s.key in yes else "no" for s in signs}


def _only_report(session) -> SymptomReport:
    session.expire_all()
    return session.scalars(select(SymptomReport)).one()


def test_changing_todays_answers_adds_a_report_and_keeps_both(app, patient_client, session):
    post_form(patient_client, "/me/warning-signs", data=_answers(app, "fever"))
    original = _only_report(session)
    result = text_of(patient_client.get(f"/me/warning-signs/{original.id}"))
    assert "Change my answers" in result
    form = patient_client.get(f"/me/warning-signs/{original.id}/change")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "Change your answers" in text_of(form)
    assert 'id="q_fever-yes" value="yes" checked' in html

    sent = post_form(patient_client, f"/me/warning-signs/{original.id}/change", data=_answers(app))
    assert sent.status_code == 302
    session.expire_all()
    rows = session.scalars(select(SymptomReport).order_by(SymptomReport.id)).all()
    assert [(r.severity, r.supersedes_id) for r in rows] == [
        ("call_team", None),
        ("none", original.id),
    ]
    assert sent.location.endswith(f"/me/warning-signs/{rows[1].id}")
    # The alert raised by the first answers stays for the care team to look at.
    assert session.scalars(select(Alert)).one().rule == alerts.RED_FLAG
    assert session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.symptom_report_corrected")
    ).one().detail == {"symptom_report_id": rows[1].id, "supersedes_id": original.id}
    # Changed once: the old answers cannot be changed again, the new ones can.
    assert "Change my answers" not in text_of(
        patient_client.get(f"/me/warning-signs/{original.id}")
    )
    again = post_form(patient_client, f"/me/warning-signs/{original.id}/change", data=_answers(app))
    assert again.status_code == 409
    assert "These answers have already been changed." in text_of(again)
    assert count(session, SymptomReport) == 2


def test_a_changed_answer_with_a_red_flag_alerts_the_care_team(app, patient_client, session):
    post_form(patient_client, "/me/warning-signs", data=_answers(app))
    original = _only_report(session)
    assert count(session, Alert) == 0
    post_form(
        patient_client,
        f"/me/warning-signs/{original.id}/change",
        data=_answers(app, "chest_pain"),
    )
    session.expire_all()
    assert session.scalars(select(Alert)).one().rule == alerts.RED_FLAG


def test_only_todays_own_answers_can_be_changed(
    app, patient_client, session, enrolled, enroll_patient
):
    old = SymptomReport(
        plan_id=enrolled.plan.id,
        local_day=TODAY - timedelta(days=1),
        recorded_at=NOW,
        answers={"fever": False},
        severity="none",
    )
    other = enroll_patient(name="Someone Else")
    theirs = SymptomReport(
        plan_id=other.plan.id, local_day=TODAY, recorded_at=NOW, answers={}, severity="none"
    )
    session.add_all([old, theirs])
    session.commit()
    refused = patient_client.get(f"/me/warning-signs/{old.id}/change")
    assert refused.status_code == 409
    assert "Only today's answers can be changed." in text_of(refused)
    assert patient_client.get(f"/me/warning-signs/{theirs.id}/change").status_code == 404
    sent = post_form(
        patient_client, "/me/warning-signs", f"/me/warning-signs/{theirs.id}/change", _answers(app)
    )
    assert sent.status_code == 404
    assert count(session, SymptomReport) == 2
