"""Text messages: counted in GSM-7 / UCS-2 segments (SPEC section 6), each with the 911
safety line, each within ``MAX_SEGMENTS``; reminders never list bed rest under "avoid"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from tracker.core.models import Alert, Clinic, OnCallContact, Page, Reminder
from tracker.escalation.paging import compose_page
from tracker.plans.warning_signs import current_signs, safety_911, signs_911
from tracker.reminders.channels import WebhookChannel
from tracker.reminders.messages import compose
from tracker.reminders.sms_text import (
    GSM7,
    MAX_SEGMENTS,
    UCS2,
    fit,
    gsm_friendly,
    shorten,
    sms_segments,
    sms_units,
)

# --- counting segments at the exact boundaries ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (GSM7, 1)),
        ("a" * 160, (GSM7, 1)),
        ("a" * 161, (GSM7, 2)),
        ("a" * 306, (GSM7, 2)),  # 2 x 153
        ("a" * 307, (GSM7, 3)),
        ("a" * 459, (GSM7, 3)),
        # Extension-table characters take two septets.
        ("a" * 158 + "€", (GSM7, 1)),
        ("a" * 159 + "€", (GSM7, 2)),
        ("{}" * 40, (GSM7, 1)),  # 80 characters, 160 septets
        ("{}" * 40 + "[", (GSM7, 2)),
        # GSM-7's own accented letters and Greek capitals stay GSM-7.
        ("é" * 160, (GSM7, 1)),
        ("ΔΦΓΛΩΠΨΣΘΞ" * 16, (GSM7, 1)),
        # One character outside GSM-7 makes the whole message UCS-2.
        ("a" * 69 + "ж", (UCS2, 1)),
        ("a" * 70 + "ж", (UCS2, 2)),
        ("a" * 159 + "ê", (UCS2, 3)),  # 160 characters: 1 GSM-7 segment, 3 in UCS-2
        ("a" * 133 + "°", (UCS2, 2)),  # 134 = 2 x 67
        ("a" * 134 + "°", (UCS2, 3)),
        ("ж" * 70, (UCS2, 1)),
        ("ж" * 71, (UCS2, 2)),
        # A character outside the BMP is two UTF-16 units.
        ("a" * 68 + "🙂", (UCS2, 1)),
        ("a" * 69 + "🙂", (UCS2, 2)),
    ],
)
def test_sms_segments_at_the_boundaries(text, expected):
    assert sms_segments(text) == expected


def test_units_count_septets_or_utf16_units():
    assert sms_units("a€") == (GSM7, 3)
    assert sms_units("a°") == (UCS2, 2)
    assert sms_units("🙂") == (UCS2, 2)


def test_gsm_friendly_keeps_gsm_letters_and_plains_the_others():
    assert gsm_friendly("Zoë Ødegård-Łukasz") == "Zoe Ødegård-Lukasz"
    assert gsm_friendly("Clínica “Señor” \u2013 100.4 °F") == 'Clinica "Señor" - 100.4 F'
    assert gsm_friendly("Клиника") == "Клиника"  # no plain form: kept (UCS-2)


def test_fit_shortens_and_drops_optional_parts_and_keeps_required_ones():
    link = "https://x.example/p/" + "t" * 43
    safety = "Call 911 now for chest pain."
    text = fit([("word " * 80, False), (link, True), (safety, True)], segments=1)
    assert text.endswith(f"... {link} {safety}") and sms_segments(text) == (GSM7, 1)
    # An optional part outside GSM-7 is dropped rather than make the whole message UCS-2.
    text = fit([("Клиника " * 20, False), ("Day 3.", False), (link, True), (safety, True)])
    assert text == f"Day 3. {link} {safety}" and sms_segments(text)[0] == GSM7


def test_shorten_keeps_what_was_done():
    summary = (
        "Warning signs on day 4: chest pain, fever, new sudden back pain (patient told to call 911)"
    )
    assert shorten(summary, 60) == "Warning signs on day 4: chest... (patient told to call 911)"
    assert len(shorten(summary, 60)) <= 60
    assert shorten("word " * 30, 20) == "word word word..."


# --- what the tracker sends -----------------------------------------------------------------

BASE = "https://tracker.clinic.example"
LINK = f"{BASE}/p/" + "A" * 43  # a personal link: 43 characters of token
CLINIC_NAMES = [
    "Test Spine Clinic",
    "N" * 200,  # the longest name the column holds
    "Clínica de la Columna Señor",  # folded to GSM-7
    "Клиника позвоночника",  # no GSM-7 form: left out of the text message
]


def _reminder(kind: str, day: date) -> Reminder:
    return Reminder(kind=kind, local_day=day, idempotency_key=f"reminder-1-{kind}-{day}")


def _sms_ok(text: str) -> tuple[str, int]:
    encoding, segments = sms_segments(text)
    assert segments <= MAX_SEGMENTS, (encoding, segments, len(text), text)
    return encoding, segments


@pytest.mark.parametrize("name", CLINIC_NAMES)
@pytest.mark.parametrize(("kind", "day_number"), [("daily", 0), ("daily", 1), ("appointment", 9)])
def test_every_reminder_text_message_has_the_911_line_and_fits(
    session, enroll_patient, clinic, name, kind, day_number
):
    clinic.name = name
    enrolled = enroll_patient()
    plan = enrolled.plan
    day = plan.procedure_date + timedelta(days=day_number)
    message = compose(
        session, _reminder(kind, day), plan, enrolled.patient, clinic, LINK, missed=False
    )
    sms = WebhookChannel(url="https://sms.example/hook").payload(message)["sms"]
    assert sms == message.short_text
    assert LINK in sms
    assert sms.endswith(safety_911(current_signs()))
    encoding, segments = _sms_ok(sms)
    assert encoding == GSM7  # never UCS-2: less than half the room
    if name == "Test Spine Clinic":
        assert sms.startswith("Test Spine Clinic: ")
        assert segments == 2
    if name.startswith("Clínica"):
        assert sms.startswith("Clinica de la Columna Señor: ")


def test_the_reminder_text_message_as_measured(session, enroll_patient, clinic):
    enrolled = enroll_patient()
    plan = enrolled.plan
    message = compose(
        session,
        _reminder("daily", plan.procedure_date + timedelta(days=1)),
        plan,
        enrolled.patient,
        clinic,
        LINK,
        missed=False,
    )
    things = re.search(r"Day 1 of your recovery\. (\d) things", message.short_text)
    assert things is not None
    assert message.short_text == (
        f"Test Spine Clinic: Day 1 of your recovery. {things[1]} things to do or check in "
        f"today: {LINK} Call 911 now for chest pain, trouble breathing, new loss of bladder "
        "or bowel control, or new leg weakness."
    )
    assert len(message.short_text) == 260 and sms_segments(message.short_text) == (GSM7, 2)


def test_reminders_do_not_list_bed_rest_under_avoid(session, enroll_patient, clinic):
    enrolled = enroll_patient()
    plan = enrolled.plan
    day = plan.procedure_date  # day 0: bed rest (days 0-1) and the six-week limits
    message = compose(session, _reminder("daily", day), plan, enrolled.patient, clinic, LINK)
    for text in (message.text, message.html, message.short_text):
        assert "avoid:" not in text.lower() and "Please avoid" not in text
    lines = message.text.splitlines()
    until_tomorrow = lines.index("Until tomorrow, Saturday 21 November:")
    assert lines[until_tomorrow + 1].startswith("- Rest in bed: Stay in bed")
    assert "<h2>Until tomorrow, Saturday 21 November</h2><ul><li>Rest in bed:" in message.html
    lifting = next(i for i, line in enumerate(lines) if line.startswith("- No heavy lifting:"))
    assert lines[lifting - 1].startswith("Until ") and lines[lifting - 1].endswith(":")
    driving = lines.index(
        "- No driving on opioid pain medicine: Do not drive while you are "
        "taking opioid pain medicine."
    )
    assert lines[driving - 1] == "While you take opioid pain medicine:"
    # The safety paragraph, from the warning-signs data, in text and HTML.
    assert "Call 911 now for chest pain, trouble breathing" in message.text
    assert "bleeding where the needle went in" in message.text
    assert "a new rash, hives or itchy skin" in message.html


def test_on_the_last_day_of_bed_rest_it_says_today(session, enroll_patient, clinic):
    enrolled = enroll_patient()
    plan = enrolled.plan
    day = plan.procedure_date + timedelta(days=1)
    message = compose(session, _reminder("daily", day), plan, enrolled.patient, clinic, LINK)
    lines = message.text.splitlines()
    assert lines[lines.index("Today (the last day):") + 1].startswith("- Rest in bed:")


# --- pages to the on-call contact -----------------------------------------------------------


@pytest.mark.parametrize(
    ("patient_name", "clinic_name", "phone", "summary"),
    [
        ("Pat Example", "Test Spine Clinic", "555-0199", "Warning signs on day 4: fever"),
        ("P" * 200, "C" * 200, "+1 (555) 010-0199 ext. 12345678901234", "S " * 250),
        ("Zoë Ødegård-Łukasz", "Clínica Señor", "555-0199", "Pain 8/10 on day 4"),
        ("Зоя Петрова", "Клиника", "555-0199", "Боль 8/10"),
    ],
)
def test_every_page_text_message_has_the_911_line_and_fits(
    patient_name, clinic_name, phone, summary
):
    now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    clinic = Clinic(name=clinic_name, phone="555-0142", timezone="America/New_York")
    contact = OnCallContact(name="Dr Ada", channel="webhook", address="555-0100")
    page = Page(step=1, round=0, channel="webhook", address="555-0100", idempotency_key="p-1")
    alert = Alert(rule="red_flag", urgency="critical", summary=summary, raised_at=now)
    from tracker.core.models import Patient

    patient = Patient(name=patient_name, phone=phone)
    link = f"{BASE}/coordinator/patients/123"
    message = compose_page(page, alert, patient, clinic, contact, link, now=now)
    sms = message.short_text
    assert sms.startswith("CRITICAL: ") and phone in sms and link in sms
    assert sms.endswith(f"For {signs_911(current_signs())}, the patient should call 911 now.")
    encoding, _ = _sms_ok(sms)
    assert encoding == GSM7
    if patient_name == "Pat Example":
        assert sms == (
            "CRITICAL: Pat Example, 555-0199, Test Spine Clinic. Warning signs on day 4: "
            f"fever {link} For chest pain, trouble breathing, new loss of bladder or bowel "
            "control, or new leg weakness, the patient should call 911 now."
        )
        assert (len(sms), sms_segments(sms)) == (264, (GSM7, 2))
    if patient_name.startswith("Zoë"):
        assert "Zoe Ødegård-Lukasz, 555-0199, Clinica Señor." in sms
