"""The safety lines of a message (what to do for a warning sign) in the reader's language.

The signs, their labels and their actions come from the warning-signs data
(schedules/checks/warning_signs.yaml and its translations: ``Signs.in_language``); only the
frame of each sentence ("Call 911 now for ...") is in the message catalogue. English is
exactly ``warning_signs.safety_911`` / ``safety_lines``. Used by the reminders and, through
them, by the replies to texts (tracker/texting/replies.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.plans.warning_signs import (
    WarningSign,
    labels,
    safety_911,
    safety_lines,
    spoken_list,
)


def signs_in(signs: Iterable[WarningSign], language: str) -> tuple[WarningSign, ...]:
    """``signs`` with their questions and labels in ``language`` (English when the data has
    no current translation: the warning-signs data decides, not this module)."""
    if language == DEFAULT_LANGUAGE:
        return tuple(signs)
    localize = getattr(signs, "in_language", None)
    if localize is not None:
        return tuple(localize(language))
    return tuple(
        sign.in_language(language) if hasattr(sign, "in_language") else sign for sign in signs
    )


def listed(items: list[str], joiner: str, language: str) -> str:
    """Items as one phrase: English "a, b, or c" (``spoken_list``); other languages without
    the comma before the last item ("a, b o c"), "; " between items that have commas."""
    if language == DEFAULT_LANGUAGE:
        return spoken_list(items, joiner)
    if len(items) <= 2:
        return f" {joiner} ".join(items)
    separator = "; " if any("," in item for item in items) else ", "
    return f"{separator.join(items[:-1])} {joiner} {items[-1]}"


def or_word(language: str) -> str:
    return translator(language).gettext("or")


def and_word(language: str) -> str:
    return translator(language).gettext("and")


def safety_911_in(signs: Iterable[WarningSign], language: str) -> str:
    """What to do for a 911 sign, in one sentence, in ``language``."""
    if language == DEFAULT_LANGUAGE:
        return safety_911(signs)
    local = signs_in(signs, language)
    return translator(language).gettext("Call 911 now for %(signs)s.") % {
        "signs": listed(labels(local, "call_911"), or_word(language), language)
    }


def team_line_in(signs: Iterable[WarningSign], clinic_phone: str, language: str) -> str:
    """What to do for a call-the-team sign ("" when no sign asks for that)."""
    local = signs_in(signs, language)
    team = labels(local, "call_team")
    if not team:
        return ""
    return translator(language).gettext("Call your care team at %(phone)s for %(signs)s.") % {
        "phone": clinic_phone,
        "signs": listed(team, or_word(language), language),
    }


def safety_lines_in(signs: Iterable[WarningSign], clinic_phone: str, language: str) -> str:
    """The safety paragraph of a reminder in ``language``: the 911 signs, then the
    call-the-team signs."""
    signs = tuple(signs)
    if language == DEFAULT_LANGUAGE:
        return safety_lines(signs, clinic_phone)
    team = team_line_in(signs, clinic_phone, language)
    first = safety_911_in(signs, language)
    return f"{first} {team}" if team else first


def other_signs_line(clinic_phone: str, language: str) -> str:
    """The short form of the call-the-team line, where a text message has no room for the
    whole list (a caregiver's text: the full list is in their email and on the page)."""
    return translator(language).gettext(
        "For other warning signs, call the care team at %(phone)s."
    ) % {"phone": clinic_phone}
