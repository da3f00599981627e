"""The texting data files (schedules/texting/) and what is texted back: refused when broken,
with the file, language or sign and list named; every text in at most 2 segments (GSM-7);
every patient-facing sentence at grade 6 or below, as the rest of the content."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import textstat
import yaml

from tracker.core.config import REPO_ROOT
from tracker.core.models import Clinic
from tracker.escalation.notices import numbers_now
from tracker.plans.severe_pain import guidance_path, load_guidance
from tracker.plans.warning_signs import (
    SignsError,
    current_signs,
    load_signs,
    safety_911,
    signs_path,
)
from tracker.reminders.sms_text import GSM7, MAX_SEGMENTS, sms_segments
from tracker.texting import replies
from tracker.texting.reading import NO_QUESTION, NOT_WHOLE, OUT_OF_RANGE, WHICH_SIGNS
from tracker.texting.sign_questions import (
    load_sign_texts,
    parse_sign_texts,
    sign_parts,
    sign_texts_path,
)
from tracker.texting.words import WordsError, load_words, parse_words, words_path

SCHEDULES = str(REPO_ROOT / "schedules")
SIGNS = load_signs(signs_path(SCHEDULES))
TEXTS = load_sign_texts(sign_texts_path(SCHEDULES))
WORDS_RAW = yaml.safe_load(Path(words_path(SCHEDULES)).read_text(encoding="utf-8"))


def test_the_shipped_words_load_with_english():
    words = load_words(words_path(SCHEDULES))["en"]
    assert {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"} == words.stop
    assert {"start", "unstop"} <= words.start and "yes" in words.start_when_stopped
    assert {"help", "info"} <= words.help
    assert words.numbers["ten"] == 10


def _words_with(**changes):
    raw = yaml.safe_load(yaml.safe_dump(WORDS_RAW))
    raw["languages"]["en"].update(changes)
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"yes": []}, "list 'yes': must be a non-empty list of words"),
        ({"yes": [True]}, "list 'yes': True is not a word (quote yes, no, y and n)"),
        ({"no": ["no", "stop"]}, "list 'stop': 'stop' is also in list 'no'"),
        ({"help": ["help", "yes"]}, "list 'help': 'yes' is also in list 'yes'"),
        ({"numbers": {"eleven": 11}}, "list 'numbers': 'eleven': must be a number from 0 to 10"),
        ({"maybe": ["perhaps"]}, "list 'maybe': unknown list(s): maybe"),
    ],
)
def test_a_broken_words_file_is_refused_naming_language_and_list(changes, message):
    with pytest.raises(WordsError) as refused:
        parse_words(_words_with(**changes), "words.yaml")
    assert str(refused.value) == f"words.yaml: language 'en': {message}"


def test_a_words_file_without_english_is_refused():
    raw = yaml.safe_load(yaml.safe_dump(WORDS_RAW))
    raw["languages"] = {"es": raw["languages"]["en"]}
    with pytest.raises(WordsError, match="must have the 'en' language"):
        parse_words(raw, "words.yaml")


def test_another_language_is_a_block_of_the_file():
    raw = yaml.safe_load(yaml.safe_dump(WORDS_RAW))
    raw["languages"]["es"] = {
        **raw["languages"]["en"],
        "yes": ["sí", "si"],
        "no": ["no"],
        "start_when_stopped": ["sí"],
    }
    assert "sí" in parse_words(raw, "words.yaml")["es"].yes


def test_every_sign_has_a_short_form_and_every_part_fits_two_gsm7_segments():
    parts = sign_parts(SIGNS, TEXTS)
    assert [k for p in parts for k in p.keys] == [s.key for s in SIGNS]
    assert len(parts) == 2
    for part in parts:
        assert sms_segments(part.text) == (GSM7, 2), part.text
        assert part.text.startswith(f"Warning signs ({part.number} of 2).")
    # The two 911 signs that ask about "now" come first, in the first text.
    assert parts[0].keys[:4] == (
        "chest_pain",
        "shortness_of_breath",
        "bladder_bowel_control",
        "leg_weakness",
    )


def test_a_sign_without_a_short_form_is_refused_naming_it():
    texts = parse_sign_texts(
        {"id": "warning_signs_by_text", "intro": "Any of these?", "short": {"chest_pain": "x"}},
        "short.yaml",
    )
    with pytest.raises(SignsError, match=r"short\.yaml: sign 'shortness_of_breath'"):
        sign_parts(SIGNS, texts)


def test_a_short_form_of_no_sign_is_refused_naming_it():
    short = dict(TEXTS.short)
    short["hiccups"] = "hiccups"
    texts = parse_sign_texts(
        {"id": "warning_signs_by_text", "intro": TEXTS.intro, "short": short}, "short.yaml"
    )
    with pytest.raises(SignsError, match=r"sign 'hiccups'.*is not a sign that is asked"):
        sign_parts(SIGNS, texts)


# --- what is texted back ---------------------------------------------------------------------

SATURDAY = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def _clinic(name: str = "Test Spine Clinic") -> Clinic:
    return Clinic(
        name=name,
        phone="555-0142",
        after_hours_phone="555-0199",
        timezone="America/New_York",
        office_hours={},
    )


def every_reply(clinic_name: str = "Test Spine Clinic") -> dict[str, str]:
    clinic = _clinic(clinic_name)
    numbers = numbers_now(clinic, SATURDAY)
    signs = current_signs()
    guidance = load_guidance(guidance_path(SCHEDULES))
    parts = sign_parts(SIGNS, TEXTS)
    found = {
        "pain_saved": replies.pain_saved(4, last=False, signs=signs),
        "pain_saved_last": replies.pain_saved(4, last=True, signs=signs),
        "severe": replies.severe_pain(guidance),
        "red_flag_911": replies.red_flag("call_911", list(SIGNS[:4]), numbers, signs),
        "red_flag_team": replies.red_flag("call_team", list(SIGNS[4:]), numbers, signs),
        "signs_saved": replies.signs_saved(last=True, signs=signs),
        "opioid_question": replies.opioid_question("Are you taking opioid pain medicine today?"),
        "opioid_yes": replies.opioid_saved(True, signs),
        "opioid_no": replies.opioid_saved(False, signs),
        "help": replies.help_text(clinic.name, numbers, signs),
        "stopped": replies.stopped(clinic.name, numbers),
        "started": replies.started(clinic.name),
        "unknown": replies.unknown_sender(signs),
    }
    for problem in (None, OUT_OF_RANGE, NOT_WHOLE, NO_QUESTION):
        found[f"not_understood_{problem}"] = replies.not_understood(problem, None, numbers, signs)
    for problem in (None, WHICH_SIGNS):
        found[f"not_understood_signs_{problem}"] = replies.not_understood(
            problem, parts[0], numbers, signs
        )
    return found


@pytest.mark.parametrize("name", ["Test Spine Clinic", "N" * 200, "Clínica de la Columna"])
def test_every_reply_fits_two_segments_in_gsm7(name):
    for what, text in every_reply(name).items():
        encoding, segments = sms_segments(text)
        assert encoding == GSM7 and segments <= MAX_SEGMENTS, (what, text)


def test_help_names_the_clinic_and_its_number_to_call_now():
    text = every_reply()["help"]
    # Saturday: closed, so the after-hours number is the one to call.
    assert text.startswith("Test Spine Clinic: Texts about your recovery.")
    assert "For help, call 555-0199. Text STOP to stop." in text
    assert text.endswith(
        "Call 911 now for chest pain, trouble breathing, new loss of bladder "
        "or bowel control, or new leg weakness."
    )


PHONE = re.compile(r"\d[\d\-]{6,}")


def test_every_reply_reads_at_grade_6_or_below():
    # The 911 line and the signs' labels ("You told us about: ...") are the warning-signs
    # data's own words, measured with that file (tests/test_content_reading_level.py); a
    # phone number is read as a word ("it"). Everything else is measured sentence by sentence.
    safety = safety_911(current_signs())
    texts = {**every_reply(), **{f"signs_{p.number}": p.text for p in sign_parts(SIGNS, TEXTS)}}
    too_hard = {}
    for what, text in texts.items():
        text = PHONE.sub("it", text.replace(safety, ""))
        for sentence in text.replace("\n", ". ").split(". "):
            if sentence.startswith("You told us about:") or len(sentence.split()) < 4:
                continue
            if textstat.flesch_kincaid_grade(sentence) > 6.0:
                too_hard[f"{what}: {sentence}"] = textstat.flesch_kincaid_grade(sentence)
    assert not too_hard, too_hard
