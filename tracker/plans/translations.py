"""Translations of clinical content, kept beside the English in the ``schedules/`` files.

Every item (a mapping) with text a patient reads carries a ``translations`` block covering
exactly its English text fields, one entry per language other than English::

    title: Take a short walk
    instructions: Take a short walk. Walk a little longer each day as you feel able.
    translations:
      es:
        title: Dé una caminata corta
        instructions: ...
        translated_from: 3f2a9c1b0d4e   # fingerprint() of the English it was made from
        translator: tracker project team
        reviewed_by: null                 # who confirmed it; null: needs review

``translated_from`` is the fingerprint of the English fields the translation was made from:
when the English changes, the translation is *stale*. A stale or incomplete translation is
never shown (the patient reads the English instead) and is reported, like a missing one, in
the loaders' ``translation_problems`` (tests fail on any) and on the content review sheet.
A block that is malformed (an unknown language or field, a text that is not a text) is
refused on load, as any other error in the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.core.languages import DEFAULT_LANGUAGE
from tracker.core.models import LANGUAGES

# The languages content is translated into (English is the source).
TRANSLATED_LANGUAGES = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
META_FIELDS = ("translated_from", "translator", "reviewed_by")
FINGERPRINT_LENGTH = 12
NEEDS_REVIEW = "needs review by a native speaker / clinician"

Text = str | tuple[str, ...] | Mapping[str, str]


class TranslationError(ValueError):
    """A malformed ``translations`` block; ``where`` names the item, ``message`` the fault."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: translations: {message}")
        self.where = where
        self.message = message


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def fingerprint(english: Mapping[str, Any]) -> str:
    """A short fingerprint of an item's English text fields (field name -> a text, a list of
    texts or a mapping of texts): what ``translated_from`` must say for the English as it is.
    Spacing and line breaks do not count."""
    material = json.dumps(_norm(dict(english)), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


@dataclass(frozen=True)
class Translation:
    language: str
    texts: Mapping[str, Any]  # field -> text (str), texts (tuple) or a mapping of texts
    translated_from: str
    translator: str
    reviewed_by: str | None = None

    @property
    def needs_review(self) -> bool:
        return self.reviewed_by is None

    def to_data(self) -> dict[str, Any]:
        """For a plan's snapshot (JSON): the block as the file writes it."""
        data: dict[str, Any] = {
            name: list(v) if isinstance(v, tuple) else (dict(v) if isinstance(v, Mapping) else v)
            for name, v in self.texts.items()
        }
        data.update(
            translated_from=self.translated_from,
            translator=self.translator,
            reviewed_by=self.reviewed_by,
        )
        return data


def english_fields(item: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The English of ``fields`` that ``item`` has (absent and empty fields left out)."""
    found = {}
    for name in fields:
        value = item.get(name)
        if value is None or value == "" or value == [] or value == {}:
            continue
        found[name] = _norm(value)
    return found


def _same_shape(english: Any, translated: Any) -> bool:
    if isinstance(english, str):
        return isinstance(translated, str) and bool(translated.strip())
    if isinstance(english, list):
        return (
            isinstance(translated, list)
            and len(translated) == len(english)
            and all(isinstance(t, str) and t.strip() for t in translated)
        )
    if isinstance(english, dict):
        return (
            isinstance(translated, dict)
            and set(translated) == set(english)
            and all(isinstance(t, str) and t.strip() for t in translated.values())
        )
    return False


def _frozen(value: Any) -> Any:
    value = _norm(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def read_translations(
    item: Mapping[str, Any], fields: Sequence[str], where: str
) -> tuple[dict[str, Translation], list[str]]:
    """The usable translations of ``item`` (language -> Translation) and the problems with
    them: a language with no translation, a field left untranslated, a stale translation.

    ``fields`` are the item's patient-facing text fields; those it has are the English to
    translate. Raises TranslationError for a malformed block."""
    english = english_fields(item, fields)
    block = item.get("translations")
    problems: list[str] = []
    if block is None:
        if english:
            problems.extend(
                f"{where}: no {code!r} translation of {', '.join(english)}"
                for code in TRANSLATED_LANGUAGES
            )
        return {}, problems
    if not isinstance(block, Mapping):
        raise TranslationError(where, "must map a language code to its translation")
    if not english:
        raise TranslationError(where, "this item has no text to translate")
    found: dict[str, Translation] = {}
    for code in block:
        if code not in TRANSLATED_LANGUAGES:
            known = ", ".join(TRANSLATED_LANGUAGES)
            raise TranslationError(where, f"unknown language {code!r} (known: {known})")
    for code in TRANSLATED_LANGUAGES:
        entry = block.get(code)
        if entry is None:
            problems.append(f"{where}: no {code!r} translation of {', '.join(english)}")
            continue
        if not isinstance(entry, Mapping):
            raise TranslationError(where, f"{code}: must be a mapping of fields")
        unknown = sorted(set(entry) - set(fields) - set(META_FIELDS))
        if unknown:
            raise TranslationError(where, f"{code}: {unknown[0]!r} is not a text of this item")
        extra = sorted(set(entry) & set(fields) - set(english))
        if extra:
            raise TranslationError(where, f"{code}: {extra[0]!r} has no English to translate")
        translator = entry.get("translator")
        if not isinstance(translator, str) or not translator.strip():
            raise TranslationError(where, f"{code}: translator must say who translated it")
        reviewed_by = entry.get("reviewed_by")
        if reviewed_by is not None and not (isinstance(reviewed_by, str) and reviewed_by.strip()):
            raise TranslationError(where, f"{code}: reviewed_by must be a name or null")
        source = entry.get("translated_from")
        if not isinstance(source, str) or not source.strip():
            raise TranslationError(
                where, f"{code}: translated_from must be the English's fingerprint"
            )
        bad = [n for n in english if n in entry and not _same_shape(english[n], entry[n])]
        if bad:
            raise TranslationError(
                where, f"{code}: {bad[0]!r} must be a text (or texts) like its English"
            )
        missing = [n for n in english if n not in entry]
        if missing:
            problems.append(f"{where}: the {code!r} translation has no {', '.join(missing)}")
            continue
        current = fingerprint(english)
        if source.strip() != current:
            problems.append(
                f"{where}: the {code!r} translation is stale: it was made from other English "
                f"(translated_from {source.strip()}, the English now is {current}); translate "
                f"it again, then set translated_from: {current}"
            )
            continue
        found[code] = Translation(
            language=code,
            texts={n: _frozen(entry[n]) for n in english},
            translated_from=current,
            translator=" ".join(translator.split()),
            reviewed_by=" ".join(reviewed_by.split()) if reviewed_by else None,
        )
    return found, problems


def translations_data(translations: Mapping[str, Translation]) -> dict[str, dict[str, Any]]:
    return {code: t.to_data() for code, t in translations.items()}


def translations_from_data(
    data: Any, english: Mapping[str, Any], fields: Sequence[str]
) -> dict[str, Translation]:
    """Translations read back from a snapshot (``translations_data``), kept only where they
    were made from ``english`` as it is in the snapshot; anything odd is dropped, not
    raised: a stored plan must always show (in English at worst)."""
    if not isinstance(data, Mapping):
        return {}
    try:
        found, _ = read_translations({**english, "translations": data}, fields, "snapshot")
    except TranslationError:
        return {}
    return found


def text_in(
    english: Mapping[str, Any], translations: Mapping[str, Translation], language: str | None
) -> dict[str, Any]:
    """``english`` (field -> text) with the fields ``language``'s translation has, in that
    language; English where there is none."""
    translation = translations.get(language or DEFAULT_LANGUAGE)
    if translation is None:
        return dict(english)
    return {
        name: translation.texts.get(name, value) if value else value
        for name, value in english.items()
    }
