"""The languages a patient's pages, messages and clinical content come in.

One message catalogue per language (``tracker/translations/<code>/LC_MESSAGES/messages.po``,
compiled to ``.mo`` beside it; ``make translations`` extracts, updates and compiles) serves
both the web pages (Flask-Babel, wired in ``tracker/app``) and what is written outside a
request (reminders, texts, the printed card): ``translator(language)`` gives the same
catalogue to code that has no request. English is the source language: its catalogue is the
text in the code itself. The care team's pages stay in the clinic's language (English).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from tracker.core.models import LANGUAGES

DEFAULT_LANGUAGE = "en"
# Each language named in itself, as a chooser shows it to someone who reads only that one.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "es": "Español"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def language_or_default(value: object) -> str:
    """``value`` if it is a language the product speaks, else English."""
    return value if isinstance(value, str) and value in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translator(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: the source text as it is)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    return Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
