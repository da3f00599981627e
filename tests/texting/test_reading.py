"""Reading a reply (tracker/texting/reading.py): every kind, at its edges. Pure: no database."""

from __future__ import annotations

import pytest

from tracker.core.config import REPO_ROOT
from tracker.texting.reading import (
    NO_QUESTION,
    NOT_WHOLE,
    OUT_OF_RANGE,
    WHICH_SIGNS,
    Pending,
    Reading,
    read_reply,
)
from tracker.texting.words import load_words, plain, words_path

WORDS = load_words(words_path(str(REPO_ROOT / "schedules")))["en"]
SIGNS_6 = Pending("signs", 6)
YES_NO = Pending("yes_no")


def read(text: str, pending: Pending | None = None, *, opted_out: bool = False) -> Reading:
    return read_reply(text, WORDS, pending=pending, opted_out=opted_out)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("0", 0),
        ("10", 10),
        (" 4 ", 4),
        ("4.", 4),
        ("4!", 4),
        ("4/10", 4),
        ("4 / 10", 4),
        ("4 out of 10", 4),
        ("pain 4", 4),
        ("Pain: 4", 4),
        ("my pain is 7", 7),
        ("PAIN IS 2", 2),
        ("four", 4),
        ("Ten", 10),
        ("zero", 0),
        ("07", 7),
    ],
)
def test_it_reads_a_pain_score(text, score):
    assert read(text) == Reading("pain", score=score)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("11", OUT_OF_RANGE),
        ("100", OUT_OF_RANGE),
        ("-1", OUT_OF_RANGE),
        ("+3", OUT_OF_RANGE),
        ("7.5", NOT_WHOLE),
        ("7,5", NOT_WHOLE),
        (".5", NOT_WHOLE),
        ("yes", NO_QUESTION),
        ("no", NO_QUESTION),
        ("I fell in the kitchen", None),
        ("", None),
        ("4 5", None),
        ("pain", None),
        ("seven and a half", None),
    ],
)
def test_it_does_not_guess_at_anything_else(text, problem):
    assert read(text) == Reading("unparsed", problem=problem)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Stop.", "stop"),
        (" STOPALL ", "stop"),
        ("Unsubscribe", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("quit!", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("HELP", "help"),
        ("help?", "help"),
        ("INFO", "help"),
    ],
)
def test_carrier_keywords_win_whatever_was_asked(text, keyword):
    for pending in (None, SIGNS_6, YES_NO):
        assert read(text, pending) == Reading(keyword)


def test_a_keyword_inside_a_sentence_is_not_one():
    assert read("please do not stop").kind == "unparsed"
    assert read("help me").kind == "unparsed"


def test_yes_opts_back_in_only_a_number_that_opted_out():
    assert read("YES", opted_out=True) == Reading("start")
    assert read("yes", YES_NO) == Reading("yes")
    assert read("yes") == Reading("unparsed", problem=NO_QUESTION)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1", (1,)),
        ("1 3", (1, 3)),
        ("1,3", (1, 3)),
        ("1, 3", (1, 3)),
        ("3 and 1", (1, 3)),
        ("1 & 6", (1, 6)),
        ("one and three", (1, 3)),
        ("2 2", (2,)),
        ("6", (6,)),
        ("0", ()),
        ("none", ()),
        ("No", ()),
        ("nothing", ()),
    ],
)
def test_it_reads_the_numbers_of_a_signs_list(text, numbers):
    assert read(text, SIGNS_6) == Reading("signs", numbers=numbers)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("7", OUT_OF_RANGE), ("0 3", OUT_OF_RANGE), ("1 9", OUT_OF_RANGE), ("yes", WHICH_SIGNS)],
)
def test_a_number_outside_the_list_is_not_a_pain_score(text, problem):
    # While a numbered list is asked, a number answers it: 7 is no sign, not pain 7.
    assert read(text, SIGNS_6) == Reading("unparsed", problem=problem)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("yes", "yes"), ("Y", "yes"), ("yep", "yes"), ("no", "no"), ("Nope.", "no"), ("N", "no")],
)
def test_it_reads_yes_and_no_to_a_yes_or_no_question(text, kind):
    assert read(text, YES_NO) == Reading(kind)


def test_a_pain_score_still_counts_while_a_yes_or_no_question_is_open():
    assert read("5", YES_NO) == Reading("pain", score=5)


def test_plain_keeps_signs_and_points_that_change_a_number():
    assert plain("  Stop! ") == "stop"
    assert plain('"Yes."') == "yes"
    assert plain("-1") == "-1"
    assert plain(".5") == ".5"
