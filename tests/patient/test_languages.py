"""The patient's pages in the patient's language (Spanish here), the language chooser, and
the care team's pages that stay in English whatever the browser asks for.

The Spanish words asserted here are the catalogue's (tracker/translations/es); days and
times are Babel's Spanish forms ("sábado 21 de noviembre", "10:00 a. m.").
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.conftest import csrf_token, post_form, sign_in, text_of
from tracker.core.models import AuditEvent, PainEntry, Patient
from tracker.patient.progress import DayRecord, trend_sentence
from tracker.patient.views import days_left_text
from tracker.plans.agenda import plan_today
from tracker.plans.enrollment import Enrollment
from tracker.web.time_format import long_day, number_text, short_day, wall_clock


def lang_of(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "page has no <html lang>"
    return match.group(1)


@pytest.fixture
def spanish(enroll_patient, session) -> Enrollment:
    enrollment = enroll_patient()
    enrollment.patient.language = "es"
    session.commit()
    return enrollment


@pytest.fixture
def spanish_client(client: FlaskClient, spanish: Enrollment) -> FlaskClient:
    return sign_in(client, spanish)


def test_a_spanish_patients_today_page_is_in_spanish(spanish_client):
    response = spanish_client.get("/me/")
    assert response.status_code == 200
    assert lang_of(response) == "es"
    text = text_of(response)
    # NOW is Saturday 21 November 2026, the day after the procedure.
    assert "Hola, Pat Example. Hoy es sábado 21 de noviembre." in text
    assert "Día 1 de su recuperación" in text
    assert "Para hacer hoy" in text
    assert "Marcar como hecho" in text
    # The navigation, the footer and the emergency line.
    assert "Dolor" in text and "Señales de alarma" in text and "Progreso" in text
    assert "En una emergencia, llame al 911." in text
    assert "Cerrar sesión en este aparato" in text
    # A limit's days left, written by the code (not the plan's content).
    assert re.search(r"quedan \d+ días", text)
    # No English words of the page's own left behind.
    for english in ("Hello,", "To do today", "Mark as done", "In an emergency", "days left"):
        assert english not in text


def test_a_spanish_patients_pain_page_and_its_messages(spanish_client, session):
    page = spanish_client.get("/me/pain")
    assert lang_of(page) == "es"
    text = text_of(page)
    assert "Anote su dolor" in text
    assert "¿Cuánto dolor tiene ahora?" in text
    assert "0 quiere decir sin dolor." in text
    assert "Sin dolor" in text and "El peor dolor que se pueda imaginar" in text
    assert "En reposo" in text and "Con actividad" in text
    # A bad score: the form's messages are in Spanish too, and nothing is stored.
    bad = post_form(spanish_client, "/me/pain", data={"score": "11"})
    assert bad.status_code == 400
    bad_text = text_of(bad)
    assert "Su nivel de dolor no se guardó." in bad_text
    assert "Elija un número del 0 (sin dolor) al 10 (el peor dolor que se pueda imaginar)." in (
        bad_text
    )
    assert session.scalars(select(PainEntry)).all() == []
    # A good score: the thank-you message and the list of today's scores, time in Spanish.
    saved = post_form(spanish_client, "/me/pain", data={"score": "4", "context": "rest"})
    assert saved.status_code == 302
    after = text_of(spanish_client.get("/me/pain"))
    assert "Anotado hoy" in after
    assert "10:00 a. m.: 4 de 10, en reposo" in after


def test_a_spanish_patients_pain_page_tells_the_time_of_a_score_as_spanish_speakers_do(
    spanish_client,
):
    post_form(spanish_client, "/me/pain", data={"score": "3"})
    today = text_of(spanish_client.get("/me/"))
    assert "Gracias. Su nivel de dolor de 3 está guardado." in today


def test_a_spanish_patients_warning_signs_pages(spanish_client):
    page = spanish_client.get("/me/warning-signs")
    assert lang_of(page) == "es"
    text = text_of(page)
    assert "Preguntas de señales de alarma" in text
    assert "Si ahora tiene dolor en el pecho o le cuesta respirar, no espere: llame al 911." in text
    assert "Enviar mis respuestas" in text
    # Nothing answered: the problem in Spanish, each question's own message too.
    refused = post_form(spanish_client, "/me/warning-signs", data={})
    assert refused.status_code == 400
    refused_text = text_of(refused)
    assert "Por favor, conteste todas las preguntas" in refused_text
    assert "Por favor, conteste sí o no." in refused_text
    # All "no": the thank-you page, with the day and the time in Spanish.
    html = page.get_data(as_text=True)
    names = sorted(set(re.findall(r'name="(q_[a-z0-9_]+)"', html)))
    assert names
    result = post_form(
        spanish_client, "/me/warning-signs", data=dict.fromkeys(names, "no")
    )
    assert result.status_code == 302
    done = spanish_client.get(result.headers["Location"])
    done_text = text_of(done)
    assert "Usted contestó que no a todas las señales de alarma." in done_text
    assert "Contestado el sábado 21 de noviembre a las 10:00 a. m." in done_text


def test_a_spanish_patients_progress_and_card_pages(spanish_client):
    progress = spanish_client.get("/me/progress")
    assert lang_of(progress) == "es"
    text = text_of(progress)
    assert "Su progreso" in text
    assert "Pasó 1 día desde su procedimiento del viernes 20 de noviembre." in text
    assert "Su dolor, día por día" in text
    assert "Todavía no ha anotado un nivel de dolor." in text  # the chart's sentence
    assert "Dolor más alto" in text and "Día 0" in text
    assert "20 nov" in text  # the short day in the table
    card = spanish_client.get("/me/card")
    assert lang_of(card) == "es"
    card_text = text_of(card)
    assert "Su plan de recuperación y las señales de alarma" in card_text
    assert "procedimiento el viernes 20 de noviembre de 2026" in card_text
    assert "Llame al 911 ahora si" in card_text
    assert "Llame hoy a su equipo de atención si" in card_text
    assert "Sus límites y cuándo terminan" in card_text
    assert re.search(r"Hasta el [a-záé]{3} \d+ [a-z]{3} \(día \d+\)", card_text)
    assert "Su plan, día por día" in card_text
    assert "a. m." in card_text  # the office hours on the card
    assert "Impreso el sábado 21 de noviembre de 2026" in card_text


def test_an_english_patients_pages_stay_english(patient_client):
    today = patient_client.get("/me/")
    assert lang_of(today) == "en"
    text = text_of(today)
    assert "Hello, Pat Example. Today is Saturday 21 November." in text
    assert "Day 1 of your recovery" in text
    assert "In an emergency, call 911." in text
    # The chooser offers the other language, named in itself.
    assert "Español" in text
    progress = text_of(patient_client.get("/me/progress"))
    assert "It has been 1 day since your procedure on Friday 20 November." in progress
    assert "You have not logged a pain score yet." in progress


def test_an_english_browser_before_sign_in_and_a_spanish_one(client):
    english = client.get("/p/not-a-real-link")
    assert english.status_code == 404
    assert lang_of(english) == "en"
    assert "This link is not working" in text_of(english)
    spanish = client.get("/p/not-a-real-link", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert spanish.status_code == 404
    assert lang_of(spanish) == "es"
    assert "Este enlace no funciona" in text_of(spanish)
    # Signed out: the browser's language too.
    out = client.get("/me/", headers={"Accept-Language": "es"})
    assert lang_of(out) == "es"
    assert "Por favor, abra su enlace personal" in text_of(out)
    # The site's own error pages too.
    missing = client.get("/no-such-page", headers={"Accept-Language": "es"})
    assert missing.status_code == 404
    assert lang_of(missing) == "es"
    assert "No se encontró la página" in text_of(missing)
    assert "Page not found" in text_of(client.get("/no-such-page"))


def test_the_patients_language_beats_the_browsers(spanish_client):
    response = spanish_client.get("/me/", headers={"Accept-Language": "en-US"})
    assert lang_of(response) == "es"
    assert "Hoy es sábado 21 de noviembre." in text_of(response)


def test_the_patient_changes_their_language(patient_client, enrolled, session):
    changed = post_form(
        patient_client, "/me/progress", "/me/language", {"language": "es", "next": "/me/progress"}
    )
    assert changed.status_code == 302
    assert changed.headers["Location"].endswith("/me/progress")
    session.expire_all()
    assert session.get(Patient, enrolled.patient.id).language == "es"
    page = patient_client.get("/me/progress")
    assert lang_of(page) == "es"
    assert "Guardado: sus páginas ahora están en este idioma." in text_of(page)
    assert "English" in text_of(page)  # the way back
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.language_changed")
    ).all()
    assert len(events) == 1
    assert events[0].actor_type == "patient"
    assert events[0].actor_patient_id == enrolled.patient.id
    assert events[0].detail["from"] == "en" and events[0].detail["to"] == "es"
    # And back again.
    back = post_form(patient_client, "/me/", "/me/language", {"language": "en"})
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/me/")
    assert lang_of(patient_client.get("/me/")) == "en"


@pytest.mark.parametrize("value", ["fr", "", "ES", "es; DROP TABLE", "x" * 300])
def test_a_bad_language_is_refused_and_nothing_stored(patient_client, enrolled, session, value):
    refused = post_form(patient_client, "/me/", "/me/language", {"language": value})
    assert refused.status_code == 400
    assert "Please choose one of the languages shown on the page. Nothing was changed." in (
        text_of(refused)
    )
    session.expire_all()
    assert session.get(Patient, enrolled.patient.id).language == "en"
    assert not session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.language_changed")
    ).all()


def test_the_language_change_needs_the_forms_token_and_a_signed_in_patient(
    client, patient_client, enrolled, session
):
    html = patient_client.get("/me/").get_data(as_text=True)
    assert csrf_token(html)
    no_token = patient_client.post("/me/language", data={"language": "es"})
    assert no_token.status_code == 400
    stranger = client.application.test_client().post("/me/language", data={"language": "es"})
    assert stranger.status_code in (400, 401)
    session.expire_all()
    assert session.get(Patient, enrolled.patient.id).language == "en"


def test_the_way_back_never_leaves_the_patients_pages(patient_client):
    for target in ("https://evil.example/", "//evil.example/me", "/coordinator/", "me"):
        response = post_form(
            patient_client, "/me/", "/me/language", {"language": "es", "next": target}
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/me/"), target


def test_care_team_pages_stay_english_for_a_spanish_browser(spanish, coordinator_client):
    coordinator = coordinator_client
    headers = {"Accept-Language": "es-MX,es;q=0.9"}
    page = coordinator.get("/coordinator/", headers=headers, follow_redirects=True)
    assert page.status_code == 200
    assert lang_of(page) == "en"
    assert "Seguimiento" not in text_of(page)
    patient_page = coordinator.get(
        f"/coordinator/patients/{spanish.patient.id}", headers=headers, follow_redirects=True
    )
    assert patient_page.status_code == 200
    assert lang_of(patient_page) == "en"
    assert "Pat Example" in text_of(patient_page)
    assert "Recovery tracker" in text_of(patient_page) or "Recovery tracker" in (
        patient_page.get_data(as_text=True)
    )


def test_days_times_and_numbers_in_spanish_and_english():
    saturday = date(2026, 11, 21)
    assert long_day(saturday, language="es") == "sábado 21 de noviembre"
    assert short_day(saturday, language="es") == "21 nov"
    assert short_day(saturday, weekday=True, language="es") == "sáb 21 nov"
    assert wall_clock(time(9, 5), language="es") == "9:05 a. m."
    assert wall_clock(time(17, 30), language="es") == "5:30 p. m."
    assert wall_clock(time(0, 0), language="es") == "12:00 a. m."
    assert number_text(3.5, language="es") == "3,5"
    # English exactly as before.
    assert long_day(saturday) == "Saturday 21 November"
    assert short_day(saturday, weekday=True) == "Sat 21 Nov"
    assert wall_clock(time(17, 30)) == "5:30 pm"
    assert number_text(3.5) == "3.5" and number_text(12.0) == "12"


def _record(day: int, score: int | None) -> DayRecord:
    return DayRecord(
        local_day=date(2026, 11, 20) + timedelta(days=day),
        day_number=day,
        pain_max=score,
        pain_mean=float(score) if score is not None else None,
        pain_count=1 if score is not None else 0,
        warning_check_due=True,
        warning_check_done=False,
    )


def test_the_trend_sentence_in_spanish():
    week = [_record(n, 8 - n) for n in range(7)]
    assert trend_sentence(week, 6, "es") == "Su dolor bajó de 8 a 2 en la última semana."
    assert trend_sentence(week, 6) == "Your pain has gone down from 8 to 2 over the last week."
    gaps = [_record(2, 3), _record(4, 5)]
    assert trend_sentence(gaps, 6, "es") == "Su dolor subió de 3 el día 2 a 5 el día 4."
    assert trend_sentence([], 3, "es") == "Todavía no ha anotado un nivel de dolor."


def test_the_days_left_of_a_limit_in_spanish(spanish):
    agenda = plan_today(spanish.plan, NOW)
    lifting = next(r for r in agenda.restrictions if r.activity.key == "no_heavy_lifting")
    words = days_left_text(lifting, "es")
    assert words == f"quedan {lifting.days_left} días"
    assert days_left_text(lifting) == f"{lifting.days_left} days left"


@pytest.mark.parametrize(
    ("hours_later", "said"),
    [(0, "de 10 a las 10:00 a. m."), (3, "de 10 a la 1:00 p. m."), (2, "de 10 a las 12:00 p. m.")],
)
def test_a_spanish_patients_time_of_day_takes_la_at_one_oclock(
    app, client, spanish, hours_later, said
):
    # "a la 1:00", "a las 10:00": the one o'clock hours have their own words.
    app.config["FIXED_NOW"] = NOW + timedelta(hours=hours_later)
    spanish_client = sign_in(client, spanish)
    post_form(spanish_client, "/me/pain", data={"score": "3"})
    page = text_of(spanish_client.get("/me/pain"))
    assert f"en el 3 {said}" in page
