"""Phone numbers as a text-message gateway writes them: E.164 ("+" and 8 to 15 digits).

A patient's phone is typed by a person ("(555) 201-0142", "+44 7700 900123"); an SMS
gateway posts the sender as E.164 ("+15552010142"). ``sms_number`` turns the first into the
second, so a text can be matched to exactly one patient (tracker/texting) and an opt-out
(STOP) applies to the number however it was typed. The rule is the admin page's rule for
on-call numbers (care/admin.py ``check_sms_number``): E.164 as given, or a North American
number of 10 digits (with or without the leading 1); anything else cannot be texted.
"""

from __future__ import annotations

import re

E164_MAX_LENGTH = 16  # "+" and at most 15 digits (ITU-T E.164)
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_NANP = re.compile(r"^1?([2-9][0-9]{2}[2-9][0-9]{6})$")
_SEPARATORS = re.compile(r"[ ().\-]")


def sms_number(raw: str | None) -> str | None:
    """``raw`` as E.164, or None when it is not a number a gateway can text."""
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw.strip())
    if _E164.fullmatch(digits):
        return digits
    nanp = _NANP.fullmatch(digits)
    if nanp and not digits.startswith("+"):
        return "+1" + nanp.group(1)
    return None


def masked(number: str | None) -> str:
    """A number for logs and audit rows about strangers: "+1555***0142"."""
    if not number:
        return "(none)"
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}***{number[-4:]}"
