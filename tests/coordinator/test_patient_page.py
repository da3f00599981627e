"""The patient page in ten seconds: the summary at the top, detail folded by section, the
calendar up to the patient's today, warning-signs checks with a "yes" (the rest counted), one
form per alert, and every time on the clinic's clock (care/patient_page.py, time_format.py)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert, sign_in_as
from tracker.alerts.pain_trends import daily_summaries
from tracker.care.patient_page import calendar_to_today, pain_trend, warning_sign_checks
from tracker.care.triage import CalendarDay
from tracker.core.models import (
    CarePlan,
    ContactLogEntry,
    PainEntry,
    PlanAdjustment,
    Reminder,
    SymptomReport,
)

TODAY = date(2026, 11, 21)  # NOW's day in New York


def url(result, suffix=""):
    return f"/coordinator/patients/{result.patient.id}{suffix}"


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags dropped, spaces collapsed."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r"\( ", "(", re.sub(r" ([,.;:)])", r"\1", words))


def summary_lines(page: str) -> dict[str, str]:
    """The summary's rows: heading -> what it says."""
    box = page[page.index('<section class="summary"') :]
    box = box[: box.index("</section>")]
    return {
        text_of(term): text_of(value)
        for term, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", box, re.S)
    }


def section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}"')
    return page[start : page.index("</section>", start)]


def get(client, result) -> str:
    response = client.get(url(result))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def report_at(session, plan, at: datetime, day: date, **answers) -> SymptomReport:
    row = SymptomReport(
        plan_id=plan.id,
        local_day=day,
        recorded_at=at,
        answers=answers,
        severity="call_team" if any(answers.values()) else "none",
    )
    session.add(row)
    session.commit()
    return row


# --- the summary -----------------------------------------------------------------------------


def test_the_summary_says_why_pain_alerts_last_contact_and_next_visit(
    coordinator_client, enrolled, record, session, coordinator
):
    result = enrolled(days_ago=12, name="Sam Summary")  # procedure Nov 9: today is day 12
    plan = result.plan
    for n, score in ((6, 3), (7, 3), (8, 3), (9, 6), (10, 7), (11, 8)):
        record.pain(plan, plan.procedure_date + timedelta(days=n), score)
    severe = open_alert(session, plan, "severe_pain", "high", "Pain 8/10 on day 11")
    rising = open_alert(session, plan, "worsening", "normal", "3-day mean pain up 4")
    rising.status, rising.acknowledged_by_id = "acknowledged", coordinator.id
    rising.acknowledged_at = NOW - timedelta(minutes=30)
    session.add(
        ContactLogEntry(
            clinic_id=plan.clinic_id,
            patient_id=plan.patient_id,
            user_id=coordinator.id,
            outcome="no_answer",
            note="Will try after lunch",
            contacted_at=NOW - timedelta(hours=2),
            recorded_at=NOW - timedelta(hours=2),
        )
    )
    session.commit()

    page = get(coordinator_client, result)
    lines = summary_lines(page)
    assert list(lines) == ["Why on the list", "Pain", "Open alerts", "Next visit", "Last contact"]
    # Why: each open alert's reason, the most urgent first, each linking to its card.
    assert lines["Why on the list"] == (
        "Severe pain Pain 8/10 on day 11 1 h ago "
        "Worsening pain 3-day mean pain up 4 1 h ago, acknowledged"
    )
    assert f'href="#alert-{severe.id}"' in page and f'id="alert-{severe.id}"' in page
    # Latest 8 on Nov 20 (day 11); the 3-day mean 7.0 against 3.0 the three days before.
    assert lines["Pain"].startswith(
        "8/10 on Nov 20 (day 11); 3-day mean 7.0, up from 3.0 the 3 days before."
    )
    # Above the expected course at day 11 (outcomes_panel.py): said beside the pain.
    assert lines["Pain"].endswith("Slower than expected (outcomes).")
    assert lines["Open alerts"] == "2 (1 not acknowledged yet)"
    assert lines["Last contact"] == (
        f"Called · no answer, 2 h ago by {coordinator.name}: “Will try after lunch”"
    )
    # The first follow-up is due days 10-14 and has no date yet.
    assert lines["Next visit"] == "First follow-up visit: Nov 19\u201323, no date set"


def test_a_patient_with_no_alerts_and_no_scores_says_so(coordinator_client, enrolled):
    result = enrolled(days_ago=0, name="Nora New")
    lines = summary_lines(get(coordinator_client, result))
    assert lines == {
        "Why on the list": "No open alerts: on the list as an active plan.",
        "Pain": "No pain scores yet.",
        "Open alerts": "None",
        "Last contact": "None logged yet",
        "Next visit": "First follow-up visit: Dec 1\u20135, no date set",
    }


