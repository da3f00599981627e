"""Reminders in the reader's language: a Spanish-speaking patient's email (subject, text and
HTML), text message and log line are in Spanish, dates included; the text message stays
GSM-7 (Spanish letters GSM-7 lacks are written plain) within ``MAX_SEGMENTS`` segments."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from tests.conftest import NOW
from tests.reminders.conftest import tick
from tracker.core.models import Reminder
from tracker.plans.warning_signs import current_signs
from tracker.reminders.channels import LogChannel, WebhookChannel
from tracker.reminders.messages import compose
from tracker.reminders.safety import safety_911_in, safety_lines_in
from tracker.reminders.sms_rules import pain_prompt
from tracker.reminders.sms_text import GSM7, MAX_SEGMENTS, UCS2, gsm_friendly, sms_segments

LINK = "https://tracker.clinic.example/p/" + "A" * 43
CLINIC_NAMES = ["Test Spine Clinic", "Clínica de la Columna Señor", "N" * 200]


def _reminder(kind: str, day: date) -> Reminder:
    return Reminder(kind=kind, local_day=day, idempotency_key=f"reminder-1-{kind}-{day}")


@pytest.fixture
def spanish(session, enroll_patient):
    enrolled = enroll_patient(name="María López")
    enrolled.patient.language = "es"
    session.commit()
    return enrolled


def test_the_daily_email_is_in_spanish(session, spanish, clinic):
    plan = spanish.plan
    day = plan.procedure_date + timedelta(days=1)  # Saturday 21 November, day 1
    message = compose(
        session, _reminder("daily", day), plan, spanish.patient, clinic, LINK, missed=True
    )
    assert message.language == "es"
    assert message.subject == "Su plan de recuperación para hoy (día 1)"
    lines = message.text.splitlines()
    assert lines[0] == "Hola, María López:"
    assert lines[2] == (
        "Hoy, sábado 21 de noviembre, es el día 1 de su recuperación después de la cifoplastia."
    )
    assert lines[3].startswith("Ayer no recibimos noticias suyas.")
    assert "Para anotar hoy:" in lines
    assert "Abra su página para ver lo de hoy y marcar lo que ya hizo:" in lines
    assert LINK in lines
    safety = safety_lines_in(current_signs(), clinic.phone, "es")
    assert safety.startswith("Llame al 911 ahora si tiene ")
    assert f"Llame a su equipo de atención al {clinic.phone} si tiene " in safety
    assert safety in lines
    assert message.html.startswith('<!doctype html><html lang="es">')
    assert "<title>Su plan de recuperación para hoy (día 1)</title>" in message.html
    assert "Abra su página para ver lo de hoy y marcar lo que ya hizo</a>" in message.html
    # No English frame left in what the patient reads.
    for english in ("Hello", "Open your page", "Call 911 now", "day 1 of your recovery"):
        assert english not in message.text and english not in message.html


def test_the_appointment_reminder_is_in_spanish(session, spanish, clinic):
    plan = spanish.plan
    plan.overrides = {"followup_first": {"date": "2026-11-22"}}
    session.commit()
    message = compose(
        session, _reminder("appointment", date(2026, 11, 21)), plan, spanish.patient, clinic, LINK
    )
    assert message.subject.startswith("Recordatorio: ")
    assert message.subject.endswith(" mañana, domingo 22 de noviembre")
    assert f"Si no puede venir, llame a su equipo de atención al {clinic.phone}." in message.text
    assert f"Detalles: {LINK}" in message.short_text


@pytest.mark.parametrize("name", CLINIC_NAMES)
@pytest.mark.parametrize(("kind", "day_number"), [("daily", 0), ("daily", 1), ("appointment", 1)])
@pytest.mark.parametrize("prompt", [False, True])
def test_the_spanish_text_message_fits_in_gsm7(
    session, spanish, clinic, name, kind, day_number, prompt
):
    clinic.name = name
    plan = spanish.plan
    plan.overrides = {"followup_first": {"date": "2026-11-22"}}
    day = plan.procedure_date + timedelta(days=day_number)
    message = compose(
        session,
        _reminder(kind, day),
        plan,
        spanish.patient,
        clinic,
        LINK,
        missed=False,
        reply_prompt=pain_prompt("es") if prompt else None,
    )
    sms = WebhookChannel(url="https://sms.example/hook").payload(message)["sms"]
    assert LINK in sms
    assert sms.endswith(gsm_friendly(safety_911_in(current_signs(), "es")))
    assert sms_segments(sms)[0] == GSM7 and sms_segments(sms)[1] <= MAX_SEGMENTS, sms
    if kind == "daily" and name == "Test Spine Clinic" and not prompt:
        head = f"Test Spine Clinic: Dia {day_number} de su recuperacion."
        assert sms.startswith(head), sms  # á, ó written plain: GSM-7 has no such letters
    if kind == "daily" and prompt and day_number == 1:  # a pain score is due on day 1
        assert gsm_friendly(pain_prompt("es")) in sms


def test_spanish_letters_and_the_segment_count():
    # GSM-7 has é, ñ, ¿ and ¡ (and ü): Spanish with only those stays GSM-7 ...
    assert sms_segments("¿Señal? ¡Sí, café!".replace("í", "i")) == (GSM7, 1)
    assert sms_segments("ñ" * 160) == (GSM7, 1)
    assert sms_segments("ñ" * 161) == (GSM7, 2)
    # ... one á, í, ó or ú makes the whole text UCS-2, 70 to a segment instead of 160.
    for letter in "áíóúÁÍÓÚ":
        assert sms_segments("a" * 69 + letter) == (UCS2, 1)
        assert sms_segments("a" * 70 + letter) == (UCS2, 2)
    # The messages write those letters plain and keep GSM-7's own.
    assert gsm_friendly("Día de recuperación, ¿señal? ¡Llame!") == (
        "Dia de recuperacion, ¿señal? ¡Llame!"
    )


def test_the_log_line_is_in_spanish(session, spanish, clinic, caplog):
    plan = spanish.plan
    message = compose(
        session, _reminder("daily", plan.procedure_date), plan, spanish.patient, clinic, LINK
    )
    with caplog.at_level(logging.INFO, logger="tracker.reminders.log"):
        LogChannel(logging.getLogger("tracker.reminders.log")).send(message)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "Su plan de recuperación para hoy (día 0)" in logged
    assert "Dia 0 de su recuperacion" in logged and "Llame al 911 ahora" in logged


def test_an_english_patient_is_unchanged(session, enroll_patient, clinic):
    enrolled = enroll_patient()
    plan = enrolled.plan
    message = compose(
        session, _reminder("daily", plan.procedure_date), plan, enrolled.patient, clinic, LINK
    )
    assert message.language == "en"
    assert message.subject == "Your recovery plan for today (day 0)"
    assert message.text.startswith("Hello Pat Example,")


def test_the_scheduler_sends_the_spanish_reminder(app, spanish, caplog):
    with caplog.at_level(logging.INFO):
        summary = tick(app, NOW)
    assert summary["sent"] == 1
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "Su plan de recuperación para hoy (día 1) | Test Spine Clinic: Dia 1 de su" in logged


def test_the_message_with_a_new_link_is_in_spanish(session, spanish, clinic):
    from tracker.reminders.welcome import link_message

    message = link_message(
        spanish.patient, clinic, LINK, local_day=date(2026, 11, 21), signs=current_signs()
    )
    assert message.subject == "Su página de recuperación en Test Spine Clinic"
    assert message.text.startswith("Hola, María López:\n\nSu equipo de atención preparó")
    assert "No comparta este enlace." in message.text
    assert safety_lines_in(current_signs(), clinic.phone, "es") in message.text
    assert '<html lang="es">' in message.html and ">Abra su página</a>" in message.html
    assert message.short_text.startswith("Test Spine Clinic: su pagina de recuperacion. ")
    assert LINK in message.short_text
    assert sms_segments(message.short_text)[1] <= MAX_SEGMENTS
