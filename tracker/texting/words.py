"""The words a reply is read by: schedules/texting/words.yaml, per language, checked on load.

Data, not code, so that another language is a block of that file (English and Spanish):
the carrier keywords (STOP and its synonyms, START, HELP), yes and no, "none" for a
numbered list, the words that may come before a pain score and number words. A bad file
is refused with an error naming the file, the language and the list.

A reply is read with the words of every language (``reading_words``): a Spanish "sí" from
an English speaker is still a yes, and STOP opts out whatever the sender's language. Only
what is texted back is in the reader's language. The load refuses words that would mean
two things once the languages are read together (a word in one language's "stop" and
another's "yes").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tracker.plans.templates import TemplateError

WORD_LISTS = ("stop", "start", "start_when_stopped", "help", "yes", "no", "none", "pain_words")
# Lists whose words must not appear in another of them: a reply means one thing.
EXCLUSIVE = ("stop", "start", "help", "yes", "no")
DEFAULT_LANGUAGE = "en"
# What a reply is stripped of before it is compared: quotes and brackets before it, and
# punctuation after it ("-1" and ".5" keep their sign and point: they are not scores).
_BEFORE = " '\"([¡¿*"
_AFTER = " .,;:!?'\")]*"
_SPACES = re.compile(r"\s+")


class WordsError(TemplateError):
    """A words file that cannot be used; the message names file, language and list."""

    def __init__(self, path: str, message: str, language: str | None, field: str | None):
        where = path
        if language is not None:
            where += f": language {language!r}"
        if field is not None:
            where += f": list {field!r}"
        ValueError.__init__(self, f"{where}: {message}")
        self.path, self.activity, self.field = path, language, field


def plain(text: str) -> str:
    """A reply as it is compared: lower case, single spaces, no punctuation around it."""
    return _SPACES.sub(" ", text.casefold()).lstrip(_BEFORE).rstrip(_AFTER)


@dataclass(frozen=True)
class Words:
    """One language's words (each as ``plain`` makes it)."""

    language: str
    stop: frozenset[str]
    start: frozenset[str]
    start_when_stopped: frozenset[str]
    help: frozenset[str]
    yes: frozenset[str]
    no: frozenset[str]
    none: frozenset[str]
    pain_words: tuple[str, ...]  # longest first, so "my pain is" wins over "pain"
    numbers: dict[str, int]

    def keyword(self, reply: str, *, opted_out: bool = False) -> str | None:
        """ "stop", "start" or "help" when the whole reply is such a keyword, else None."""
        text = plain(reply)
        if text in self.stop:
            return "stop"
        if text in self.start or (opted_out and text in self.start_when_stopped):
            return "start"
        if text in self.help:
            return "help"
        return None


def _words(path: str, language: str, raw: dict[str, Any], name: str) -> frozenset[str]:
    items = raw.get(name)
    if not isinstance(items, list) or not items:
        raise WordsError(path, "must be a non-empty list of words", language, name)
    words = set()
    for item in items:
        if not isinstance(item, str) or not plain(item):
            raise WordsError(
                path, f"{item!r} is not a word (quote yes, no, y and n)", language, name
            )
        words.add(plain(item))
    return frozenset(words)


def _numbers(path: str, language: str, raw: dict[str, Any]) -> dict[str, int]:
    items = raw.get("numbers")
    if not isinstance(items, dict) or not items:
        raise WordsError(path, "must map number words to 0 to 10", language, "numbers")
    numbers = {}
    for word, value in items.items():
        if (
            not isinstance(word, str)
            or not isinstance(value, int)
            or isinstance(value, bool)
            or not 0 <= value <= 10
        ):
            raise WordsError(path, f"{word!r}: must be a number from 0 to 10", language, "numbers")
        numbers[plain(word)] = value
    return numbers


def parse_words(raw: Any, path: str) -> dict[str, Words]:
    if not isinstance(raw, dict) or raw.get("id") != "texting_words":
        raise WordsError(path, "must be a mapping with id: texting_words", None, None)
    languages = raw.get("languages")
    if not isinstance(languages, dict) or not languages:
        raise WordsError(path, "must list at least one language", None, "languages")
    found = {}
    for language, lists in languages.items():
        if not isinstance(lists, dict):
            raise WordsError(path, "must be a mapping of word lists", str(language), None)
        unknown = sorted(set(lists) - {*WORD_LISTS, "numbers"})
        if unknown:
            raise WordsError(path, f"unknown list(s): {', '.join(unknown)}", language, unknown[0])
        sets = {name: _words(path, language, lists, name) for name in WORD_LISTS}
        for i, first in enumerate(EXCLUSIVE):
            for second in EXCLUSIVE[i + 1 :]:
                both = sorted(sets[first] & sets[second])
                if both:
                    raise WordsError(
                        path, f"{both[0]!r} is also in list {second!r}", language, first
                    )
        found[language] = Words(
            language=language,
            stop=sets["stop"],
            start=sets["start"],
            start_when_stopped=sets["start_when_stopped"],
            help=sets["help"],
            yes=sets["yes"],
            no=sets["no"],
            none=sets["none"],
            pain_words=tuple(sorted(sets["pain_words"], key=len, reverse=True)),
            numbers=_numbers(path, language, lists),
        )
    if DEFAULT_LANGUAGE not in found:
        raise WordsError(path, f"must have the {DEFAULT_LANGUAGE!r} language", None, "languages")
    _check_together(path, found)
    return found


def reading_words(found: dict[str, Words], language: str = DEFAULT_LANGUAGE) -> Words:
    """The words a reply from a reader of ``language`` is read by: every language's."""
    every = list(found.values())

    def union(name: str) -> frozenset[str]:
        return frozenset().union(*(getattr(words, name) for words in every))

    numbers: dict[str, int] = {}
    for words in every:
        numbers.update(words.numbers)
    pain = {word for words in every for word in words.pain_words}
    return Words(
        language=language,
        stop=union("stop"),
        start=union("start"),
        start_when_stopped=union("start_when_stopped"),
        help=union("help"),
        yes=union("yes"),
        no=union("no"),
        none=union("none"),
        pain_words=tuple(sorted(pain, key=len, reverse=True)),
        numbers=numbers,
    )


def _check_together(path: str, found: dict[str, Words]) -> None:
    together = reading_words(found)
    for i, first in enumerate(EXCLUSIVE):
        for second in EXCLUSIVE[i + 1 :]:
            both = sorted(getattr(together, first) & getattr(together, second))
            if both:
                language = next(
                    code for code, words in found.items() if both[0] in getattr(words, first)
                )
                raise WordsError(
                    path,
                    f"{both[0]!r} is in list {second!r} of another language",
                    language,
                    first,
                )


def words_path(schedules_dir: str) -> str:
    return str(Path(schedules_dir) / "texting" / "words.yaml")


@cache
def load_words(path: str) -> dict[str, Words]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WordsError(path, "is not valid YAML", None, None) from exc
    except OSError as exc:
        raise WordsError(path, f"cannot be read ({exc.strerror})", None, None) from exc
    return parse_words(raw, path)
