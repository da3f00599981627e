"""What a patient is told to do after a severe pain score: schedules/checks/severe_pain.yaml,
validated on load (like warning_signs.py), or the clinic's own text instead of its steps.

The title, steps and 911 lines carry their translations beside the English (one top-level
``translations`` block, plans/translations.py); ``in_language`` gives them in a patient's
language. A clinic's own steps stay in the clinic's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

from tracker.core.languages import DEFAULT_LANGUAGE
from tracker.core.models import Clinic
from tracker.plans.templates import TemplateError
from tracker.plans.translations import Translation, TranslationError, read_translations, text_in

TEXT_FIELDS = ("title", "source", "clinician_review")
LIST_FIELDS = ("steps", "call_911")
# What a patient reads, each translated beside the English.
PATIENT_FIELDS = ("title", "steps", "call_911")


@dataclass(frozen=True)
class SeverePainGuidance:
    title: str
    steps: tuple[str, ...]
    call_911: tuple[str, ...]
    source: str
    clinician_review: str
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    # Missing or stale translations (English shown instead); tests fail on any.
    translation_problems: tuple[str, ...] = field(default=(), compare=False, hash=False)
    language: str = field(default=DEFAULT_LANGUAGE, compare=False, hash=False)
    # Whether ``steps`` are the clinic's own words (kept in them in every language).
    clinic_steps: bool = field(default=False, compare=False, hash=False)

    def in_language(self, language: str | None) -> SeverePainGuidance:
        """The title, steps and 911 lines in ``language`` (English where untranslated; a
        clinic's own steps as the clinic wrote them)."""
        language = language or DEFAULT_LANGUAGE
        if language == self.language:
            return self
        if self.language != DEFAULT_LANGUAGE:
            raise ValueError(f"the guidance is already in {self.language!r}")
        english = {"title": self.title, "steps": self.steps, "call_911": self.call_911}
        texts = text_in(english, self.translations, language)
        return replace(
            self,
            title=texts["title"],
            steps=self.steps if self.clinic_steps else tuple(texts["steps"]),
            call_911=tuple(texts["call_911"]),
            language=language,
        )


def _text(path: str, value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(path, "must be a non-empty text", None, field)
    return " ".join(value.split())


@cache
def load_guidance(path: str) -> SeverePainGuidance:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(path, "is not valid YAML") from exc
    except OSError as exc:
        raise TemplateError(path, f"cannot be read ({exc.strerror})") from exc
    if not isinstance(raw, dict):
        raise TemplateError(path, "must be a mapping of fields")
    if raw.get("id") != "severe_pain":
        raise TemplateError(path, "must be 'severe_pain'", None, "id")
    texts = {name: _text(path, raw.get(name), name) for name in TEXT_FIELDS}
    lists = {}
    for name in LIST_FIELDS:
        items = raw.get(name)
        if not isinstance(items, list) or not items:
            raise TemplateError(path, "must be a non-empty list of texts", None, name)
        lists[name] = tuple(_text(path, item, name) for item in items)
    try:
        translations, problems = read_translations(raw, PATIENT_FIELDS, "severe pain guidance")
    except TranslationError as exc:
        raise TemplateError(path, exc.message, None, "translations") from None
    return SeverePainGuidance(
        **texts, **lists, translations=translations, translation_problems=tuple(problems)
    )


def guidance_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "checks" / "severe_pain.yaml")


def for_clinic(
    clinic: Clinic, default: SeverePainGuidance, language: str | None = None
) -> SeverePainGuidance:
    """``default`` with the clinic's own steps (one a line) and source, when it has them; with
    ``language``, in that language (the clinic's own steps stay in the clinic's words)."""
    own = [line.strip() for line in (clinic.severe_pain_guidance or "").splitlines()]
    steps = tuple(line for line in own if line)
    if not steps:
        return default.in_language(language)
    return SeverePainGuidance(
        title=default.title,
        steps=steps,
        call_911=default.call_911,
        source=clinic.severe_pain_guidance_source or f"{clinic.name}'s own text",
        clinician_review="Written by the clinic.",
        translations=default.translations,
        clinic_steps=True,
    ).in_language(language)
