"""What the tracker texts back: short, plain words (grade 6 or below), each text in at most
``sms_text.MAX_SEGMENTS`` segments, GSM-7 where the words allow.

Pure functions of the facts they are given; the clinical words come from the data files
(the warning signs' labels and 911 line, the severe-pain guidance, the opioid question's
title), the rest says only what was saved and what to text next.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.escalation.notices import CallNumbers, Notice
from tracker.plans.severe_pain import SeverePainGuidance
from tracker.plans.warning_signs import WarningSign, safety_911, spoken_list
from tracker.reminders.sms_text import fit, gsm_friendly
from tracker.texting.reading import NO_QUESTION, NOT_WHOLE, OUT_OF_RANGE, WHICH_SIGNS
from tracker.texting.sign_questions import SignPart

ALL_DONE = "That is all for today."
PAIN_ASK = "Text your pain from 0 (none) to 10 (worst)."


def _text(*parts: tuple[str, bool]) -> str:
    return fit([p for p in parts if p[0]])


def pain_saved(score: int, *, last: bool, signs: Sequence[WarningSign]) -> str:
    """Saved; when no question follows, the day is done and the 911 line closes it."""
    saved = f"Thank you. Your pain score of {score} is saved."
    if not last:
        return saved
    return _text((saved, True), (ALL_DONE, False), (safety_911(signs), True))


def severe_pain(guidance: SeverePainGuidance) -> str:
    """What the web page after a severe score says first: its title and first step."""
    return _text((f"{guidance.title}.", True), (guidance.steps[0], True))


def who_knows(notice: Notice) -> str:
    """Who knows of the patient's problem, true at this moment (escalation/notices.py)."""
    return gsm_friendly(notice.text)


def red_flag(
    level: str, flagged: Sequence[WarningSign], numbers: CallNumbers, signs: Sequence[WarningSign]
) -> str:
    """At once after a warning sign: 911, or the care team's number to call now."""
    told = spoken_list([s.label for s in flagged], "and")
    if level == "call_911":
        return _text(("Call 911 now.", True), (f"You told us about: {told}.", False))
    # numbers.first is the one to call now: the after-hours number while the office is closed.
    return _text(
        (f"Please call your care team today at {numbers.first}.", True),
        (f"You told us about: {told}.", False),
        (safety_911(signs), True),
    )


def signs_saved(*, last: bool, signs: Sequence[WarningSign]) -> str:
    saved = "Thank you. Your answers are saved."
    if not last:
        return saved
    return _text((saved, True), (ALL_DONE, False), (safety_911(signs), True))


def opioid_question(title: str) -> str:
    """The plan's own question (the check-in's title), answered yes or no."""
    return _text((title, True), ("Text back YES or NO.", True))


def opioid_saved(taking: bool, signs: Sequence[WarningSign]) -> str:
    # The same words as the patient's Today page after the same answer.
    said = (
        "Saved: you take opioid pain medicine today. Please do not drive."
        if taking
        else "Saved: you do not take opioid pain medicine today."
    )
    return _text((said, True), (ALL_DONE, False), (safety_911(signs), True))


def help_text(clinic_name: str | None, numbers: CallNumbers | None, signs: Sequence[WarningSign]):
    """HELP: who is texting, how to answer, how to stop, whom to call (SPEC section 6)."""
    call = f"For help, call {numbers.first}." if numbers else ""
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        ("Texts about your recovery.", True),
        (PAIN_ASK, False),
        (call, True),
        ("Text STOP to stop.", True),
        (safety_911(signs), True),
    )


def stopped(clinic_name: str | None, numbers: CallNumbers | None) -> str:
    call = f"For help, call {numbers.first}." if numbers else ""
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        ("You will get no more texts from us.", True),
        ("To get them again, text START.", True),
        (call, False),
    )


def started(clinic_name: str | None) -> str:
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        ("You will get texts from us again.", True),
        ("Text HELP for help. Text STOP to stop.", True),
    )


def not_understood(
    problem: str | None,
    part: SignPart | None,
    numbers: CallNumbers,
    signs: Sequence[WarningSign],
) -> str:
    """Not understood: say what to send instead (re-asking a numbered list briefly), that
    the care team will see the text, and whom to call."""
    if part is not None:
        count = len(part.signs)
        if problem == WHICH_SIGNS:
            ask = f"Which ones? Text their numbers, from 1 to {count}, like 1 3."
        else:
            ask = (
                f"Please text the numbers of the signs you have, from 1 to {count}, or 0 for none."
            )
    elif problem == OUT_OF_RANGE:
        ask = "Pain scores go from 0 to 10. Please text one number, like 4."
    elif problem == NOT_WHOLE:
        ask = "Please text one whole number from 0 to 10, like 4."
    elif problem == NO_QUESTION:
        ask = PAIN_ASK
    else:
        ask = f"Sorry, we could not read that. Your care team will see your text. {PAIN_ASK}"
    return _text(
        (ask, True),
        (f"For help, call {numbers.first}.", True),
        (safety_911(signs), True),
    )


def unknown_sender(signs: Sequence[WarningSign]) -> str:
    """To a number that is not exactly one patient's: nothing saved, nothing revealed."""
    return _text(
        ("This number is not set up for recovery texts, so your text was not saved.", True),
        ("Please call your care team.", True),
        (safety_911(signs), True),
    )