def test_a_booked_visit_and_an_acknowledged_alert_read_as_such(
    coordinator_client, enrolled, session, coordinator
):
    result = enrolled(days_ago=3)
    alert = open_alert(session, result.plan, "missed_checkin", "normal", "No check-in for 2 days")
    alert.status, alert.acknowledged_by_id, alert.acknowledged_at = (
        "acknowledged",
        coordinator.id,
        NOW,
    )
    session.commit()
    response = coordinator_client.post(
        url(result, "/appointments"), data={"key": "followup_first", "date": "2026-11-30"}
    )
    assert response.status_code == 302
    lines = summary_lines(get(coordinator_client, result))
    assert lines["Open alerts"] == "1, acknowledged"
    assert lines["Next visit"] == "First follow-up visit, Nov 30"


@pytest.mark.parametrize(
    ("action", "why", "visit"),
    [
        ("pause", "No open alerts: the plan is paused.", "First follow-up visit"),
        ("end", "No open alerts: the plan has ended.", "None: the plan has ended"),
    ],
)
def test_a_paused_or_ended_plan_says_so_in_the_summary(
    coordinator_client, enrolled, action, why, visit
):
    result = enrolled(days_ago=3)
    assert (
        coordinator_client.post(url(result, "/status"), data={"action": action}).status_code == 302
    )
    lines = summary_lines(get(coordinator_client, result))
    assert lines["Why on the list"] == why
    assert lines["Next visit"].startswith(visit)


def test_the_trend_reads_down_or_about_the_same_and_never_counts_scores_before_day_0():
    def entries(scores: dict[int, int]) -> list[PainEntry]:
        procedure = date(2026, 11, 1)
        return [
            PainEntry(
                id=n + 100,
                plan_id=1,
                score=score,
                local_day=procedure + timedelta(days=n),
                recorded_at=datetime(2026, 11, 1, 14, tzinfo=UTC) + timedelta(days=n),
            )
            for n, score in scores.items()
        ]

    def trend(scores: dict[int, int]):
        rows = entries(scores)
        return pain_trend(rows, daily_summaries(rows, date(2026, 11, 1)), date(2026, 11, 1))

    falling = trend({0: 8, 1: 8, 2: 8, 3: 6, 4: 6, 5: 5})
    assert (falling.direction, falling.recent.mean, falling.earlier.mean) == ("falling", 5.67, 8.0)
    steady = trend({0: 5, 1: 5, 2: 5, 3: 5, 4: 6, 5: 5})
    assert (steady.direction, steady.change) == ("steady", 0.33)
    # Exactly one point up is "rising" (TREND_POINTS).
    assert trend({0: 4, 1: 4, 2: 4, 3: 5, 4: 5, 5: 5}).direction == "rising"
    # Scores before the procedure: shown, never a mean nor a baseline.
    before = trend({-3: 9, -2: 9, -1: 9})
    assert (before.score, before.day_number, before.recent, before.direction) == (9, -1, None, None)
    # One day after the procedure: a latest score but no 3-day mean yet.
    single = trend({-2: 9, -1: 9, 0: 7})
    assert (single.score, single.recent, single.direction) == (7, None, None)
    assert pain_trend([], [], date(2026, 11, 1)) is None


def test_the_summary_says_before_the_procedure_for_a_pre_procedure_score(
    coordinator_client, enrolled, record
):
    result = enrolled(days_ago=-2)  # the procedure is in two days
    record.pain(result.plan, TODAY, 6)
    assert summary_lines(get(coordinator_client, result))["Pain"] == (
        "6/10 on Nov 21 (before the procedure)."
    )


# --- folded detail ---------------------------------------------------------------------------


def test_detail_is_folded_by_section_with_a_count(coordinator_client, enrolled, record, session):
    result = enrolled(days_ago=3)
    record.report(result.plan, TODAY - timedelta(days=1), fever=False)
    page = get(coordinator_client, result)
    folded = re.findall(r'<details class="fold"[^>]*>\s*<summary>(.*?)</summary>', page, re.S)
    summaries = [text_of(s) for s in folded]
    assert "Warning-signs checks (1)" in summaries
    assert "Reminders (0)" in summaries
    assert "Contact log (0)" in summaries
    assert "Plan adjustments (0 made)" in summaries
    assert any(s.startswith("Check-ins (4 days)") for s in summaries)
    # Folded means closed, unless a form in it was refused.
    assert not re.search(r'<details class="fold"[^>]*\bopen\b', page)


