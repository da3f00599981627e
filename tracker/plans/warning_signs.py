"""The warning-signs check: questions from schedules/checks/warning_signs.yaml, and triage.

The file is validated on load, with an error naming the file, the sign and the field: every
sign needs a key, a question, a label, an action and a ``source`` naming entries of the
file's ``sources`` (where the sign and its action come from: SPEC or a seeds page). A
``confirm`` note marks an action no source gives, for a clinician to confirm. Retired signs
(no longer asked) keep their question so that answers stored under their keys still read.

Each sign's question and label carry their translations beside the English (``translations``,
plans/translations.py); ``Signs.in_language`` gives the signs in a patient's language, keys,
actions and order unchanged. A missing or stale translation is listed in
``Signs.translation_problems`` (tests fail on any) and the sign is asked in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tracker.core.languages import DEFAULT_LANGUAGE
from tracker.plans.templates import TemplateError
from tracker.plans.translations import Translation, TranslationError, read_translations, text_in

ACTIONS = ("call_911", "call_team", "none")
# Most serious first: the advice shown is the most serious any answer calls for.
SEVERITY_ORDER = ("call_911", "call_team", "none")
_SIGN_FIELDS = {"key", "question", "label", "action", "source", "confirm", "translations"}
# A sign's texts a patient reads, each translated beside the English.
SIGN_TEXT_FIELDS = ("question", "label")


class SignsError(TemplateError):
    """A warning-signs file that cannot be used; the message names file, sign and field."""

    def __init__(self, path: str, message: str, sign: str | None, field_name: str | None):
        where = path
        if sign is not None:
            where += f": sign {sign!r}"
        if field_name is not None:
            where += f": field {field_name!r}"
        ValueError.__init__(self, f"{where}: {message}")
        self.path, self.activity, self.field = path, sign, field_name


@dataclass(frozen=True)
class WarningSign:
    key: str
    question: str
    action: str
    label: str = ""
    source: tuple[str, ...] = ()
    confirm: str | None = None
    # language -> Translation of question and label (current ones only).
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    language: str = field(default=DEFAULT_LANGUAGE, compare=False, hash=False)

    def in_language(self, language: str | None) -> WarningSign:
        """This sign with its question and label in ``language`` (English where there is
        no current translation)."""
        language = language or DEFAULT_LANGUAGE
        if language == self.language:
            return self
        if self.language != DEFAULT_LANGUAGE:
            raise ValueError(f"sign {self.key!r} is already in {self.language!r}")
        english = {"question": self.question, "label": self.label}
        texts = text_in(english, self.translations, language)
        return replace(self, question=texts["question"], label=texts["label"], language=language)


class Signs(tuple):
    """The signs asked, in order (a tuple of ``WarningSign``), with the file's retired signs
    and version. Hashable like a tuple: the form class is cached on it."""

    retired: tuple[WarningSign, ...] = ()
    version: int = 0
    language: str = DEFAULT_LANGUAGE
    translation_problems: tuple[str, ...] = ()

    def __new__(
        cls,
        signs: Iterable[WarningSign],
        retired: Iterable[WarningSign] = (),
        version: int = 0,
        *,
        language: str = DEFAULT_LANGUAGE,
        translation_problems: Iterable[str] = (),
    ) -> Signs:
        self = super().__new__(cls, signs)
        self.retired = tuple(retired)
        self.version = version
        self.language = language
        self.translation_problems = tuple(translation_problems)
        self._localized: dict[str, Signs] = {}
        return self

    def in_language(self, language: str | None) -> Signs:
        """These signs (and the retired ones) with questions and labels in ``language``;
        the same object for the same language, so a form class cached on it is reused."""
        language = language or DEFAULT_LANGUAGE
        if language == self.language:
            return self
        if language not in self._localized:
            self._localized[language] = Signs(
                (s.in_language(language) for s in self),
                (s.in_language(language) for s in self.retired),
                self.version,
                language=language,
                translation_problems=self.translation_problems,
            )
        return self._localized[language]


def with_retired(signs: Iterable[WarningSign]) -> tuple[WarningSign, ...]:
    """The signs asked, then (for ``Signs``) the retired ones: every sign a stored answer
    can be about."""
    retired = signs.retired if isinstance(signs, Signs) else ()
    return (*signs, *retired)


def questions_by_key(signs: Iterable[WarningSign]) -> dict[str, str]:
    """key -> question for every sign asked and, for ``Signs``, every retired one: what a
    stored answer under that key was an answer to."""
    return {s.key: s.question for s in with_retired(signs)}


def _text(path: str, item: Mapping[str, Any], field: str, key: str, *, required: bool = True):
    value = item.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SignsError(path, "must be non-empty text", key, field)
    return " ".join(value.split())


def _sign(
    path: str,
    item: Any,
    sources: Mapping[str, str],
    *,
    retired: bool,
    problems: list[str] | None = None,
) -> WarningSign:
    key = item.get("key") if isinstance(item, dict) else None
    if not isinstance(key, str) or not key.strip():
        raise SignsError(path, "each sign needs a key", None, "key")
    unknown = sorted(set(item) - _SIGN_FIELDS)
    if unknown:
        raise SignsError(path, f"unknown field(s): {', '.join(unknown)}", key, unknown[0])
    question = _text(path, item, "question", key)
    # The label words the sign in reminders' safety lines; a retired sign is in none.
    label = _text(path, item, "label", key, required=not retired) or ""
    if item.get("action") not in ACTIONS:
        raise SignsError(path, f"must be one of {', '.join(ACTIONS)}", key, "action")
    source = item.get("source")
    if isinstance(source, str):
        source = [source]
    if not isinstance(source, list) or not source:
        raise SignsError(
            path,
            "is missing: name where this sign and its action come from (SPEC or a seeds page)",
            key,
            "source",
        )
    for name in source:
        if name not in sources:
            known = ", ".join(sorted(sources)) or "none"
            raise SignsError(path, f"unknown source {name!r} (known: {known})", key, "source")
    confirm = _text(path, item, "confirm", key, required=False)
    try:
        translations, found = read_translations(item, SIGN_TEXT_FIELDS, f"sign {key!r}")
    except TranslationError as exc:
        raise SignsError(path, exc.message, key, "translations") from None
    if problems is not None:
        problems.extend(found)
    return WarningSign(
        key, question, item["action"], label, tuple(source), confirm, translations=translations
    )


def parse_signs(raw: Any, path: str) -> Signs:
    if not isinstance(raw, dict):
        raise SignsError(path, "must be a mapping with id, version, sources and signs", None, None)
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SignsError(path, "must be a whole number of 1 or more", None, "version")
    sources = raw.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise SignsError(path, "must map source names to what they are", None, "sources")
    for name, what in sources.items():
        if not isinstance(what, str) or not what.strip():
            raise SignsError(path, f"source {name!r} must say what it is", None, "sources")
    signs = raw.get("signs")
    if not isinstance(signs, list) or not signs:
        raise SignsError(path, "must have a non-empty list of signs", None, "signs")
    retired_raw = raw.get("retired") or []
    if not isinstance(retired_raw, list):
        raise SignsError(path, "must be a list of signs", None, "retired")
    problems: list[str] = []
    asked = [_sign(path, item, sources, retired=False, problems=problems) for item in signs]
    retired = [_sign(path, item, sources, retired=True, problems=problems) for item in retired_raw]
    seen: set[str] = set()
    for sign in (*asked, *retired):
        if sign.key in seen:
            raise SignsError(path, "duplicate key (keys are stored with answers)", sign.key, "key")
        seen.add(sign.key)
    return Signs(asked, retired, version, translation_problems=problems)


@cache
def load_signs(path: str) -> Signs:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return parse_signs(raw, path)


def signs_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "checks" / "warning_signs.yaml")


def current_signs(language: str | None = None) -> Signs:
    """The signs of the running app's SCHEDULES_DIR, or the shipped file outside an app; with
    ``language``, their questions and labels in it."""
    from flask import current_app, has_app_context

    from tracker.core.config import REPO_ROOT

    directory = (
        current_app.config["SCHEDULES_DIR"] if has_app_context() else str(REPO_ROOT / "schedules")
    )
    return _signs_in(signs_path(directory), language)


@cache
def _signs_in(path: str, language: str | None) -> Signs:
    """``load_signs`` in ``language``: built once, not for every page or message."""
    return load_signs(path).in_language(language)


def severity(signs: tuple[WarningSign, ...], answers: dict[str, bool]) -> str:
    """The most serious action any "yes" answer calls for, or "none"."""
    actions = {s.action for s in signs if answers.get(s.key)}
    return next(level for level in SEVERITY_ORDER if level in actions or level == "none")


def labels(signs: Iterable[WarningSign], action: str) -> list[str]:
    return [s.label for s in signs if s.action == action]


def spoken_list(items: list[str], joiner: str = "or") -> str:
    """Items joined: "a, b, or c", or "a; b; or c" when an item has a comma of its own."""
    if len(items) <= 2:
        return f" {joiner} ".join(items)
    separator = "; " if any("," in item for item in items) else ", "
    return f"{separator.join(items[:-1])}{separator.rstrip()} {joiner} {items[-1]}"


def signs_911(signs: Iterable[WarningSign]) -> str:
    """The 911 signs in words: "chest pain, trouble breathing, ..., or new leg weakness"."""
    return spoken_list(labels(signs, "call_911"))


def safety_911(signs: Iterable[WarningSign]) -> str:
    """What to do for a 911 sign, in one sentence, from the signs' data."""
    return f"Call 911 now for {signs_911(signs)}."


def safety_lines(signs: Iterable[WarningSign], clinic_phone: str) -> str:
    """The safety paragraph of a reminder: the 911 signs, then the call-the-team signs."""
    signs = tuple(signs)
    team = labels(signs, "call_team")
    text = safety_911(signs)
    if team:
        text += f" Call your care team at {clinic_phone} for {spoken_list(team)}."
    return text
