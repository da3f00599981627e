"""Every /me page in Spanish, for a Spanish-speaking patient and for a Spanish-speaking
caregiver: nothing of the English page may be left on the Spanish one.

Each page is rendered twice with the same data: once with the reader's language set to
English, once to Spanish. Every English sentence (or clause) of three words or more that
appears word for word on the Spanish page is untranslated, once the names, numbers and
phone numbers that both pages share are taken out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import NOW
from tests.patient.caregiver_fixtures import add_caregiver_fixture, open_link  # noqa: F401
from tests.patient.conftest import post_form, sign_in, text_of
from tracker.core.models import Caregiver, PainEntry, Patient, SymptomReport
from tracker.escalation.notices import when, who_knows
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.plans.enrollment import Enrollment
from tracker.plans.warning_signs import current_signs

# Block-level boundaries: text on either side of one of these is a separate piece.
_INLINE = r"(strong|a|span|em|abbr|b|i|small|time|label)"
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\s+[\u2014\u2013]\s+|\s*\u2022\s*")
_WORD = re.compile(r"[A-Za-z]{2,}")


def pieces(html: str) -> list[str]:
    """The page's visible text as pieces: one per block of text, split into sentences."""
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", "\n", html, flags=re.S)
    html = re.sub(rf"</?{_INLINE}\b[^>]*>", "", html)
    html = re.sub(r"<[^>]+>", "\n", html).replace("&#39;", "'").replace("&amp;", "&")
    html = html.replace("&quot;", '"').replace("&nbsp;", " ")
    found = []
    for block in html.split("\n"):
        block = " ".join(block.split())
        found.extend(p.strip() for p in _SENTENCE_END.split(block) if p.strip())
    return found


def untranslated(english_html: str, spanish_html: str, allowed: tuple[str, ...]) -> list[str]:
    """English pieces of three words or more (after taking out ``allowed`` names and
    words, numbers and phone numbers) found word for word on the Spanish page."""
    spanish = " ".join(pieces(spanish_html))
    left = []
    for piece in pieces(english_html):
        rest = piece
        for name in sorted(allowed, key=len, reverse=True):
            rest = rest.replace(name, " ")
        if len(_WORD.findall(rest)) < 3:
            continue
        if piece.rstrip(".:;!?") in spanish:
            left.append(piece)
    return left


ALLOWED = (
    "Pat Example",
    "Test Spine Clinic",
    "Ana Ruiz (daughter)",
    "Ana Ruiz",
    "911",
    "555-0142",
    "English",
    "Español",
)


def _walk(client: FlaskClient, ids: dict[str, int], *, patient: bool) -> dict[str, str]:
    """Every /me page the reader can open (GETs only, plus the language chooser)."""
    pages = {
        "today": "/me/",
        "pain": "/me/pain",
        "pain fix": f"/me/pain/{ids['mild']}/fix",
        "warning signs": "/me/warning-signs",
        "warning signs result (flagged)": f"/me/warning-signs/{ids['flagged']}",
        "warning signs change": f"/me/warning-signs/{ids['flagged']}/change",
        "severe pain": f"/me/pain/{ids['severe']}/severe",
        "progress": "/me/progress",
        "card": "/me/card",
        "questionnaire": f"/me/questions/{ids['questionnaire']}",
        "caregivers": "/me/caregivers/",
    }
    if patient:
        pages["caregiver remove"] = f"/me/caregivers/{ids['caregiver']}/remove"
    rendered = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code in (200, 403), (name, response.status_code)
        rendered[name] = response.get_data(as_text=True)
    return rendered