def test_a_refused_plan_change_opens_its_section_with_the_error(coordinator_client, enrolled):
    result = enrolled(days_ago=3)
    response = coordinator_client.post(
        url(result, "/restrictions"), data={"key": "no_heavy_lifting", "end_day": "4.5"}
    )
    assert response.status_code == 400
    plan = section(response.get_data(as_text=True), "plan")
    assert re.search(r'<details class="fold"\s+open>', plan)
    assert 'id="restrictions-end_day-error"' in plan


# --- the calendar stops at today ---------------------------------------------------------------


def calendar_days(page: str) -> list[str]:
    return re.findall(r'<span class="cal-date">([^<]+)</span>', section(page, "checkins"))


def test_the_calendar_ends_on_the_patients_today_at_their_midnight(app, enrolled, coordinator):
    # Los Angeles: midnight of Nov 22 is 08:00 UTC. The plan began Sunday Nov 15.
    result = enrolled(days_ago=6, timezone="America/Los_Angeles")
    app.config["FIXED_NOW"] = datetime(2026, 11, 22, 7, 59, 59, tzinfo=UTC)
    before = get(sign_in_as(app.test_client(), coordinator), result)
    assert calendar_days(before) == [f"Nov {d}" for d in range(15, 22)]
    assert "today: " in section(before, "checkins")
    app.config["FIXED_NOW"] = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    after = get(sign_in_as(app.test_client(), coordinator), result)
    assert calendar_days(after) == [f"Nov {d}" for d in range(15, 23)]
    # No wall of days to come: not one "upcoming" day, and the week rows end with today's.
    assert "upcoming" not in after
    assert section(after, "checkins").count("<tr>") == 1 + 2  # the header and two weeks


def test_calendar_to_today_keeps_the_weeks_so_far_and_blanks_the_rest():
    def day(d: int) -> CalendarDay:
        return CalendarDay(date(2026, 11, d), d - 16, (), (), "none_due")

    weeks = [
        [day(16), day(17), day(18), day(19), day(20), day(21), day(22)],
        [day(23), day(24), day(25), day(26), day(27), day(28), day(29)],
    ]
    assert calendar_to_today(weeks, date(2026, 11, 15)) == []
    assert calendar_to_today(weeks, date(2026, 11, 18)) == [
        [day(16), day(17), day(18), None, None, None, None]
    ]
    assert calendar_to_today(weeks, date(2026, 11, 22)) == [weeks[0]]
    assert calendar_to_today(weeks, date(2026, 12, 25)) == weeks


def test_a_plan_that_has_not_started_shows_no_calendar(coordinator_client, enrolled):
    result = enrolled(days_ago=-3)
    checkins = section(get(coordinator_client, result), "checkins")
    assert "<table" not in checkins and "The plan starts on Nov 24 (day 0)." in text_of(checkins)


# --- warning-signs checks: the ones with a "yes" ---------------------------------------------


def test_only_checks_answered_yes_are_listed_and_the_rest_counted(
    coordinator_client, enrolled, record
):
    result = enrolled(days_ago=5)
    plan = result.plan
    for n in (1, 2, 4):
        record.report(plan, plan.procedure_date + timedelta(days=n), fever=False, chest_pain=False)
    record.report(plan, plan.procedure_date + timedelta(days=3), "call_team", fever=True)
    symptoms = section(get(coordinator_client, result), "symptoms")
    rows = re.findall(r"<tr class=\"severity-[a-z_0-9]+\">", symptoms)
    assert len(rows) == 1
    assert "have you had a fever of 100.4" in symptoms and "Call the care team" in symptoms
    assert "3 checks with no warning signs." in text_of(symptoms)
    assert "No warning signs</td>" not in symptoms
    assert "Warning-signs checks (4) · 1 “yes”" in text_of(symptoms)


@pytest.mark.parametrize(
    ("answers", "listed", "counted"),
    [
        ([], 0, "No warning-signs checks yet."),
        ([False], 0, "1 check with no warning signs."),
        ([True], 1, "0 checks with no warning signs."),
    ],
)
def test_the_count_of_checks_without_a_yes_reads_right(
    coordinator_client, enrolled, record, answers, listed, counted
):
    result = enrolled(days_ago=5)
    for n, fever in enumerate(answers, start=1):
        record.report(result.plan, result.plan.procedure_date + timedelta(days=n), fever=fever)
    symptoms = section(get(coordinator_client, result), "symptoms")
    assert len(re.findall(r"<tr class=\"severity-", symptoms)) == listed
    assert counted in text_of(symptoms)


