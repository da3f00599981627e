"""The message catalogues (tracker/translations, `make translations`): every string a patient
or a caregiver reads has its Spanish translation, the committed .mo says what the .po says,
and no translation loses a placeholder or a link.

The strings are extracted from the code at test time with Babel's own extractor and the
method map of babel.cfg, so a string wrapped today without a translation fails here today.
The care team's pages (tracker/care) and the operator commands (tracker/cli) are English
only and are not extracted.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tracker.core.languages import TRANSLATIONS_DIR
from tracker.core.models import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "tracker"
# English-only areas: the clinic's language.
ENGLISH_ONLY = ("care/", "cli/")
# The keywords `make translations` extracts (Makefile): Babel's, and the lazy ones.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifg]|\{(\w*)\}")
TAG = re.compile(r"<[^>]+>")


@cache
def extracted() -> dict[str, tuple[str, int]]:
    """Every msgid wrapped in tracker/ (outside the English-only areas): where it is."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    found: dict[str, tuple[str, int]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(TRACKER), method_map, options_map, keywords=KEYWORDS
    ):
        if filename.replace("\\", "/").startswith(ENGLISH_ONLY):
            continue
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, (filename, lineno))
    return found


def po_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def forms(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def test_babel_cfg_reaches_the_patient_pages_and_the_messages():
    # A wrong pattern in babel.cfg extracts nothing and would make the next test pass.
    found = {path for path, _line in extracted().values()}
    assert any(p.startswith("patient/templates/") for p in found)
    assert any(p.startswith("app/templates/") for p in found)
    assert "patient/views.py" in found and "plans/card.py" in found
    assert "In an emergency, call <a class=\"phone\" href=\"tel:911\">911</a>." in extracted()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_patient_facing_string_is_translated(language):
    catalog = catalogue(language)
    missing = []
    for msgid, (path, line) in sorted(extracted().items(), key=lambda item: item[1]):
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not all(forms(message)):
            missing.append(f"{path}:{line}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} string(s) without a {language} translation (or fuzzy); add them to "
        f"{po_path(language).relative_to(ROOT)} and compile (make translations):\n"
        + "\n".join(missing)
    )


def _key(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    # A plural entry: a tuple in the .po, a list in the .mo.
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_says_what_the_po_says(language):
    mo_file = po_path(language).with_suffix(".mo")
    assert mo_file.exists(), f"{mo_file} is missing: run make translations"
    with mo_file.open("rb") as f:
        compiled = read_mo(f)
    # What `pybabel compile` writes: the translated entries that are not fuzzy.
    expected = {
        _key(m.id): _key(m.string)
        for m in catalogue(language)
        if m.id and not m.fuzzy and all(forms(m))
    }
    actual = {_key(m.id): _key(m.string) for m in compiled if m.id}
    stale = sorted(
        str(key) for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)
    )
    assert not stale, (
        f"{mo_file.name} is out of step with the .po for: {stale[:10]} "
        "(run `.venv/bin/pybabel compile -d tracker/translations`)"
    )


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders_and_markup(language):
    wrong = []
    for message in catalogue(language):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        for text in forms(message):
            if not text:
                continue
            if _placeholders(text) != _placeholders(source):
                wrong.append(f"{source!r} -> {text!r}: placeholders differ")
            if Counter(TAG.findall(text)) != Counter(TAG.findall(source)):
                wrong.append(f"{source!r} -> {text!r}: markup differs")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_emergency_text_is_marked_for_clinical_review(language):
    # "#. reviewed: no" until a native speaker and a clinician have read it (the content
    # review sheet lists them); a string about calling 911 never goes out unmarked.
    unmarked = [
        m.id
        for m in catalogue(language)
        if m.id
        and "911" in (m.id if isinstance(m.id, str) else m.id[0])
        and not any(c.startswith("reviewed:") for c in m.auto_comments)
    ]
    assert not unmarked, unmarked


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_header_declares_its_plural_rule(language):
    catalog = catalogue(language)
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n!=1)"


GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "lazy_gettext"}


def _gettext_calls_in_f_strings(source: str) -> list[int]:
    """Lines where a gettext call sits inside an f-string: Babel's extractor does not read
    f-strings, so its text never reaches the catalogue and stays English."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                func = inner.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in GETTEXT_NAMES:
                    lines.append(inner.lineno)
    return lines


def test_no_text_to_translate_hides_inside_an_f_string():
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(TRACKER.rglob("*.py"))
        for line in _gettext_calls_in_f_strings(path.read_text(encoding="utf-8"))
    }
    assert not found, f"gettext inside an f-string is never extracted: {sorted(found)}"


def test_the_f_string_check_finds_one():
    hidden = 'html = f\'<a>{escape(t.gettext("Open your page"))}</a>\'\n'
    assert _gettext_calls_in_f_strings(hidden) == [1]
    assert _gettext_calls_in_f_strings('x = t.gettext("Open")\nhtml = f"<a>{x}</a>"\n') == []
