"""How long a text message is: GSM-7 or UCS-2 segments, and fitting a message to a budget.

SPEC section 6: a GSM-7 SMS segment holds 160 characters (153 when concatenated); UCS-2 70
(67). A message is GSM-7 when every character is in the GSM 03.38 basic character set or
its extension table (an extension character takes two of the 160/153 septets); one
character outside both makes the whole message UCS-2, counted in UTF-16 code units (a
character outside the Basic Multilingual Plane, such as an emoji, takes two).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

# GSM 03.38 basic character set (the 128 septets; ESC 0x1B is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: sent as ESC + one septet, so two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
CONCATENATED = {GSM7: 153, UCS2: 67}
# Every text message the tracker composes fits in this many segments, whatever its encoding
# (reminder short text and page text: tests/reminders/test_sms_content.py).
MAX_SEGMENTS = 2


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_units(text: str) -> tuple[str, int]:
    """The encoding and the length in that encoding's units (septets, or UTF-16 units)."""
    if is_gsm7(text):
        return GSM7, sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return UCS2, len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> tuple[str, int]:
    """``(encoding, segments)`` for ``text``: "GSM-7" or "UCS-2", and how many SMS it takes.

    An empty text is one (empty) segment. This counts units, as most gateways do; a gateway
    that will not split an extension pair or a surrogate pair across segments may need one
    more segment at an exact boundary, which the budget below leaves room for.
    """
    encoding, units = sms_units(text)
    if units <= SINGLE[encoding]:
        return encoding, 1
    per = CONCATENATED[encoding]
    return encoding, -(-units // per)


def fits(text: str, segments: int = MAX_SEGMENTS) -> bool:
    return sms_segments(text)[1] <= segments


def gsm_friendly(text: str) -> str:
    """``text`` with characters outside GSM-7 replaced by their plain letter where one exists
    ("Zoë" -> "Zoe", "Łukasz" -> "Lukasz", curly quotes and dashes -> ASCII), so that a
    name does not switch a whole message to UCS-2 (less than half the room). Characters with
    no plain form (another script) are kept: the message is then UCS-2."""
    out = []
    for c in text:
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
            continue
        plain = _PLAIN.get(c)
        if plain is None:
            base = "".join(
                d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d)
            )
            plain = base if base and is_gsm7(base) else c
        out.append(plain)
    return "".join(out)


_PLAIN = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "\u0131": "i",  # dotless i
    "œ": "oe",
    "Œ": "OE",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u00b0": "",  # 100.4 °F -> 100.4 F
}


def shorten(text: str, room: int) -> str:
    """``text`` cut to at most ``room`` characters on a word where possible, with "...".
    A closing parenthesis is kept ("... (patient told to call 911)"): it often says what
    was done about the rest."""
    if len(text) <= room:
        return text
    if room <= 3:
        return ""
    tail = ""
    if text.endswith(")") and " (" in text:
        tail = text[text.rindex(" (") :]
        if len(tail) > room // 2:
            tail = ""
    room -= len(tail)
    cut = text[: room - 3]
    if " " in cut[room // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "..." + tail


def fit(parts: Sequence[tuple[str, bool]], segments: int = MAX_SEGMENTS) -> str:
    """Join ``parts`` (text, required) with spaces into at most ``segments`` segments.

    Optional parts are shortened from the last one backwards, then dropped; required parts
    are kept whole. Every part is made GSM-friendly first. If the required parts alone do
    not fit, they are returned joined (the caller's tests keep that from happening).
    """
    texts = [gsm_friendly(t) for t, _ in parts]
    required = [r for _, r in parts]

    def joined() -> str:
        return " ".join(t for t in texts if t)

    if fits(joined(), segments):
        return joined()
    # A part outside GSM-7 more than halves the room of the whole message: drop such
    # optional parts first when that brings the message back to GSM-7.
    if is_gsm7(" ".join(t for t, r in zip(texts, required, strict=True) if r)):
        for i in reversed(range(len(texts))):
            if not required[i] and not is_gsm7(texts[i]):
                texts[i] = ""
        if fits(joined(), segments):
            return joined()
    for i in reversed(range(len(texts))):
        if required[i] or not texts[i]:
            continue
        original = texts[i]
        # The longest cut of this part that fits (binary search on its length).
        low, high, best = 0, len(original) - 1, ""
        while low <= high:
            mid = (low + high) // 2
            texts[i] = shorten(original, mid)
            if fits(joined(), segments):
                best, low = texts[i], mid + 1
            else:
                high = mid - 1
        texts[i] = best if len(best) >= 12 else ""
        if fits(joined(), segments):
            return joined()
    return joined()