def test_a_corrected_check_keeps_its_first_yes_and_says_it_changed():
    first = SymptomReport(id=1, answers={"fever": True, "chest_pain": False})
    fixed = SymptomReport(id=2, answers={"fever": False}, supersedes_id=1)
    checks = warning_sign_checks([fixed, first])
    assert (checks.with_yes, checks.without, checks.corrected_ids) == ([first], 1, {1})


# --- times in the reader's terms ---------------------------------------------------------------


def test_a_check_after_utc_midnight_shows_on_the_patients_day_and_the_clinics_clock(
    coordinator_client, enrolled, session
):
    result = enrolled(days_ago=5)  # New York, like the clinic
    # 03:41 UTC on Nov 21 is 10:41 PM on Nov 20 in New York: the patient's day is Nov 20.
    report_at(
        session,
        result.plan,
        datetime(2026, 11, 21, 3, 41, tzinfo=UTC),
        date(2026, 11, 20),
        fever=True,
    )
    symptoms = section(get(coordinator_client, result), "symptoms")
    row = text_of(re.search(r'<tr class="severity-call_team">.*?</tr>', symptoms, re.S).group(0))
    assert row.startswith("Nov 20 day 4 Nov 20, 10:41 PM EST Call the care team")
    assert "03:41" not in symptoms and "UTC" not in symptoms and "for the patient" not in row


def test_a_patient_in_another_zone_gets_their_day_and_clock_beside_the_clinics(
    coordinator_client, enrolled, session
):
    result = enrolled(days_ago=5, timezone="Asia/Tokyo")
    # 16:30 UTC on Nov 20: 11:30 AM on Nov 20 at the clinic, 1:30 AM on Nov 21 in Tokyo.
    report_at(
        session,
        result.plan,
        datetime(2026, 11, 20, 16, 30, tzinfo=UTC),
        date(2026, 11, 21),
        fever=True,
    )
    symptoms = section(get(coordinator_client, result), "symptoms")
    row = text_of(re.search(r'<tr class="severity-call_team">.*?</tr>', symptoms, re.S).group(0))
    assert row.startswith("Nov 21 day")
    assert "Nov 20, 11:30 AM EST 1:30 AM JST for the patient" in row


def test_times_either_side_of_the_autumn_change_keep_their_zone(
    coordinator_client, enrolled, session
):
    result = enrolled(days_ago=27)  # procedure Oct 25, New York
    plan = result.plan
    report_at(
        session, plan, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), date(2026, 11, 1), fever=True
    )
    report_at(
        session, plan, datetime(2026, 11, 1, 6, 30, tzinfo=UTC), date(2026, 11, 1), chills=True
    )
    symptoms = text_of(section(get(coordinator_client, result), "symptoms"))
    # The same wall clock twice: the abbreviation tells them apart, newest first.
    assert symptoms.index("Nov 1, 1:30 AM EST") < symptoms.index("Nov 1, 1:30 AM EDT")


def test_no_time_on_the_patient_page_is_in_utc(
    coordinator_client, enrolled, record, session, coordinator
):
    result = enrolled(days_ago=5)
    plan = result.plan
    record.report(plan, TODAY - timedelta(days=1), "call_team", fever=True)
    alert = open_alert(session, plan, "red_flag", "urgent", "Fever reported")
    sent = datetime(2026, 11, 21, 2, 5, tzinfo=UTC)  # 9:05 PM on Nov 20 in New York
    session.add(
        Reminder(
            plan_id=plan.id,
            kind="daily",
            local_day=date(2026, 11, 20),
            channel="email",
            status="sent",
            attempts=1,
            due_at=sent,
            next_attempt_at=sent,
            sent_at=sent,
            idempotency_key=f"daily-{plan.id}-2026-11-20-email",
            created_at=sent,
        )
    )
    session.commit()
    assert (
        coordinator_client.post(
            url(result, f"/alerts/{alert.id}/acknowledge"), data={"note": "calling"}
        ).status_code
        == 302
    )
    assert (
        coordinator_client.post(
            url(result, "/restrictions"), data={"key": "no_heavy_lifting", "end_day": "50"}
        ).status_code
        == 302
    )
    page = get(coordinator_client, result)
    assert "UTC" not in page
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page)  # no raw timestamps
    assert "Nov 20, 9:05 PM EST" in text_of(section(page, "reminders"))
    assert "Nov 21, 10:00 AM EST" in text_of(section(page, "plan"))  # the change, made at NOW
    assert f"acknowledged by {coordinator.name}, Nov 21, 10:00 AM EST" in text_of(
        section(page, "alerts")
    )
    # The link expiry is a moment too: on the clinic's clock.
    assert re.search(
        r"valid until \w{3} \d+, \d{4}, \d+:\d\d [AP]M EST", text_of(section(page, "link"))
    )
    assert "Reminders at 9:00 AM the patient's time (America/New_York)" in text_of(page)


