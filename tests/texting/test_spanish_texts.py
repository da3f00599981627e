"""Texts in Spanish: a Spanish speaker's replies are read with Spanish words (and every
other language's: STOP works in any), and what is texted back is in Spanish, warning signs
included; a Spanish word from an English speaker is still understood."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from tests.texting.conftest import NUMBER, count, texts
from tracker.core.models import Alert, OpioidCheck, PainEntry, SymptomReport, TextOptOut
from tracker.plans.translations import fingerprint
from tracker.plans.warning_signs import current_signs
from tracker.reminders.safety import safety_911_in
from tracker.reminders.sms_text import MAX_SEGMENTS, gsm_friendly, sms_segments
from tracker.texting.reading import Pending, read_reply
from tracker.texting.sign_questions import load_sign_texts, parse_sign_texts, sign_texts_path
from tracker.texting.words import WordsError, load_words, parse_words, reading_words, words_path

SAFETY_ES = gsm_friendly(safety_911_in(current_signs(), "es"))


@pytest.fixture
def spanish(session, patient):
    patient.patient.language = "es"
    session.commit()
    return patient


@pytest.fixture
def words(app):
    return reading_words(load_words(words_path(app.config["SCHEDULES_DIR"])), "es")


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("Sí", "yes"),
        ("si", "yes"),
        ("SI.", "yes"),
        ("¡Sí!", "yes"),
        ("no", "no"),
        ("No.", "no"),
        ("ayuda", "help"),
        ("AYUDA", "help"),
        ("alto", "stop"),
        ("Parar", "stop"),
        ("cancelar", "stop"),
        ("STOP", "stop"),
        ("stop", "stop"),
        ("empezar", "start"),
        ("START", "start"),
        ("HELP", "help"),
    ],
)
def test_spanish_and_carrier_words_are_read(words, reply, kind):
    assert read_reply(reply, words, pending=Pending("yes_no")).kind == kind


@pytest.mark.parametrize(
    ("reply", "score"),
    [("cinco", 5), ("mi dolor es 4", 4), ("dolor 7", 7), ("diez", 10), ("cero", 0), ("3/10", 3)],
)
def test_spanish_pain_scores(words, reply, score):
    reading = read_reply(reply, words)
    assert (reading.kind, reading.score) == ("pain", score)


@pytest.mark.parametrize("reply", ["11", "once", "-1", "dolor 7.5", "sí"])
def test_what_is_no_pain_score_stays_unread(words, reply):
    assert read_reply(reply, words).kind == "unparsed"


def test_numbered_answers_in_spanish(words):
    pending = Pending("signs", 4)
    assert read_reply("ninguna", words, pending=pending).numbers == ()
    assert read_reply("nada", words, pending=pending).kind == "signs"
    assert read_reply("uno y tres", words, pending=pending).numbers == (1, 3)
    assert read_reply("1, 3", words, pending=pending).numbers == (1, 3)
    assert read_reply("5", words, pending=pending).problem == "out_of_range"
    assert read_reply("sí", words, pending=pending).problem == "which_signs"


def test_a_word_in_two_languages_lists_that_clash_is_refused():
    raw = yaml.safe_load(Path("schedules/texting/words.yaml").read_text(encoding="utf-8"))
    raw["languages"]["es"]["yes"].append("stop")  # "stop" is English's STOP
    with pytest.raises(WordsError, match="'stop' is in list 'yes' of another language"):
        parse_words(raw, "words.yaml")


def test_a_spanish_check_in_by_text(fake, session, spanish):
    replies = fake.text_from(NUMBER, "mi dolor es 3")
    assert replies[0] == "Gracias. Su nivel de dolor de 3 está guardado."
    assert replies[1].startswith("Señales de alarma (1 de ")
    assert "¿ha tenido algo de esto?" in replies[1]
    assert "\n1 dolor en el pecho ahora\n" in replies[1]
    # Every part, answered "nada" / 0, then the opioid question in Spanish.
    answers = []
    while True:
        sent = fake.text_from(NUMBER, "nada" if len(answers) % 2 == 0 else "0")
        answers.append(sent)
        assert sent[0] == "Gracias. Sus respuestas están guardadas."
        if not sent[1].startswith("Señales de alarma"):
            break
    assert sent[1].endswith("Responda SI o NO.")
    done = fake.text_from(NUMBER, "sí")
    assert done == [
        "Guardado: hoy toma medicina opioide para el dolor. Por favor, no maneje. "
        f"Eso es todo por hoy. {SAFETY_ES}"
    ]
    for text in [*replies, *[t for a in answers for t in a], *done]:
        assert sms_segments(text)[1] <= MAX_SEGMENTS
    reports = session.scalars(select(SymptomReport)).all()
    asked = [k for r in reports for k in r.answers]
    assert sorted(asked) == sorted(s.key for s in current_signs())
    assert session.scalars(select(OpioidCheck)).one().taking is True
    assert session.scalars(select(PainEntry)).one().score == 3


def test_a_spanish_red_flag_is_answered_in_spanish_and_alerted(fake, session, spanish):
    fake.text_from(NUMBER, "5")
    replies = fake.text_from(NUMBER, "1")  # chest pain now
    assert replies[0].startswith("Llame al 911 ahora.")
    assert "Usted nos dijo: dolor en el pecho." in replies[0]
    alert = session.scalars(select(Alert)).one()
    assert (alert.rule, alert.urgency) == ("red_flag", "critical")
    # Who knows, in Spanish, with the number to call.
    assert "llame al" in replies[1]


def test_a_spanish_speaker_gets_spanish_help_and_stop(fake, session, spanish):
    help_text = fake.text_from(NUMBER, "ayuda")[0]
    assert "Mensajes sobre su recuperacion." in help_text
    assert help_text.endswith(SAFETY_ES)
    stopped = fake.text_from(NUMBER, "ALTO")[0]
    assert "Ya no le enviaremos mas mensajes." in stopped
    assert session.scalars(select(TextOptOut)).one().opted_out_at is not None
    started = fake.text_from(NUMBER, "sí")[0]  # YES after STOP opts back in, in Spanish too
    assert "Le volveremos a enviar mensajes." in started
    session.expire_all()
    assert session.scalars(select(TextOptOut)).one().opted_out_at is None


def test_stop_in_spanish_from_an_english_speaker_opts_out(fake, session, patient):
    replies = fake.text_from(NUMBER, "Parar")
    assert replies[0].startswith("Test Spine Clinic: You will get no more texts from us.")
    assert session.scalars(select(TextOptOut)).one().keyword == "PARAR"


def test_a_spanish_word_from_an_english_speaker_is_understood(fake, session, patient):
    replies = fake.text_from(NUMBER, "cuatro")
    assert replies[0] == "Thank you. Your pain score of 4 is saved."
    assert session.scalars(select(PainEntry)).one().score == 4


def test_not_understood_in_spanish(fake, session, spanish):
    replies = fake.text_from(NUMBER, "me duele mucho la espalda")
    assert replies[0].startswith("Perdon, no pudimos entender eso.")
    assert replies[0].endswith(SAFETY_ES)
    [inbound] = texts(session, direction="in")
    assert inbound.kind == "unparsed"
    assert count(session, PainEntry) == 0


def test_the_spanish_sign_texts_are_current_and_fit(app):
    path = sign_texts_path(app.config["SCHEDULES_DIR"])
    sign_texts = load_sign_texts(path)
    assert sign_texts.problems == ()
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    es = raw["translations"]["es"]
    assert es["translated_from"] == fingerprint({"intro": raw["intro"], "short": raw["short"]})
    assert es["reviewed_by"] is None and es["translator"]
    assert set(es["short"]) == set(raw["short"])
    from tracker.texting.views import texting_settings

    parts = texting_settings(app).parts_in("es")
    assert [k for p in parts for k in p.keys] == [s.key for s in current_signs()]
    for part in parts:
        assert sms_segments(part.text)[1] <= MAX_SEGMENTS


def test_a_stale_spanish_translation_is_reported_and_english_is_asked(app):
    path = sign_texts_path(app.config["SCHEDULES_DIR"])
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    raw["intro"] = raw["intro"] + " Thank you."
    sign_texts = parse_sign_texts(raw, path)
    assert "stale" in sign_texts.problems[0]
    assert sign_texts.in_language("es") is sign_texts
