"""The triage list: most urgent first, filters, pages, and constant SQL per page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.conftest import NOW, selects_of
from tests.coordinator.conftest import open_alert
from tracker.core.models import CarePlan

TODAY = date(2026, 11, 21)


def names(response):
    return re.findall(
        r'<th scope="row">\s*<a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True)
    )


def test_it_lists_patients_most_urgent_first(session, coordinator_client, enrolled):
    calm = enrolled(days_ago=3, name="Alice Calm").plan
    normal = enrolled(days_ago=3, name="Bob Normal").plan
    urgent = enrolled(days_ago=3, name="Zed Urgent").plan
    high = enrolled(days_ago=3, name="Yan High").plan
    worked = enrolled(days_ago=3, name="Carl Worked").plan
    open_alert(session, normal, "missed_checkin", "normal", "No check-in for 2 days")
    open_alert(session, urgent, "red_flag", "urgent", "Warning signs: chest pain")
    open_alert(session, high, "severe_pain", "high", "Pain 8/10")
    acknowledged = open_alert(session, worked, "red_flag", "urgent", "Fever")
    acknowledged.status = "acknowledged"
    session.commit()
    del calm

    response = coordinator_client.get("/coordinator/")
    assert response.status_code == 200
    assert names(response) == ["Zed Urgent", "Yan High", "Bob Normal", "Carl Worked", "Alice Calm"]
    page = response.get_data(as_text=True)
    assert "Warning signs: chest pain" in page
    assert "Red-flag symptom (acknowledged)" in page


def test_it_shows_latest_pain_sparkline_adherence_and_day(coordinator_client, enrolled, record):
    plan = enrolled(days_ago=2, name="Dana Shown").plan
    record.pain(plan, TODAY - timedelta(days=2), 6)
    record.pain(plan, TODAY - timedelta(days=1), 5)
    # Day 1 is still bed rest: no walk is due, so a check-off for one does not count.
    record.checkoff(plan, "walk", TODAY - timedelta(days=1))
    record.pain(plan, TODAY, 4, hour=8)
    page = coordinator_client.get("/coordinator/").get_data(as_text=True)
    row = page[page.index("Dana Shown") :]
    assert '<strong class="pain">4</strong>/10' in row
    # Past days: day 0 and day 1 (pain, warning signs) = 4 items; done: pain on both = 2.
    assert "50%" in row and "2 of 4" in row
    assert '<svg class="sparkline"' in row
    assert "Highest daily pain, last 14 days: day 0: 6, day 1: 5, day 2: 4" in row
    assert re.search(r'<td data-label="Day">2</td>', row)  # day since procedure


def test_it_filters_by_alerts_procedure_and_day_range(session, coordinator_client, enrolled):
    early = enrolled(days_ago=2, name="Early Kypho").plan
    enrolled(days_ago=20, name="Late Kypho")
    enrolled(days_ago=10, name="Mid Vertebro", procedure="vertebroplasty")
    open_alert(session, early, "severe_pain", "high", "Pain 9/10")

    def listed(query):
        return names(coordinator_client.get("/coordinator/?" + query))

    assert listed("has_alerts=1") == ["Early Kypho"]
    assert listed("procedure=vertebroplasty") == ["Mid Vertebro"]
    assert listed("min_day=5&max_day=15") == ["Mid Vertebro"]
    assert listed("max_day=12") == ["Early Kypho", "Mid Vertebro"]


def test_it_lists_paused_plans_only_when_asked(session, coordinator_client, enrolled):
    paused = enrolled(days_ago=2, name="Paused Person").plan
    enrolled(days_ago=2, name="Active Person")
    paused.status = "paused"
    session.commit()
    assert names(coordinator_client.get("/coordinator/")) == ["Active Person"]
    assert names(coordinator_client.get("/coordinator/?status=paused")) == ["Paused Person"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_day=-1", "Enter a whole number of days"),
        ("max_day=ten", "Enter a whole number of days"),
        ("min_day=10&max_day=2", "must not be before the first day"),
        ("procedure=<script>", "Choose a procedure from the list."),
        ("status=deleted", "Choose a plan status from the list."),
    ],
)
def test_it_explains_a_bad_filter(coordinator_client, enrolled, query, message):
    enrolled(days_ago=2, name="Still Listed")
    response = coordinator_client.get("/coordinator/?" + query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "<script>" not in page
    assert names(response) == ["Still Listed"]


def test_it_pages_through_the_list(app, coordinator_client, enrolled):
    app.config["TRIAGE_PAGE_SIZE"] = 2
    for name in ("Ann", "Ben", "Cat", "Dan", "Eve"):
        enrolled(days_ago=1, name=name)
    first = coordinator_client.get("/coordinator/")
    assert names(first) == ["Ann", "Ben"]
    assert "Page 1 of 3" in first.get_data(as_text=True)
    assert names(coordinator_client.get("/coordinator/?page=3")) == ["Eve"]
    assert names(coordinator_client.get("/coordinator/?page=99")) == ["Eve"]  # clamps
    assert names(coordinator_client.get("/coordinator/?page=x")) == ["Ann", "Ben"]


def test_it_records_who_viewed_the_list(session, coordinator_client, coordinator, enrolled):
    from sqlalchemy import select

    from tracker.core.models import AuditEvent

    patient = enrolled(days_ago=1, name="Seen").patient
    coordinator_client.get("/coordinator/")
    event_row = session.scalars(select(AuditEvent)).one()
    assert (event_row.action, event_row.actor_user_id) == ("triage.view", coordinator.id)
    assert event_row.detail["patient_ids"] == [patient.id]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "owner=mine",
        "owner=nobody&has_alerts=1",
        "procedure=kyphoplasty&min_day=1&max_day=30&owner=mine&status=all",
        "status=paused&page=2",
    ],
)
def test_a_page_costs_the_same_queries_for_5_or_50_patients(
    app, session, coordinator_client, coordinator, enrolled, record, query
):
    from tracker.care.contact_log import ContactInput, log_contact

    engine = app.extensions["tracker.engine"]

    def populate(count):
        for i in range(count):
            enrollment = enrolled(days_ago=3 + i % 20, name=f"Patient {i:03d}")
            plan = enrollment.plan
            for n in range(3):
                record.pain(plan, TODAY - timedelta(days=n), (i + n) % 10)
            record.checkoff(plan, "walk", TODAY - timedelta(days=1))
            if i % 4 == 0:
                alert = open_alert(session, plan, "severe_pain", "high", "Pain")
                alert.assigned_to_id = coordinator.id if i % 8 == 0 else None
            for minutes in range(i % 3):  # none, one or two contacts
                contact = ContactInput("no_answer", "Rang", NOW - timedelta(minutes=minutes))
                log_contact(session, enrollment.patient, contact, user_id=coordinator.id, now=NOW)
            session.commit()

    def load():
        response = coordinator_client.get("/coordinator/?" + query)
        assert response.status_code == 200

    populate(5)
    small = selects_of(engine, load)
    populate(45)
    assert session.query(CarePlan).count() == 50
    large = selects_of(engine, load)
    assert len(small) == len(large)
    # user, clinic, the page (with the total), what its patients did by day, their alerts,
    # their latest contacts, the clinic's accounts (owners), the delivery incidents
    # shown above the list, and the texting status (opt-outs, texts to read); a page past
    # the end adds the count on its own
    assert len(large) <= 10 + ("page=2" in query)
