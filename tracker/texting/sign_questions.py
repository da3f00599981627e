"""The warning-signs check by text: the signs of schedules/checks/warning_signs.yaml in the
short forms of schedules/texting/warning_signs.yaml, asked as numbered lists.

The signs, their keys, actions and order come from the warning-signs data (the one place
that says what a sign means and what the patient is told); this adds only a few words per
sign, so that the questions fit in text messages. They are packed in order, as many to a
text as fit in ``sms_text.MAX_SEGMENTS`` segments, each list numbered from 1; the answer is
the numbers of the signs the patient has ("1 3"), or 0 for none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tracker.plans.warning_signs import SignsError, WarningSign
from tracker.reminders.sms_text import fits, gsm_friendly


@dataclass(frozen=True)
class SignTexts:
    """The file: the question's intro and each sign's short form, by key."""

    path: str
    intro: str
    short: tuple[tuple[str, str], ...]

    def of(self, key: str) -> str:
        return dict(self.short)[key]


@dataclass(frozen=True)
class SignPart:
    """One text of the check: which part, the signs it lists (in order) and its words."""

    number: int
    count: int
    signs: tuple[WarningSign, ...]
    text: str

    @property
    def question(self) -> str:
        """What an outbound text asking it records (``TextMessage.question``)."""
        return f"signs:{self.number}"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.signs)


def _text(path: str, value: Any, field: str, key: str | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SignsError(path, "must be non-empty text", key, field)
    return " ".join(value.split())


def parse_sign_texts(raw: Any, path: str) -> SignTexts:
    if not isinstance(raw, dict) or raw.get("id") != "warning_signs_by_text":
        raise SignsError(path, "must be a mapping with id: warning_signs_by_text", None, None)
    intro = _text(path, raw.get("intro"), "intro")
    short = raw.get("short")
    if not isinstance(short, dict) or not short:
        raise SignsError(path, "must map each sign's key to its short form", None, "short")
    return SignTexts(
        path=path,
        intro=intro,
        short=tuple(
            (str(key), _text(path, text, "short", str(key))) for key, text in short.items()
        ),
    )


@cache
def load_sign_texts(path: str) -> SignTexts:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SignsError(path, "is not valid YAML", None, None) from exc
    except OSError as exc:
        raise SignsError(path, f"cannot be read ({exc.strerror})", None, None) from exc
    return parse_sign_texts(raw, path)


def sign_texts_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "texting" / "warning_signs.yaml")


def _compose(number: int, count: int, items: list[str], intro: str) -> str:
    head = "Warning signs." if count == 1 else f"Warning signs ({number} of {count})."
    lines = [f"{head} {intro}", *(f"{i} {item}" for i, item in enumerate(items, start=1))]
    return gsm_friendly("\n".join(lines))


@cache
def sign_parts(signs: tuple[WarningSign, ...], texts: SignTexts) -> tuple[SignPart, ...]:
    """The check as texts: every sign asked, in order, as few texts as fit."""
    short = dict(texts.short)
    keys = [s.key for s in signs]
    missing = [k for k in keys if k not in short]
    if missing:
        raise SignsError(texts.path, "has no short form for this sign", missing[0], "short")
    extra = [k for k in short if k not in keys]
    if extra:
        raise SignsError(texts.path, "is not a sign that is asked", extra[0], "short")
    groups: list[list[WarningSign]] = [[]]
    for sign in signs:
        trial = [*groups[-1], sign]
        # Numbered "(9 of 9)" at worst: a part that fits then fits with its real numbers.
        if fits(_compose(9, 9, [short[s.key] for s in trial], texts.intro)):
            groups[-1] = trial
        elif groups[-1]:
            groups.append([sign])
        else:
            raise SignsError(texts.path, "is too long for one text message", sign.key, "short")
    count = len(groups)
    return tuple(
        SignPart(
            number=n,
            count=count,
            signs=tuple(group),
            text=_compose(n, count, [short[s.key] for s in group], texts.intro),
        )
        for n, group in enumerate(groups, start=1)
    )


def part_by_question(parts: tuple[SignPart, ...], question: str | None) -> SignPart | None:
    """The part an outbound text's ``question`` ("signs:2") asked, if it is one."""
    if not question or not question.startswith("signs:"):
        return None
    try:
        number = int(question.split(":", 1)[1])
    except ValueError:
        return None
    return next((p for p in parts if p.number == number), None)
