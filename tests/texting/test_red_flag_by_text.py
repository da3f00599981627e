"""A red flag by text, end to end: the answer comes in, the instruction goes out at once,
the alert is raised exactly as from the web form, and the on-call contact is paged (out of
hours) through the same gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.texting.conftest import NUMBER, at, texts, tick
from tracker.core.models import Alert, AlertEvent, OnCallContact, Page, SymptomReport
from tracker.plans.warning_signs import current_signs, safety_911

SAFETY = safety_911(current_signs())
# Monday 2026-11-23 22:40 in New York (out of office hours), and 10:00 (open until 17:00).
OUT_OF_HOURS = datetime(2026, 11, 24, 3, 40, tzinfo=UTC)
IN_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NURSE = "+15552010199"


def on_call(session, clinic) -> OnCallContact:
    clinic.after_hours_phone = "555-0199"
    contact = OnCallContact(
        clinic_id=clinic.id,
        position=1,
        name="Nurse Ana",
        channel="webhook",
        address=NURSE,
        created_at=OUT_OF_HOURS,
    )
    session.add(contact)
    session.commit()
    return contact


def test_a_911_sign_by_text_is_answered_at_once_alerted_and_paged(
    app, fake, gateway_server, session, patient
):
    contact = on_call(session, patient.plan.clinic)
    at(app, OUT_OF_HOURS)
    fake.text_from(NUMBER, "5")
    replies = fake.text_from(NUMBER, "1")  # 1: chest pain now

    # Reply out: what to do, then who knows, true at this moment (a page is queued).
    assert replies == [
        "Call 911 now. You told us about: chest pain.",
        # The patient page's own words (escalation/notices.py).
        "We are paging the on-call nurse now. If you do not hear back soon, call our "
        "after-hours number: 555-0199.",
    ]
    # Stored as the web form stores a report: the answers to the signs this text asked.
    report = session.scalars(select(SymptomReport)).one()
    assert report.severity == "call_911"
    assert report.answers["chest_pain"] is True
    assert [k for k, v in report.answers.items() if v] == ["chest_pain"]
    assert report.local_day.isoformat() == "2026-11-23"

    # Alert: the red-flag rule, critical (a 911 sign), as raise_red_flag makes it.
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.urgency, alert.status) == ("red_flag", "critical", "open")
    assert alert.summary == "Warning signs on day 3: chest pain (patient told to call 911)"
    assert alert.detail["symptom_report_id"] == report.id

    # Page queued at once (in the same transaction as the report), to the on-call contact.
    page = session.scalars(select(Page)).one()
    assert (page.contact_id, page.status, page.step) == (contact.id, "pending", 1)
    kinds = [e.kind for e in session.scalars(select(AlertEvent).order_by(AlertEvent.id))]
    assert kinds == ["raised", "page_queued"]

    # Nothing more is asked today: the last text asked no question.
    inbound = texts(session, direction="in")[-1]
    assert inbound.meaning == "Warning signs (1 of 2): chest pain (told to call 911)"
    assert inbound.detail["alert_id"] == alert.id
    assert texts(session, direction="out")[-1].question is None

    # The tick sends it through the same gateway, to the nurse's phone.
    tick(app, OUT_OF_HOURS)
    (paged,) = [t for t in fake.conversation(NURSE) if t.kind == "page"]
    assert paged.body.startswith("CRITICAL: Pat Example, (555) 201-0142")
    session.expire_all()
    assert session.get(Page, page.id).status == "sent"


def test_a_care_team_sign_by_text_in_office_hours_says_to_call_them_today(
    app, fake, session, patient
):
    at(app, IN_HOURS)
    fake.text_from(NUMBER, "3")
    fake.text_from(NUMBER, "0")
    replies = fake.text_from(NUMBER, "1")  # part 2, 1: the needle spot is bleeding
    assert replies == [
        "Please call your care team today at 555-0142. You told us about: bleeding where "
        f"the needle went in. {SAFETY}",
        "Your care team can see this on their list now. They are open until 5:00 pm. If you "
        "do not hear from them soon, call 555-0142.",
    ]
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.urgency) == ("red_flag", "urgent")
    assert session.scalars(select(Page)).all() == []  # in hours: the list, not a page


def test_a_911_sign_after_a_care_team_one_makes_the_alert_critical(
    app, fake, gateway_server, session, patient
):
    on_call(session, patient.plan.clinic)
    at(app, IN_HOURS)
    fake.text_from(NUMBER, "3")
    fake.text_from(NUMBER, "5")  # part 1, 5: a fever (call the care team)
    at(app, OUT_OF_HOURS + timedelta(days=1))  # the next evening: asked again
    fake.text_from(NUMBER, "2")
    replies = fake.text_from(NUMBER, "4")  # part 1, 4: new weak legs (call 911)
    assert replies[0] == "Call 911 now. You told us about: new leg weakness."
    (alert,) = session.scalars(select(Alert)).all()
    assert alert.urgency == "critical"
    assert alert.summary == (
        "Warning signs on day 4: leg weakness (patient told to call 911); earlier: fever"
    )
