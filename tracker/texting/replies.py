"""What the tracker texts back: short, plain words (grade 6 or below), each text in at most
``sms_text.MAX_SEGMENTS`` segments, GSM-7 where the words allow.

Pure functions of the facts they are given; the clinical words come from the data files
(the warning signs' labels and 911 line, the severe-pain guidance, the opioid question's
title), the rest says only what was saved and what to text next. Each is written in the
reader's ``language`` (the patient's, or the caregiver's who texted): the frames from the
message catalogue, the signs' labels from the warning-signs data in that language.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.escalation.notices import CallNumbers, Notice
from tracker.plans.severe_pain import SeverePainGuidance
from tracker.plans.warning_signs import WarningSign
from tracker.reminders.safety import and_word, listed, safety_911_in, signs_in
from tracker.reminders.sms_text import fit, gsm_friendly
from tracker.texting.reading import NO_QUESTION, NOT_WHOLE, OUT_OF_RANGE, WHICH_SIGNS
from tracker.texting.sign_questions import SignPart

EN = DEFAULT_LANGUAGE


def all_done(language: str = EN) -> str:
    return translator(language).gettext("That is all for today.")


def pain_ask(language: str = EN) -> str:
    return translator(language).gettext("Text your pain from 0 (none) to 10 (worst).")


ALL_DONE = all_done()
PAIN_ASK = pain_ask()


def _text(*parts: tuple[str, bool]) -> str:
    return fit([p for p in parts if p[0]])


def _call(numbers: CallNumbers, language: str) -> str:
    return translator(language).gettext("For help, call %(phone)s.") % {"phone": numbers.first}


def pain_saved(score: int, *, last: bool, signs: Sequence[WarningSign], language: str = EN) -> str:
    """Saved; when no question follows, the day is done and the 911 line closes it."""
    saved = translator(language).gettext("Thank you. Your pain score of %(score)s is saved.") % {
        "score": score
    }
    if not last:
        return saved
    return _text((saved, True), (all_done(language), False), (safety_911_in(signs, language), True))


def severe_pain(guidance: SeverePainGuidance) -> str:
    """What the web page after a severe score says first: its title and first step (in the
    language ``guidance`` is in: ``SeverePainGuidance.in_language``)."""
    return _text((f"{guidance.title}.", True), (guidance.steps[0], True))


# Who knows, in the reader's language when it is not English: the same branch of
# escalation/notices.py (``Notice.kind``), true at this moment, without the times and names
# the English one adds (what is left stays true).


def _who_knows_words(kind: str, language: str) -> str | None:
    t = translator(language)
    # Each sentence is spelled out here so that extraction finds it.
    words = {
        "not_told": t.gettext(
            "This was not sent to your care team's list. Please call them yourself: %(phone)s."
        ),
        "seen": t.gettext(
            "Someone from your care team saw this. If you need to talk to them, call %(phone)s."
        ),
        "paged": t.gettext(
            "The person on call was paged. If you do not hear back soon, call %(phone)s."
        ),
        "paging": t.gettext(
            "We are paging the person on call now. If you do not hear back soon, call %(phone)s."
        ),
        "closed": t.gettext(
            "Our office is closed. Your care team will see this when it opens. If you need "
            "help before then, call %(phone)s."
        ),
        "open": t.gettext(
            "Your care team can see this on their list now. If you do not hear from them "
            "soon, call %(phone)s."
        ),
    }
    return words.get(kind)


def who_knows(notice: Notice, language: str = EN) -> str:
    """Who knows of the patient's problem, true at this moment (escalation/notices.py)."""
    if language != EN:
        words = _who_knows_words(notice.kind, language)
        if words is not None:
            return gsm_friendly(words % {"phone": notice.phone})
    return gsm_friendly(notice.text)


def red_flag(
    level: str,
    flagged: Sequence[WarningSign],
    numbers: CallNumbers,
    signs: Sequence[WarningSign],
    language: str = EN,
) -> str:
    """At once after a warning sign: 911, or the care team's number to call now."""
    t = translator(language)
    local = {s.key: s for s in signs_in(flagged, language)}
    told = listed([local[s.key].label for s in flagged], and_word(language), language)
    about = t.gettext("You told us about: %(signs)s.") % {"signs": told}
    if level == "call_911":
        return _text((t.gettext("Call 911 now."), True), (about, False))
    # numbers.first is the one to call now: the after-hours number while the office is closed.
    return _text(
        (
            t.gettext("Please call your care team today at %(phone)s.") % {"phone": numbers.first},
            True,
        ),
        (about, False),
        (safety_911_in(signs, language), True),
    )


