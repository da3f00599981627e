"""The triage list as a work queue: alert ages, owners, acknowledging and assigning from the
list (back to the same list and row), the owner filters, access, and concurrent changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert, sign_in_as
from tracker.care.work_queue import Assigned, assign_alert
from tracker.core.db import session_factory
from tracker.core.models import Alert, AlertEvent, AuditEvent


def names(response) -> list[str]:
    return re.findall(
        r'<th scope="row">\s*<a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True)
    )


def row_of(page: str, patient_id: int) -> str:
    start = page.index(f'id="patient-{patient_id}"')
    return page[start : page.index("</tr>", start)]


def counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        "events": session.scalar(select(func.count()).select_from(AlertEvent)),
        "audits": session.scalar(select(func.count()).where(AuditEvent.action != "triage.view")),
        "owned": session.scalar(select(func.count()).where(Alert.assigned_to_id.is_not(None))),
    }


@pytest.fixture
def colleague(session, make_user, clinic):
    user = make_user(clinic, "coordinator", email="colleague@example.org")
    user.name = "Robin Colleague"
    session.commit()
    return user


@pytest.fixture
def flagged(session, enrolled):
    """A patient with a severe-pain alert raised two hours before NOW."""
    enrollment = enrolled(days_ago=4, name="Jo Sample")
    alert = open_alert(session, enrollment.plan, "severe_pain", "high", "Pain 8/10 on day 4")
    alert.raised_at = NOW - timedelta(hours=2)
    session.commit()
    return enrollment.patient, alert


def test_it_shows_each_alerts_age_and_who_acknowledged_it(session, coordinator_client, enrolled):
    new = enrolled(days_ago=3, name="New Alert").plan
    old = enrolled(days_ago=5, name="Old Alert").plan
    fresh = open_alert(session, new, "severe_pain", "high", "Pain 9/10")
    fresh.raised_at = NOW - timedelta(minutes=59, seconds=59)
    stale = open_alert(session, old, "missed_checkin", "normal", "No check-in for 2 days")
    stale.raised_at = NOW - timedelta(days=3, hours=1)
    session.commit()
    page = coordinator_client.get("/coordinator/").get_data(as_text=True)
    assert "59 min ago" in row_of(page, new.patient_id)
    assert "3 days ago" in row_of(page, old.patient_id)

    fresh.raised_at = NOW - timedelta(hours=2)
    session.commit()
    coordinator_client.post(f"/coordinator/alerts/{fresh.id}/acknowledge")
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), new.patient_id)
    assert "2 h ago" in row
    assert "Severe pain (acknowledged)" in row
    assert "acknowledged by Coordinator of Test Spine Clinic" in row


def test_it_assigns_an_alert_to_me_and_comes_back_to_the_same_list_and_row(
    session, coordinator_client, coordinator, flagged
):
    patient, alert = flagged
    response = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/assign",
        data={"assignee": "me", "owner": "", "back": "has_alerts=1&procedure=kyphoplasty"},
    )
    assert response.status_code == 302
    assert response.location == (
        f"/coordinator/?has_alerts=1&procedure=kyphoplasty#patient-{patient.id}"
    )
    session.expire_all()
    assert (alert.assigned_to_id, alert.assigned_at) == (coordinator.id, NOW)
    event = session.scalars(select(AlertEvent).where(AlertEvent.kind == "assigned")).one()
    assert (event.user_id, event.summary) == (
        coordinator.id,
        "Assigned to Coordinator of Test Spine Clinic",
    )
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.assign")).one()
    assert (audit.actor_user_id, audit.patient_id) == (coordinator.id, patient.id)
    assert audit.detail == {
        "alert_id": alert.id,
        "to_user_id": coordinator.id,
        "from_user_id": None,
    }

    page = coordinator_client.get(response.location).get_data(as_text=True)
    assert f"Owner of Pain 8/10 on day 4 ({patient.name}): you." in page
    row = row_of(page, patient.id)
    assert '<option value="me" selected>Me</option>' in row
    assert f'name="owner" value="{coordinator.id}"' in row


def test_it_assigns_to_a_colleague_then_to_nobody(
    session, coordinator_client, coordinator, colleague, flagged
):
    patient, alert = flagged
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), patient.id)
    # A colleague of the clinic is offered; the owner shown is nobody yet.
    assert f'<option value="{colleague.id}" >Robin Colleague</option>' in row
    assert '<option value="nobody" selected>Nobody yet</option>' in row

    url = f"/coordinator/alerts/{alert.id}/assign"
    to_colleague = {"assignee": str(colleague.id), "owner": "", "back": ""}
    assert coordinator_client.post(url, data=to_colleague).status_code == 302
    session.expire_all()
    assert alert.assigned_to_id == colleague.id
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), patient.id)
    assert f'<option value="{colleague.id}" selected>' in row

    to_nobody = {"assignee": "nobody", "owner": str(colleague.id), "back": ""}
    assert coordinator_client.post(url, data=to_nobody).status_code == 302
    session.expire_all()
    assert (alert.assigned_to_id, alert.assigned_at) == (None, None)
    kinds = session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)).all()
    assert kinds[-2:] == ["assigned", "unassigned"]


def test_the_owner_filters_list_my_alerts_and_alerts_nobody_owns(
    session, coordinator_client, coordinator, colleague, enrolled
):
    mine = enrolled(days_ago=3, name="Mine Patient").plan
    theirs = enrolled(days_ago=3, name="Their Patient").plan
    unowned = enrolled(days_ago=3, name="Unowned Patient").plan
    enrolled(days_ago=3, name="Calm Patient")
    both = enrolled(days_ago=3, name="Both Patient").plan
    for plan, owner in ((mine, coordinator), (theirs, colleague), (unowned, None)):
        alert = open_alert(session, plan, "severe_pain", "high", "Pain 8/10")
        alert.assigned_to_id = owner.id if owner else None
    open_alert(session, both, "severe_pain", "high", "Pain 8/10").assigned_to_id = coordinator.id
    open_alert(session, both, "missed_checkin", "normal", "No check-in")
    resolved = open_alert(session, theirs, "worsening", "high", "Worse")
    resolved.status, resolved.assigned_to_id = "resolved", coordinator.id
    session.commit()

    def listed(query: str) -> list[str]:
        return sorted(names(coordinator_client.get("/coordinator/?" + query)))

    assert listed("owner=mine") == ["Both Patient", "Mine Patient"]
    assert listed("owner=nobody") == ["Both Patient", "Unowned Patient"]
    assert listed("owner=mine&procedure=vertebroplasty") == []
    # A colleague's "mine" is their own.
    as_colleague = sign_in_as(coordinator_client.application.test_client(), colleague)
    assert sorted(names(as_colleague.get("/coordinator/?owner=mine"))) == ["Their Patient"]
    page = coordinator_client.get("/coordinator/?owner=mine").get_data(as_text=True)
    assert '<option value="mine" selected>Mine</option>' in page


@pytest.mark.parametrize("owner", ["everyone", "<script>", "MINE"])
def test_it_explains_a_bad_owner_filter(coordinator_client, flagged, owner):
    response = coordinator_client.get("/coordinator/", query_string={"owner": owner})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose whose alerts to list from the list." in page
    assert "<script>" not in page
    assert names(response) == ["Jo Sample"]


def test_it_acknowledges_from_the_list_and_comes_back_to_the_same_page(
    app, session, coordinator_client, coordinator, flagged, enrolled
):
    app.config["TRIAGE_PAGE_SIZE"] = 1
    enrolled(days_ago=2, name="Zed Later")
    patient, alert = flagged
    response = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/acknowledge", data={"back": "page=1&owner=mine"}
    )
    assert response.status_code == 302
    assert response.location == f"/coordinator/?owner=mine#patient-{patient.id}"
    session.expire_all()
    assert (alert.status, alert.acknowledged_by_id) == ("acknowledged", coordinator.id)
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.acknowledge"))
    assert audit.one().detail == {"alert_id": alert.id, "source": "triage"}
    back = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/assign",
        data={"assignee": "me", "owner": "", "back": "page=2&min_day=0"},
    )
    assert back.location == f"/coordinator/?min_day=0&page=2#patient-{patient.id}"


@pytest.mark.parametrize(
    "back",
    ["//evil.example/", "https://evil.example/?page=2", "page=%0d%0aX: y", "owner=<b>&page=-3"],
)
def test_the_way_back_keeps_only_the_lists_own_filters(coordinator_client, flagged, back):
    patient, alert = flagged
    response = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/assign", data={"assignee": "me", "back": back}
    )
    assert response.status_code == 302
    assert response.location == f"/coordinator/#patient-{patient.id}"


def test_an_alert_or_colleague_of_another_clinic_is_a_404_and_nothing_changes(
    session, coordinator_client, other_clinic, make_user, flagged, enroll_patient
):
    _patient, alert = flagged
    stranger = make_user(other_clinic, "coordinator", email="stranger@example.org")
    before = counts(session)
    url = f"/coordinator/alerts/{alert.id}/assign"
    assert coordinator_client.post(url, data={"assignee": str(stranger.id)}).status_code == 404
    assert coordinator_client.post(url, data={"assignee": "999999"}).status_code == 404

    theirs = enroll_patient(clinic=other_clinic, name="Their Patient")
    their_alert = open_alert(session, theirs.plan, "severe_pain", "high", "Pain 9/10")
    for action, data in (("assign", {"assignee": "me"}), ("acknowledge", {})):
        response = coordinator_client.post(
            f"/coordinator/alerts/{their_alert.id}/{action}", data=data
        )
        assert response.status_code == 404
    assert coordinator_client.post("/coordinator/alerts/424242/acknowledge").status_code == 404
    session.expire_all()
    assert (their_alert.status, their_alert.assigned_to_id) == ("open", None)
    assert counts(session) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose who will own the alert from the list."),
        ({"assignee": "casey"}, "Choose who will own the alert from the list."),
        ({"assignee": "-1"}, "Choose who will own the alert from the list."),
        ({"assignee": "me", "owner": "x"}, "The list was out of date."),
    ],
)
def test_bad_assign_input_is_explained_on_the_list_and_nothing_is_stored(
    session, coordinator_client, flagged, data, message
):
    patient, alert = flagged
    before = counts(session)
    response = coordinator_client.post(f"/coordinator/alerts/{alert.id}/assign", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert message in row_of(page, patient.id)  # shown on the row too
    assert counts(session) == before


def test_an_inactive_colleague_cannot_be_given_an_alert(
    session, coordinator_client, colleague, flagged
):
    patient, alert = flagged
    colleague.is_active = False
    session.commit()
    row = row_of(coordinator_client.get("/coordinator/").get_data(as_text=True), patient.id)
    assert f'<option value="{colleague.id}"' not in row
    before = counts(session)
    response = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/assign", data={"assignee": str(colleague.id)}
    )
    assert response.status_code == 400
    assert "can no longer sign in. Choose someone else." in response.get_data(as_text=True)
    assert counts(session) == before


# --- concurrent changes --------------------------------------------------------------------


def _resolve_elsewhere(app, alert_id: int, user_id: int) -> None:
    """Another coordinator resolves the alert, in their own session and transaction."""
    with session_factory(app)() as other:
        other.execute(
            update(Alert)
            .where(Alert.id == alert_id)
            .values(status="resolved", resolved_at=NOW, resolved_by_id=user_id, resolution_note="x")
        )
        other.commit()


def test_assigning_an_alert_resolved_meanwhile_changes_nothing(
    app, session, coordinator, colleague, flagged
):
    _, alert = flagged
    assert alert.status == "open"  # as loaded, before a colleague resolves it
    _resolve_elsewhere(app, alert.id, colleague.id)
    # ``alert`` is stale (still "open" in this session): only the UPDATE's condition can tell.
    result = assign_alert(
        session,
        alert,
        assignee=coordinator,
        expected_owner_id=None,
        by_user_id=coordinator.id,
        now=NOW,
    )
    assert result is Assigned.RESOLVED
    session.commit()
    session.expire_all()
    assert (alert.status, alert.assigned_to_id) == ("resolved", None)
    assert session.scalar(select(func.count()).select_from(AlertEvent)) == 0


def test_two_people_assigning_at_once_the_second_is_told_and_changes_nothing(
    session, coordinator, colleague, flagged
):
    _, alert = flagged
    first = assign_alert(
        session, alert, assignee=colleague, expected_owner_id=None, by_user_id=colleague.id, now=NOW
    )
    session.commit()
    # The second had the same page, showing no owner.
    second = assign_alert(
        session,
        alert,
        assignee=coordinator,
        expected_owner_id=None,
        by_user_id=coordinator.id,
        now=NOW,
    )
    session.commit()
    assert (first, second) == (Assigned.DONE, Assigned.TAKEN)
    session.expire_all()
    assert alert.assigned_to_id == colleague.id
    assert session.scalar(select(func.count()).select_from(AlertEvent)) == 1


def test_the_list_says_who_resolved_an_alert_meanwhile(
    app, session, coordinator_client, colleague, flagged
):
    _patient, alert = flagged
    _resolve_elsewhere(app, alert.id, colleague.id)
    before = counts(session)
    for action, data in (("assign", {"assignee": "me", "owner": ""}), ("acknowledge", {})):
        response = coordinator_client.post(f"/coordinator/alerts/{alert.id}/{action}", data=data)
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        assert "Robin Colleague resolved this alert at" in page
        assert "after the list was shown. Nothing was changed." in page
    assert counts(session) == before


def test_the_list_says_who_took_an_alert_meanwhile(session, coordinator_client, colleague, flagged):
    _, alert = flagged
    alert.assigned_to_id = colleague.id
    session.commit()
    response = coordinator_client.post(
        f"/coordinator/alerts/{alert.id}/assign", data={"assignee": "me", "owner": ""}
    )
    assert response.status_code == 409
    assert "Robin Colleague owns this alert now" in response.get_data(as_text=True)
    session.expire_all()
    assert alert.assigned_to_id == colleague.id


def test_the_demo_morning_has_owners_and_calls_and_is_played_once(app, session, templates):
    from tracker.care.work_queue import demo_work_queue
    from tracker.cli import demo
    from tracker.core.models import ContactLogEntry, Patient, User
    from tracker.plans.warning_signs import load_signs, signs_path

    signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
    clinic, _ = demo.seed(session, templates, signs, now=NOW, grace_days=14)
    for _ in range(2):  # whether or not the demo already did: the same morning
        demo_work_queue(session, clinic, NOW)
        session.commit()
    owners = session.execute(
        select(Patient.name, Alert.rule, User.name)
        .join(Alert, Alert.patient_id == Patient.id)
        .join(User, User.id == Alert.assigned_to_id)
        .order_by(Patient.name)
    ).all()
    assert [tuple(row) for row in owners] == [
        ("Dmitri Vance", "red_flag", "Casey Coordinator"),
        ("Jonah Brandt", "worsening", "Alex Admin"),
        ("Wanda Fischer", "severe_pain", "Casey Coordinator"),
    ]
    calls = session.execute(
        select(Patient.name, ContactLogEntry.outcome, ContactLogEntry.contacted_at)
        .join(Patient, Patient.id == ContactLogEntry.patient_id)
        .order_by(ContactLogEntry.contacted_at)
    ).all()
    assert [(name, outcome, NOW - at) for name, outcome, at in calls] == [
        ("Jonah Brandt", "left_message", timedelta(hours=26)),
        ("Dmitri Vance", "no_answer", timedelta(hours=2)),
        ("Wanda Fischer", "spoke", timedelta(minutes=20)),
    ]
    for alert in session.scalars(select(Alert).where(Alert.assigned_to_id.is_not(None))):
        assert alert.assigned_at >= alert.raised_at


def test_the_lists_forms_need_a_csrf_token(database_url, clinic, coordinator, flagged, session):
    from tests.conftest import make_test_app

    csrf_app = make_test_app(database_url, FIXED_NOW=NOW)
    try:
        client = sign_in_as(csrf_app.test_client(), coordinator)
        patient, alert = flagged
        before = counts(session)
        for path, data in (
            (f"/coordinator/alerts/{alert.id}/acknowledge", {}),
            (f"/coordinator/alerts/{alert.id}/assign", {"assignee": "me"}),
            (f"/coordinator/patients/{patient.id}/contacts", {"outcome": "called"}),
        ):
            assert client.post(path, data=data).status_code == 400, path
        assert counts(session) == before
        session.expire_all()
        assert alert.status == "open"
        # With the token the list's own forms carry, the same post goes through.
        page = client.get("/coordinator/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        done = client.post(
            f"/coordinator/alerts/{alert.id}/acknowledge", data={"csrf_token": token}
        )
        assert done.status_code == 302
    finally:
        # The tables are emptied by the ``app`` fixture, which shares the database.
        csrf_app.extensions["tracker.engine"].dispose()
