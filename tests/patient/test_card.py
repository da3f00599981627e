"""The printable plan and warning-sign card on the patient's side (/me/card), and the pure
card builder (tracker/plans/card.py): phases by day, limits with end dates from the
patient's own plan (overrides applied), red flags, the clinic's numbers."""

from __future__ import annotations

import itertools
from datetime import date

from tests.conftest import NOW
from tests.patient.conftest import text_of
from tracker.core.models import Clinic
from tracker.plans.agenda import plan_activities
from tracker.plans.card import build_card, link_qr_svg, office_hours_text, plan_phases
from tracker.plans.warning_signs import WarningSign


def _card(plan, clinic, signs=None, today=date(2026, 11, 21)):
    signs = signs or (
        WarningSign("chest_pain", "Do you have chest pain?", "call_911"),
        WarningSign("fever", "Do you have a fever?", "call_team"),
    )
    return build_card(plan, clinic, "Pat Example", signs, today=today)


def test_the_patient_opens_their_card_from_progress(patient_client):
    progress = patient_client.get("/me/progress")
    assert 'href="/me/card"' in progress.get_data(as_text=True)
    response = patient_client.get("/me/card")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = text_of(response)
    assert "Your recovery plan and warning signs" in text
    assert "Pat Example" in text
    # The limits with their end dates: procedure on Fri 20 Nov 2026, lifting until day 41+.
    assert "No heavy lifting" in text
    assert "Until" in text
    # The red flags, with 911 and the clinic's number.
    assert "Call 911 now" in text
    assert "Call your care team today" in text
    assert "555-0142" in text
    # No QR code on the patient's side: the link is never stored, and a session may not
    # mint one. The card says where the link is instead.
    html = response.get_data(as_text=True)
    assert "<svg" not in html.split('class="plan-card"', 1)[1].split("</article>", 1)[0]
    assert "use the link in your reminder messages" in text


def test_the_card_needs_a_signed_in_patient(client, enrolled):
    response = client.get("/me/card")
    assert response.status_code in (302, 401, 404)
    assert "Your recovery plan and warning signs" not in response.get_data(as_text=True)


def test_limits_follow_the_patients_own_plan_with_its_overrides(enrolled, session, clinic):
    plan = enrolled.plan
    lifting = next(a for a in plan_activities(plan) if a.key == "no_heavy_lifting")
    plan.overrides = {"no_heavy_lifting": {"end_day": lifting.end_day + 14}}
    session.commit()
    card = _card(plan, clinic)
    limit = next(x for x in card.limits if x.title == "No heavy lifting")
    expected_last = date.fromordinal(plan.procedure_date.toordinal() + lifting.end_day + 14)
    assert f"{expected_last.day} {expected_last:%b}" in limit.until
    assert f"(day {lifting.end_day + 14})" in limit.until
    # The day-by-day phases carry the longer limit too.
    last_with_lifting = max(
        p.last_day for p in card.phases if any(i.title == "No heavy lifting" for i in p.do_not)
    )
    assert last_with_lifting == min(lifting.end_day + 14, plan.duration_days - 1)


def test_phases_cover_the_plan_without_gaps_and_say_what_to_do_and_not(enrolled, clinic):
    plan = enrolled.plan
    phases = plan_phases(plan, plan_activities(plan))
    assert phases[0].first_day == 0
    for before, after in itertools.pairwise(phases):
        assert before.last_day < after.first_day
        assert (before.do, before.do_not) != (after.do, after.do_not) or (
            before.last_day + 1 != after.first_day
        )
    first = phases[0]
    assert "Rest in bed" in [i.title for i in first.do_not]
    assert "Log your pain score" in [i.title for i in first.do]
    # A check-in that turns weekly says on which dates.
    weekly = [i for p in phases for i in p.do if i.detail.startswith("once a week")]
    assert weekly and all(":" in i.detail for i in weekly)


def test_red_flags_and_numbers(enrolled, clinic, session):
    clinic.after_hours_phone = "555-0199"
    clinic.office_hours = {
        "mon": ["08:00", "17:00"],
        "tue": ["08:00", "17:00"],
        "sat": ["09:00", "12:30"],
    }
    session.commit()
    card = _card(enrolled.plan, clinic)
    assert card.call_911 == ("Do you have chest pain?",)
    assert card.call_team == ("Do you have a fever?",)
    assert card.flags_as_labels is False
    assert card.numbers.daytime == "555-0142"
    assert card.numbers.after_hours == "555-0199"
    assert (
        card.numbers.office_hours == "Mon\u2013Tue 8:00 am\u20135:00 pm, Sat 9:00 am\u201312:30 pm"
    )


def test_short_labels_are_used_when_every_sign_has_one(enrolled, clinic):
    signs = (
        WarningSign("chest_pain", "Do you have chest pain?", "call_911", label="chest pain"),
        WarningSign("fever", "Fever?", "call_team", label="a fever of 100.4 °F"),
    )
    card = _card(enrolled.plan, clinic, signs)
    assert card.flags_as_labels is True
    assert card.call_911 == ("Chest pain",)
    assert card.call_team == ("A fever of 100.4 °F",)


def test_office_hours_default_to_weekdays():
    clinic = Clinic(name="X", phone="1", timezone="America/New_York", created_at=NOW)
    clinic.office_hours = None
    assert office_hours_text(clinic) == "Mon\u2013Fri 8:00 am\u20135:00 pm"
    clinic.office_hours = {}
    assert office_hours_text(clinic) == ""


def test_the_qr_code_is_inline_svg_with_a_name_and_no_inline_style():
    svg = str(link_qr_svg("http://localhost/p/" + "a" * 43))
    assert svg.startswith('<svg role="img" aria-label="QR code of your personal link"')
    assert "style=" not in svg and "<script" not in svg
    assert 'class="qr"' in svg and "viewBox" in svg