def _chooser(client: FlaskClient, language: str) -> str:
    """The language chooser: choosing a language (the one already set) and the page after."""
    response = post_form(
        client, "/me/progress", "/me/language", {"language": language, "next": "/me/progress"}
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _data(client: FlaskClient, session, enrollment: Enrollment) -> dict[str, int]:
    """A mild score, a severe score and a warning-signs check with a 911 sign and a
    call-the-team sign answered yes (so the pages show every part)."""
    signs = current_signs()
    assert post_form(client, "/me/pain", data={"score": "3", "context": "rest"}).status_code == 302
    assert post_form(client, "/me/pain", data={"score": "10"}).status_code == 302
    answers = {f"q_{s.key}": "no" for s in signs}
    for action in ("call_911", "call_team"):
        sign = next(s for s in signs if s.action == action)
        answers[f"q_{sign.key}"] = "yes"
    assert post_form(client, "/me/warning-signs", data=answers).status_code == 302
    questionnaire = next(iter(current_questionnaires().values()))
    answered = {item.key: str(item.options[1].value) for item in questionnaire.items}
    answered["point"] = str(questionnaire.time_points[0].day)
    page = f"/me/questions/{questionnaire.id}"
    assert post_form(client, page, data=answered).status_code == 302
    session.expire_all()
    entries = session.scalars(select(PainEntry).order_by(PainEntry.id)).all()
    report = session.scalars(select(SymptomReport)).one()
    return {
        "mild": entries[0].id,
        "severe": entries[1].id,
        "flagged": report.id,
        "questionnaire": questionnaire.id,
    }


def _report(left: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}: {piece!r}" for page, found in left.items() for piece in found)


def _set_language(session, row, language: str) -> None:
    row.language = language
    session.commit()


@pytest.fixture
def walked(
    client: FlaskClient, session, enroll_patient, add_caregiver
) -> Callable[[str], dict[str, list[str]]]:
    def _run(reader: str) -> dict[str, list[str]]:
        enrollment = enroll_patient()
        caregiver, raw = add_caregiver(enrollment, scope="act")
        sign_in(client, enrollment)
        ids = _data(client, session, enrollment)
        ids["caregiver"] = caregiver.id
        if reader == "caregiver":
            open_link(client, raw)
            row = session.get(Caregiver, caregiver.id)
        else:
            row = session.get(Patient, enrollment.patient.id)
        renders = {}
        for language in ("en", "es"):
            _set_language(session, row, language)
            pages = _walk(client, ids, patient=reader == "patient")
            pages["language chooser"] = _chooser(client, language)
            renders[language] = pages
        assert 'lang="es"' in renders["es"]["today"]
        # A Spanish time ends in "a. m." or "p. m.": that full stop ends the sentence too.
        doubled = [n for n, html in renders["es"].items() if "m.." in " ".join(pieces(html))]
        assert not doubled, f"a doubled full stop after a time on: {doubled}"
        return {
            name: found
            for name in renders["en"]
            if (found := untranslated(renders["en"][name], renders["es"][name], ALLOWED))
        }

    return _run


def test_a_spanish_patient_sees_no_english_on_any_page(walked):
    left = walked("patient")
    assert not left, "English left on the Spanish pages:\n" + _report(left)


def test_a_spanish_caregiver_sees_no_english_on_any_page(walked):
    left = walked("caregiver")
    assert not left, "English left on the Spanish pages:\n" + _report(left)


def test_a_view_only_caregivers_refusal_is_in_spanish(
    client, session, enroll_patient, add_caregiver
):
    enrollment = enroll_patient()
    _caregiver, raw = add_caregiver(enrollment, scope="view", language="es")
    open_link(client, raw)
    refused = post_form(client, "/me/pain", data={"score": "3"})
    assert refused.status_code == 403
    text = text_of(refused)
    assert "You can view only" not in text
    assert 'lang="es"' in refused.get_data(as_text=True)


def test_the_checker_finds_an_english_sentence_left_on_a_spanish_page():
    english = "<p>Take a short walk. Hello, Pat Example.</p><p>Call 555-0142 now.</p>"
    spanish = "<p>Take a short walk. Hola, Pat Example.</p><p>Llame al 555-0142.</p>"
    assert untranslated(english, spanish, ALLOWED) == ["Take a short walk."]


def test_the_progress_page_shows_the_questionnaire_score_in_spanish(walked, client):
    walked("patient")  # leaves the patient signed in, in Spanish, with answers sent
    text = text_of(client.get("/me/progress"))
    assert "Su espalda y su vida diaria" in text
    assert "Your score" not in text and "first answers" not in text


def test_change_words_in_spanish_and_english():
    questionnaire = next(iter(current_questionnaires().values()))
    assert questionnaire.higher_is_worse
    assert questionnaire.change_words(-1, "es") == "1 punto mejor que en sus primeras respuestas"
    assert questionnaire.change_words(2.5, "es") == "2,5 puntos peor que en sus primeras respuestas"
    assert questionnaire.change_words(0, "es") == "igual que en sus primeras respuestas"
    # English as before (the care team's pages use it).
    assert questionnaire.change_words(-1) == "1 point better than your first answers"
    assert questionnaire.change_words(2.5) == "2.5 points worse than your first answers"
    assert questionnaire.change_words(0) == "the same as your first answers"


def test_who_knows_in_spanish_says_the_same_facts(clinic):
    # NOW is Saturday 10:00 in New York: the office is closed until Monday 8:00.
    closed = who_knows(None, clinic, None, NOW, tz_name="America/New_York", language="es")
    assert closed.message == "Esto no llegó a la lista de su equipo de atención."
    assert closed.call_prompt == "Por favor, avíseles usted. Llame al"
    alert = SimpleNamespace(
        status="acknowledged",
        acknowledged_at=NOW - timedelta(hours=1),
        resolved_at=None,
        updated_at=None,
    )
    seen = who_knows(
        alert, clinic, None, NOW, tz_name="America/New_York", seen_by="Casey Nurse", language="es"
    )
    assert seen.message == "Casey, de su equipo de atención, vio esto a las 9:00 a. m."
    english = who_knows(alert, clinic, None, NOW, tz_name="America/New_York", seen_by="Casey")
    assert english.message == "Casey from your care team saw this at 9:00 am."
    paged = SimpleNamespace(status="sent", sent_at=NOW - timedelta(hours=2), created_at=NOW)
    alert.status = "open"
    assert who_knows(
        alert, clinic, paged, NOW, tz_name="America/New_York", language="es"
    ).message == ("Avisamos a la enfermera o al enfermero de guardia a las 8:00 a. m.")
    # One o'clock is "a la 1", every other hour "a las".
    assert when(NOW + timedelta(hours=3), "America/New_York", NOW, "es") == "a la 1:00 p. m."
    assert when(NOW + timedelta(days=2), "America/New_York", NOW, "es") == (
        "el lunes a las 10:00 a. m."
    )
    assert when(NOW + timedelta(days=2), "America/New_York", NOW) == "on Monday at 10:00 am"


def test_the_care_team_prints_a_spanish_patients_card_in_spanish(
    session, enroll_patient, coordinator_client
):
    enrollment = enroll_patient()
    enrollment.patient.language = "es"
    session.commit()
    coordinator = coordinator_client
    page = coordinator.get(f"/coordinator/patients/{enrollment.patient.id}/card")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(page)
    # The care team's page stays English; the card is the patient's, in Spanish.
    assert '<html lang="en"' in html
    assert "Back to Pat Example's record" in text
    assert 'class="plan-card" aria-labelledby="card-title" lang="es"' in html
    assert "Su plan de recuperación y las señales de alarma" in text
    assert "Recuperación después de la cifoplastia" in text
    assert "Llame al 911 ahora si tiene alguna de estas:" in text
    assert "Dolor en el pecho" in text
    assert "Pida a su equipo de atención el enlace a su página." in text
    assert "Impreso el sábado 21 de noviembre de 2026" in text
    assert "Your recovery plan and warning signs" not in text
    assert "Chest pain" not in text
    # Nothing English of the patient's own card is left on it.
    english = enroll_patient(name="Pat English")
    english_html = coordinator.get(f"/coordinator/patients/{english.patient.id}/card")
    english_text = text_of(english_html)
    assert "Your recovery plan and warning signs" in english_text
    card = re.search(r'<article class="plan-card".*</article>', html, flags=re.S).group(0)
    english_card = re.search(
        r'<article class="plan-card".*</article>', english_html.get_data(as_text=True), re.S
    ).group(0)
    allowed = (*ALLOWED, "Pat English")
    assert untranslated(english_card, card, allowed) == []
    # With a new link: the QR code is named in Spanish.
    card_page = f"/coordinator/patients/{enrollment.patient.id}/card"
    issued = post_form(coordinator, card_page)
    assert issued.status_code == 200
    assert 'aria-label="Código QR de su enlace personal"' in issued.get_data(as_text=True)
    assert "A new personal link was issued" in text_of(issued)


def test_the_link_handout_for_a_spanish_patient_is_in_spanish(
    session, enroll_patient, coordinator_client
):
    enrollment = enroll_patient()
    enrollment.patient.language = "es"
    session.commit()
    coordinator = coordinator_client
    patient_id = enrollment.patient.id
    response = post_form(
        coordinator,
        f"/coordinator/patients/{patient_id}/card",
        f"/coordinator/patients/{patient_id}/link/handout",
        data={"token": enrollment.link_token},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    # The care team's words around it stay English.
    assert "The handout is ready" in text and '<html lang="en"' in html
    assert 'class="plan-card link-handout" aria-labelledby="handout-title" lang="es"' in html
    assert "Su página de recuperación" in text
    assert "No comparta esta hoja." in text
    assert "Llame al 911 ahora si tiene alguna de estas:" in text
    assert "Dolor en el pecho" in text
    assert "Impreso el sábado 21 de noviembre de 2026 en Test Spine Clinic." in text
    assert 'aria-label="Código QR del enlace personal de Pat Example"' in html
    for english in ("Your recovery page", "Keep this sheet", "Call 911 now", "Chest pain"):
        assert english not in text
