"""The warning-signs check by text: the signs of schedules/checks/warning_signs.yaml in the
short forms of schedules/texting/warning_signs.yaml, asked as numbered lists.

The signs, their keys, actions and order come from the warning-signs data (the one place
that says what a sign means and what the patient is told); this adds only a few words per
sign, so that the questions fit in text messages. They are packed in order, as many to a
text as fit in ``sms_text.MAX_SEGMENTS`` segments, each list numbered from 1; the answer is
the numbers of the signs the patient has ("1 3"), or 0 for none.

Each language has its own texts: the file's ``translations`` block (the shape of every
``schedules/`` file, tracker/plans/translations.py) gives the intro and short forms in
that language, and the signs' labels come translated from the warning-signs data. A
language whose translation is missing or stale (made from other English) is asked in
English, and the load reports it (``SignTexts.problems``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.plans.translations import TranslationError, read_translations
from tracker.plans.warning_signs import SignsError, WarningSign
from tracker.reminders.sms_text import fits, gsm_friendly

TEXT_FIELDS = ("intro", "short")


@dataclass(frozen=True)
class SignTexts:
    """The file: the question's intro and each sign's short form, by key."""

    path: str
    intro: str
    short: tuple[tuple[str, str], ...]
    language: str = DEFAULT_LANGUAGE
    # Other languages' (language, intro, short forms), from the file's translations.
    translations: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    # Missing or stale translations (asked in English meanwhile).
    problems: tuple[str, ...] = ()

    def of(self, key: str) -> str:
        return dict(self.short)[key]

    def in_language(self, language: str) -> SignTexts:
        """The texts in ``language`` (English when it has no current translation)."""
        for code, intro, short in self.translations:
            if code == language:
                return SignTexts(self.path, intro, short, language=code)
        return self


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
    try:
        found, problems = read_translations(raw, TEXT_FIELDS, path)
    except TranslationError as exc:
        raise SignsError(path, exc.message, None, "translations") from None
    translations = []
    for code, translation in sorted(found.items()):
        their_short = translation.texts["short"]
        translations.append(
            (
                code,
                _text(path, translation.texts["intro"], "intro"),
                tuple(
                    (str(key), _text(path, their_short[str(key)], "short", str(key)))
                    for key in short
                ),
            )
        )
    return SignTexts(
        path=path,
        intro=intro,
        short=tuple(
            (str(key), _text(path, text, "short", str(key))) for key, text in short.items()
        ),
        translations=tuple(translations),
        problems=tuple(problems),
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


def _compose(number: int, count: int, items: list[str], intro: str, language: str) -> str:
    t = translator(language)
    if count == 1:
        head = t.gettext("Warning signs.")
    else:
        head = t.gettext("Warning signs (%(number)s of %(count)s).") % {
            "number": number,
            "count": count,
        }
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
        if fits(_compose(9, 9, [short[s.key] for s in trial], texts.intro, texts.language)):
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
            text=_compose(n, count, [short[s.key] for s in group], texts.intro, texts.language),
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
