"""The audit log in words: sentences for each action, a fallback for new codes, the raw
record one click away, and filters by patient name and by days in the clinic's zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from sqlalchemy import select

from tests.conftest import NOW
from tests.coordinator.conftest import open_alert
from tracker.care.audit_words import Names, sentence
from tracker.core.audit import record
from tracker.core.models import AuditEvent, User


def _text(response) -> str:
    page = response.get_data(as_text=True)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _event(action: str, actor_type: str = "user", **fields) -> AuditEvent:
    return AuditEvent(
        at=NOW,
        action=action,
        actor_type=actor_type,
        actor_user_id=fields.pop("actor_user_id", 1 if actor_type == "user" else None),
        actor_patient_id=fields.pop("actor_patient_id", None),
        patient_id=fields.pop("patient_id", 7),
        detail=fields.pop("detail", {}),
    )


NAMES = Names(
    users={1: "Casey", 2: "Morgan Lee"},
    patients={7: "Jo Sample", 8: "James Brooks"},
    alert_rules={30: "red_flag", 31: "severe_pain"},
)


@pytest.mark.parametrize(
    ("made", "words"),
    [
        (_event("patient.view"), "Casey viewed Jo Sample's record."),
        (
            _event("alert.acknowledge", detail={"alert_id": 30, "note": None}),
            "Casey acknowledged the red-flag alert for Jo Sample.",
        ),
        (
            _event("alert.resolve", detail={"alert_id": 31, "note": "Called"}),
            "Casey resolved the severe-pain alert for Jo Sample.",
        ),
        (
            _event("alert.assign", detail={"alert_id": 30, "to_user_id": 1}),
            "Casey took the red-flag alert for Jo Sample.",
        ),
        (
            _event("alert.assign", detail={"alert_id": 30, "to_user_id": 2}),
            "Casey gave the red-flag alert for Jo Sample to Morgan Lee.",
        ),
        (
            _event("alert.assign", detail={"alert_id": 30, "to_user_id": None}),
            "Casey left the red-flag alert for Jo Sample with no owner.",
        ),
        (
            _event("contact.log", detail={"contact_id": 4, "outcome": "no_answer"}),
            "Casey logged a contact with Jo Sample: called · no answer.",
        ),
        (
            _event("alert.acknowledge", detail={"alert_id": 99}),
            "Casey acknowledged an alert for Jo Sample.",
        ),
        (_event("patient.view", patient_id=8), "Casey viewed James Brooks' record."),
        (_event("patient.enrol", detail={"plan_id": 3}), "Casey enrolled Jo Sample."),
        (
            _event(
                "triage.view",
                patient_id=None,
                detail={"page": 2, "filters": {"mine": "1"}, "patient_ids": [1, 2, 3]},
            ),
            "Casey viewed the triage list (filtered), page 2: 3 patients listed.",
        ),
        (
            _event(
                "plan.status", detail={"change": {"status": {"from": "active", "to": "paused"}}}
            ),
            "Casey paused Jo Sample's plan.",
        ),
        (
            _event("link.rotate", detail={"via": "plan_card"}),
            "Casey issued a new personal link for Jo Sample on the plan card.",
        ),
        (
            _event("link.revoke", detail={"revoked": 1}),
            "Casey turned off Jo Sample's personal link.",
        ),
        (
            _event("link.send", detail={"channel": "webhook", "to": "(555) 201-0142"}),
            "Casey sent Jo Sample's personal link by text message to (555) 201-0142.",
        ),
        (
            _event("patient.link_sign_in", "patient", actor_patient_id=7),
            "Jo Sample opened their personal link.",
        ),
        (
            _event(
                "alert.page_sent",
                "system",
                detail={"alert_id": 30, "contact": "Nurse Ana", "channel": "email"},
            ),
            "The system paged Nurse Ana by email about the red-flag alert for Jo Sample.",
        ),
        (
            _event("user.deactivate", patient_id=None, actor_user_id=1, detail={"user_id": 2}),
            "Casey turned off the account of Morgan Lee.",
        ),
        (
            _event("user.password_set", "system", patient_id=None, detail={"user_id": 2}),
            "An operator set a new password for Morgan Lee.",
        ),
        (
            _event(
                "clinic.update",
                patient_id=None,
                detail={"changes": {"severe_pain_threshold": {"from": 7, "to": 8}}},
            ),
            "Casey changed the clinic settings: severe pain threshold.",
        ),
        (_event("patient.view", actor_user_id=5), "A former user viewed Jo Sample's record."),
        # Codes with no sentence (yet) still read as words, and say whom they are about.
        (
            _event("visit.booked", detail={"on": "2026-12-01"}),
            "Casey: visit booked (about Jo Sample).",
        ),
        (_event("report.weekly", "system", patient_id=None), "The system: report weekly."),
        # A detail of an unexpected shape falls back rather than failing the page.
        (_event("plan.status", detail={"change": "odd"}), "Casey: plan status (about Jo Sample)."),
    ],
)
def test_each_action_reads_as_a_sentence(made, words):
    assert sentence(made, NAMES) == words


def test_the_audit_page_shows_what_casey_did_in_words(
    app, admin_client, make_user, clinic, session, enrolled
):
    from tests.coordinator.conftest import sign_in_as

    casey = make_user(clinic, email="casey@example.org")
    casey.name = "Casey"
    session.commit()
    jo = enrolled(days_ago=3, name="Jo Sample")
    alert = open_alert(session, jo.plan, "red_flag", "urgent", "Warning signs")
    client = sign_in_as(app.test_client(), casey)
    client.get(f"/coordinator/patients/{jo.patient.id}")
    client.post(
        f"/coordinator/patients/{jo.patient.id}/alerts/{alert.id}/acknowledge",
        data={"note": "Calling now"},
    )
    response = admin_client.get("/coordinator/admin/audit")
    text = _text(response)
    assert "Casey viewed Jo Sample's record." in text
    assert "Casey acknowledged the red-flag alert for Jo Sample." in text
    # Times in the clinic's zone with its abbreviation, the raw record in a <details>.
    assert "10:00 AM EST" in text
    page = response.get_data(as_text=True)
    assert page.count("<details>") == 2
    assert "<code>alert.acknowledge</code>" in page
    assert "&#34;note&#34;: &#34;Calling now&#34;" in page or "Calling now" in html.unescape(page)


def _at(session, clinic_id, patient_id, at: datetime, action: str = "patient.view") -> None:
    record(
        session,
        now=at,
        action=action,
        actor_type="system",
        clinic_id=clinic_id,
        patient_id=patient_id,
        detail={"marker": at.isoformat()},
    )


def _markers(admin_client, **args) -> list[str]:
    response = admin_client.get("/coordinator/admin/audit", query_string=args)
    assert response.status_code == 200, _text(response)
    return re.findall(r"&#34;marker&#34;: &#34;([^&]+)&#34;", response.get_data(as_text=True))


def test_it_filters_by_part_of_a_patients_name(admin_client, session, clinic, enrolled):
    jo = enrolled(days_ago=2, name="Jo Sample").patient
    joan = enrolled(days_ago=2, name="Joan Rivers").patient
    ann = enrolled(days_ago=2, name="Ann 100% Sure").patient
    for n, patient in enumerate((jo, joan, ann)):
        _at(session, clinic.id, patient.id, NOW - timedelta(minutes=n))
    session.commit()
    assert len(_markers(admin_client, patient="jo")) == 2  # Jo Sample and Joan Rivers
    assert _markers(admin_client, patient="  SAMPLE ") == [NOW.isoformat()]
    # LIKE wildcards are letters here: "%" finds only the name with a "%" in it.
    assert len(_markers(admin_client, patient="%")) == 1
    assert _markers(admin_client, patient="_") == []
    assert _markers(admin_client, patient="Nobody") == []


def test_it_filters_by_days_in_the_clinics_zone_exactly(admin_client, session, clinic, enrolled):
    jo = enrolled(days_ago=30, name="Jo Sample").patient
    # New York: Saturday 21 November starts at 05:00 UTC (EST). Sunday 1 November, the day
    # summer time ends, runs 25 hours: from 04:00 UTC to 05:00 UTC the next day.
    instants = [
        datetime(2026, 11, 21, 4, 59, 59, tzinfo=UTC),  # Fri 20 Nov, 23:59:59
        datetime(2026, 11, 21, 5, 0, tzinfo=UTC),  # Sat 21 Nov, 00:00
        datetime(2026, 11, 1, 3, 59, 59, tzinfo=UTC),  # Sat 31 Oct, 23:59:59 EDT
        datetime(2026, 11, 1, 4, 0, tzinfo=UTC),  # Sun 1 Nov, 00:00 EDT
        datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC),  # Sun 1 Nov, 23:59:59 EST
        datetime(2026, 11, 2, 5, 0, tzinfo=UTC),  # Mon 2 Nov, 00:00 EST
    ]
    for at in instants:
        _at(session, clinic.id, jo.id, at)
    session.commit()
    iso = [at.isoformat() for at in instants]
    assert _markers(admin_client, start="2026-11-21", end="2026-11-21") == [iso[1]]
    assert _markers(admin_client, start="2026-11-20", end="2026-11-20") == [iso[0]]
    assert _markers(admin_client, start="2026-11-01", end="2026-11-01") == [iso[4], iso[3]]
    assert _markers(admin_client, end="2026-10-31") == [iso[2]]
    assert _markers(admin_client, start="2026-11-02") == [iso[1], iso[0], iso[5]]
    assert len(_markers(admin_client, patient="sample", start="2026-11-01")) == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"start": "21/11/2026"}, "Enter the first date as year-month-day, like 2026-11-21."),
        ({"end": "2026-02-30"}, "Enter the last date as year-month-day, like 2026-11-21."),
        (
            {"start": "2026-11-21", "end": "2026-11-20"},
            "The last day is before the first day: swap them or change one.",
        ),
    ],
)
def test_bad_dates_are_refused_beside_their_field(admin_client, args, message):
    response = admin_client.get("/coordinator/admin/audit", query_string=args)
    assert response.status_code == 400
    assert message in _text(response)
    field = "end" if "end" in args else "start"
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.get_data(as_text=True))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patient=st.text(max_size=120),
    start=st.one_of(st.text(max_size=25), st.dates().map(lambda d: d.isoformat())),
    end=st.one_of(st.text(max_size=25), st.dates().map(lambda d: d.isoformat())),
    page=st.text(max_size=8),
)
def test_any_filter_gives_a_page_or_a_message(admin_client, patient, start, end, page):
    response = admin_client.get(
        "/coordinator/admin/audit",
        query_string={"patient": patient, "start": start, "end": end, "page": page},
    )
    assert response.status_code in (200, 400)


def test_pages_keep_the_filters_and_cost_the_same_statements(
    app, admin_client, session, clinic, enrolled, make_user
):
    engine = app.extensions["tracker.engine"]

    def populate(count: int) -> None:
        for i in range(count):
            patient = enrolled(days_ago=2, name=f"Sample {i:03d}")
            user = make_user(clinic, email=f"user{len(session.scalars(select(User)).all())}@x.org")
            alert = open_alert(session, patient.plan, "red_flag", "urgent", "Signs")
            record(
                session,
                now=NOW - timedelta(minutes=i),
                action="alert.acknowledge",
                actor_type="user",
                actor_user_id=user.id,
                clinic_id=clinic.id,
                patient_id=patient.patient.id,
                detail={"alert_id": alert.id},
            )
        session.commit()

    def statements(**args) -> list[str]:
        seen: list[str] = []

        def before(conn, cursor, statement, *rest):
            seen.append(statement)

        sa_event.listen(engine, "before_cursor_execute", before)
        try:
            response = admin_client.get("/coordinator/admin/audit", query_string=args)
            assert response.status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", before)
        return seen

    populate(3)
    small = statements(patient="sample", start="2026-11-21")
    populate(57)
    large = statements(patient="sample", start="2026-11-21")
    assert len(small) == len(large)
    response = admin_client.get(
        "/coordinator/admin/audit", query_string={"patient": "sample", "start": "2026-11-21"}
    )
    page = response.get_data(as_text=True)
    assert "60 events about patients whose name contains" in html.unescape(page)
    assert "Page 1 of 2" in page
    assert 'href="/coordinator/admin/audit?patient=sample&amp;start=2026-11-21&amp;page=2"' in page
    second = admin_client.get(
        "/coordinator/admin/audit",
        query_string={"patient": "sample", "start": "2026-11-21", "page": 2},
    )
    text = _text(second)
    # 60 events, 50 a page: the last 10, each a sentence and its raw record.
    assert text.count("Raw record of:") == 10
    assert text.count("acknowledged the red-flag alert for Sample") == 20
