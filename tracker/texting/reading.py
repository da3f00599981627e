"""What a reply to a text says: a pure reading of its words, given what the last text asked.

In this order, first match wins:

1. a carrier keyword, the whole reply (STOP and its synonyms, START, HELP): always;
2. an answer to the question the last text asked today: the numbers of a warning-signs
   list ("1 3", "1, 3", "1 and 3", "1 y 3"; 0 or a "none" word for none), or yes or no to a
   yes-or-no question. While a numbered list is asked, a number is an answer to it, never
   a pain score: "3" names the third sign;
3. a pain score: one whole number from 0 to 10, alone or after a pain word ("pain 4",
   "my pain is 4", "4/10", "four");
4. anything else is not understood: the patient gets a short help reply, and the care team
   sees the text as it came. ``problem`` says what was wrong, for that reply.

Nothing here touches the database (conversation.py does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.texting.words import Words, plain

PAIN = "pain"
SIGNS = "signs"
YES = "yes"
NO = "no"
UNPARSED = "unparsed"

# Why a reply was not understood (the help reply says what to send instead).
OUT_OF_RANGE = "out_of_range"  # a number that is no pain score (11, -1) or no sign's number
NOT_WHOLE = "not_whole"  # 7.5
WHICH_SIGNS = "which_signs"  # "yes" to a numbered list: which ones?
NO_QUESTION = "no_question"  # yes or no when nothing was asked

_SCORE = re.compile(r"(?P<n>[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+))(?:\s*(?:/|out of)\s*10)?")
# "1 and 3", Spanish "1 y 3".
_LIST_SEPARATORS = re.compile(r"\s*(?:,|;|&|\+|\band\b|\by\b|\s)\s*")


@dataclass(frozen=True)
class Pending:
    """The question the last text asked today: "signs" (with how many items it listed) or
    "yes_no"; the pain question needs no state (a number is read as pain anyway)."""

    kind: str
    items: int = 0


@dataclass(frozen=True)
class Reading:
    kind: str  # stop | start | help | pain | signs | yes | no | unparsed
    score: int | None = None
    numbers: tuple[int, ...] = ()
    problem: str | None = None


def _number_list(text: str, words: Words) -> list[int] | None:
    """ "1 3", "1, 3", "1 and 3", "one and three" as [1, 3]; None if it is not only numbers."""
    parts = [p for p in _LIST_SEPARATORS.split(text) if p]
    if not parts:
        return None
    numbers = []
    for part in parts:
        if part.isdigit():
            numbers.append(int(part))
        elif part in words.numbers:
            numbers.append(words.numbers[part])
        else:
            return None
    return numbers


def _score(text: str, words: Words) -> Reading | None:
    """A pain score, or why a number-like reply is not one; None if it is not about one."""
    for word in words.pain_words:
        if text.startswith(word + " ") or text.startswith(word + ":"):
            text = text[len(word) + 1 :].lstrip(" :")
            break
    if text in words.numbers:
        return Reading(PAIN, score=words.numbers[text])
    match = _SCORE.fullmatch(text)
    if match is None:
        return None
    raw = match["n"]
    if not re.fullmatch(r"\d+", raw):
        if re.fullmatch(r"[+-]?\d+", raw):
            return Reading(UNPARSED, problem=OUT_OF_RANGE)  # -1, +3
        return Reading(UNPARSED, problem=NOT_WHOLE)  # 7.5, 7,5
    score = int(raw)
    if score > 10:
        return Reading(UNPARSED, problem=OUT_OF_RANGE)
    return Reading(PAIN, score=score)


def read_reply(
    reply: str, words: Words, *, pending: Pending | None = None, opted_out: bool = False
) -> Reading:
    """What ``reply`` says, given the question ``pending`` (see the module's docstring)."""
    keyword = words.keyword(reply, opted_out=opted_out)
    if keyword is not None:
        return Reading(keyword)
    text = plain(reply)
    if pending is not None and pending.kind == SIGNS:
        if text in words.none:
            return Reading(SIGNS)
        numbers = _number_list(text, words)
        if numbers is not None:
            if numbers == [0]:
                return Reading(SIGNS)
            if all(1 <= n <= pending.items for n in numbers):
                return Reading(SIGNS, numbers=tuple(sorted(set(numbers))))
            return Reading(UNPARSED, problem=OUT_OF_RANGE)
        if text in words.yes:
            return Reading(UNPARSED, problem=WHICH_SIGNS)
        return Reading(UNPARSED)
    if pending is not None and pending.kind == "yes_no":
        if text in words.yes:
            return Reading(YES)
        if text in words.no:
            return Reading(NO)
    score = _score(text, words)
    if score is not None:
        return score
    if text in words.yes or text in words.no:
        return Reading(UNPARSED, problem=NO_QUESTION)
    return Reading(UNPARSED)