def signs_saved(*, last: bool, signs: Sequence[WarningSign], language: str = EN) -> str:
    saved = translator(language).gettext("Thank you. Your answers are saved.")
    if not last:
        return saved
    return _text((saved, True), (all_done(language), False), (safety_911_in(signs, language), True))


def opioid_question(title: str, language: str = EN) -> str:
    """The plan's own question (the check-in's title, in the reader's language), answered
    yes or no."""
    return _text((title, True), (translator(language).gettext("Text back YES or NO."), True))


def opioid_saved(taking: bool, signs: Sequence[WarningSign], language: str = EN) -> str:
    t = translator(language)
    # The same words as the patient's Today page after the same answer.
    said = (
        t.gettext("Saved: you take opioid pain medicine today. Please do not drive.")
        if taking
        else t.gettext("Saved: you do not take opioid pain medicine today.")
    )
    return _text((said, True), (all_done(language), False), (safety_911_in(signs, language), True))


def help_text(
    clinic_name: str | None,
    numbers: CallNumbers | None,
    signs: Sequence[WarningSign],
    language: str = EN,
) -> str:
    """HELP: who is texting, how to answer, how to stop, whom to call (SPEC section 6)."""
    t = translator(language)
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        (t.gettext("Texts about your recovery."), True),
        (pain_ask(language), False),
        (_call(numbers, language) if numbers else "", True),
        (t.gettext("Text STOP to stop."), True),
        (safety_911_in(signs, language), True),
    )


def stopped(clinic_name: str | None, numbers: CallNumbers | None, language: str = EN) -> str:
    t = translator(language)
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        (t.gettext("You will get no more texts from us."), True),
        (t.gettext("To get them again, text START."), True),
        (_call(numbers, language) if numbers else "", False),
    )


def started(clinic_name: str | None, language: str = EN) -> str:
    t = translator(language)
    return _text(
        (f"{clinic_name}:" if clinic_name else "", False),
        (t.gettext("You will get texts from us again."), True),
        (t.gettext("Text HELP for help. Text STOP to stop."), True),
    )


def not_understood(
    problem: str | None,
    part: SignPart | None,
    numbers: CallNumbers,
    signs: Sequence[WarningSign],
    language: str = EN,
) -> str:
    """Not understood: say what to send instead (re-asking a numbered list briefly), that
    the care team will see the text, and whom to call."""
    t = translator(language)
    if part is not None:
        count = {"count": len(part.signs)}
        if problem == WHICH_SIGNS:
            ask = (
                t.gettext("Which ones? Text their numbers, from 1 to %(count)s, like 1 3.") % count
            )
        else:
            ask = (
                t.gettext(
                    "Please text the numbers of the signs you have, from 1 to %(count)s, or 0 "
                    "for none."
                )
                % count
            )
    elif problem == OUT_OF_RANGE:
        ask = t.gettext("Pain scores go from 0 to 10. Please text one number, like 4.")
    elif problem == NOT_WHOLE:
        ask = t.gettext("Please text one whole number from 0 to 10, like 4.")
    elif problem == NO_QUESTION:
        ask = pain_ask(language)
    else:
        ask = t.gettext(
            "Sorry, we could not read that. Your care team will see your text. %(ask)s"
        ) % {"ask": pain_ask(language)}
    return _text(
        (ask, True),
        (_call(numbers, language), True),
        (safety_911_in(signs, language), True),
    )


def unknown_sender(signs: Sequence[WarningSign], language: str = EN) -> str:
    """To a number that is not exactly one patient's: nothing saved, nothing revealed."""
    t = translator(language)
    return _text(
        (
            t.gettext("This number is not set up for recovery texts, so your text was not saved."),
            True,
        ),
        (t.gettext("Please call your care team."), True),
        (safety_911_in(signs, language), True),
    )


def not_allowed(
    patient_name: str, numbers: CallNumbers, signs: Sequence[WarningSign], language: str = EN
) -> str:
    """To a caregiver who may only view (scope "view") and texted an answer or a score:
    nothing is recorded; the care team sees the text as it came; whom to call."""
    t = translator(language)
    return _text(
        (
            t.gettext(
                "You can see %(patient)s's page but not record for them, so this was not "
                "saved. Your care team will see your text."
            )
            % {"patient": patient_name},
            True,
        ),
        (_call(numbers, language), True),
        (safety_911_in(signs, language), True),
    )