@pytest.mark.parametrize(
    "path",
    [
        "/coordinator/",
        "/coordinator/exports",
        "/coordinator/enrol",
        "/coordinator/admin/users",
        "/coordinator/admin/clinic",
        "/coordinator/admin/escalation",
        "/coordinator/admin/content",
    ],
)
def test_no_care_team_page_shows_a_utc_time(admin_client, enrolled, record, session, admin, path):
    result = enrolled(days_ago=5)
    record.pain(result.plan, TODAY, 9, hour=8)
    open_alert(session, result.plan, "severe_pain", "high", "Pain 9/10")
    admin.last_login_at = NOW - timedelta(hours=1)
    session.commit()
    page = admin_client.get(path).get_data(as_text=True)
    assert "UTC" not in text_of(page)
    assert not re.search(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", text_of(page))


def test_the_accounts_page_shows_sign_ins_on_the_clinics_clock(admin_client, session, admin):
    admin.last_login_at = datetime(2026, 11, 21, 3, 41, tzinfo=UTC)
    session.commit()
    page = text_of(admin_client.get("/coordinator/admin/users").get_data(as_text=True))
    assert "Nov 20, 10:41 PM EST" in page and "UTC" not in page


# --- one form per alert --------------------------------------------------------------------


def test_each_alert_has_one_form_with_one_note_for_its_actions(
    coordinator_client, enrolled, session
):
    result = enrolled(days_ago=3)
    fresh = open_alert(session, result.plan, "red_flag", "urgent", "Fever reported")
    seen = open_alert(session, result.plan, "severe_pain", "high", "Pain 9/10")
    seen.status = "acknowledged"
    session.commit()
    alerts = section(get(coordinator_client, result), "alerts")
    for alert, buttons in ((fresh, ["Acknowledge", "Resolve"]), (seen, ["Resolve"])):
        card = alerts[alerts.index(f'id="alert-{alert.id}"') :]
        card = card[: card.index("</article>")]
        assert card.count("<form") == 1 and card.count('name="note"') == 1
        assert re.findall(r"<button[^>]*>([^<]+)</button>", card) == buttons
        assert 'formaction="/coordinator/patients/' in card


def test_resolving_from_the_one_form_without_a_note_is_refused_beside_the_note(
    coordinator_client, enrolled, session
):
    result = enrolled(days_ago=3)
    alert = open_alert(session, result.plan, "severe_pain", "high", "Pain 9/10")
    response = coordinator_client.post(
        url(result, f"/alerts/{alert.id}/resolve"), data={"note": " "}
    )
    assert response.status_code == 400
    card = section(response.get_data(as_text=True), "alerts")
    assert f'aria-describedby="alert-{alert.id}-error"' in card
    assert f'<p class="field-error" id="alert-{alert.id}-error">Say how it was resolved' in card
    session.refresh(alert)
    assert alert.status == "open"


# --- access ------------------------------------------------------------------------------------


def test_a_coordinator_of_another_clinic_gets_404_and_nothing_changes(
    app, enrolled, session, other_clinic, make_user
):
    result = enrolled(days_ago=3)
    alert = open_alert(session, result.plan, "severe_pain", "high", "Pain 9/10")
    stranger = sign_in_as(app.test_client(), make_user(other_clinic))
    page = stranger.get(url(result))
    # The same answer as for a patient who does not exist: nothing says this one does.
    assert page.status_code == 404 and "Test Spine" not in page.get_data(as_text=True)
    assert stranger.get("/coordinator/patients/999999").status_code == 404
    for action in ("acknowledge", "resolve"):
        response = stranger.post(url(result, f"/alerts/{alert.id}/{action}"), data={"note": "x"})
        assert response.status_code == 404
    assert stranger.post(url(result, "/status"), data={"action": "end"}).status_code == 404
    session.refresh(alert)
    assert (alert.status, alert.acknowledged_at, alert.resolution_note) == ("open", None, None)
    assert session.scalar(select(PlanAdjustment.id)) is None
    plan = session.get(CarePlan, result.plan.id)
    session.refresh(plan)
    assert plan.status == "active"
