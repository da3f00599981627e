"""Function questionnaires: YAML files in ``schedules/questionnaires/``, validated on load.

A questionnaire is data, like a plan template (plans/templates.py): its items and answer
options with their values, how it is scored, the rule for too many missing answers, the bands
a score falls in, and the time points (days after the procedure) at which a patient is asked.
Every error names the file, the item and the field.

Scoring methods (SPEC section 6):

- ``sum``: the sum of the answered items' values (RMDQ-style: 24 yes/no items, 0-24);
- ``percent_of_answered``: the sum divided by the most the *answered* items could score, times
  100 (the Oswestry index: sum / (5 x items answered) x 100).

Either way a response with more than ``max_missing`` unanswered items has no score: it is
stored, but shown as "not scored: too many questions left blank".

Every text a patient reads (title, intro, questions, answers, bands, time point labels)
carries its translations beside the English (``translations``, plans/translations.py);
``Questionnaire.in_language`` gives it in a patient's language, values and keys unchanged.
Missing or stale translations are listed in ``translation_problems`` (tests fail on any).

The project ships only a questionnaire written for it; licensed instruments (ODI, RMDQ,
PROMIS, EQ-5D) are loaded by a clinic as data (docs/questionnaires.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.plans.fields import MAX_DAY, ContentError, FieldChecker
from tracker.plans.translations import Translation, text_in
from tracker.web.time_format import number_text

SCORING_METHODS = ("sum", "percent_of_answered")
MAX_WINDOW_DAYS = 60
QUESTIONNAIRES_DIR = "questionnaires"


class QuestionnaireError(ContentError):
    """A questionnaire file that cannot be used; its parts are items."""

    part_kind = "item"


class AnswerError(ValueError):
    """Answers that do not fit the questionnaire (an unknown item, a value not offered)."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(f"{item}: {message}")
        self.item = item
        self.message = message


def _in(english: dict[str, str], translations: Mapping[str, Translation], language: str):
    return text_in(english, translations, language)


@dataclass(frozen=True)
class Option:
    value: int
    text: str
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)

    def in_language(self, language: str) -> Option:
        return replace(self, text=_in({"text": self.text}, self.translations, language)["text"])


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    options: tuple[Option, ...]
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)

    def in_language(self, language: str) -> Item:
        return replace(
            self,
            text=_in({"text": self.text}, self.translations, language)["text"],
            options=tuple(o.in_language(language) for o in self.options),
        )

    @property
    def max_value(self) -> int:
        return max(o.value for o in self.options)

    @property
    def min_value(self) -> int:
        return min(o.value for o in self.options)

    def option(self, value: int) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class Band:
    """Scores above the previous band's ``up_to`` and at most this ``up_to``."""

    up_to: float
    label: str
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)

    def in_language(self, language: str) -> Band:
        return replace(self, label=_in({"label": self.label}, self.translations, language)["label"])


@dataclass(frozen=True)
class TimePoint:
    """Asked from day ``day`` after the procedure for the questionnaire's window of days."""

    day: int
    label: str
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)

    def in_language(self, language: str) -> TimePoint:
        return replace(self, label=_in({"label": self.label}, self.translations, language)["label"])


@dataclass(frozen=True)
class Score:
    """A scored response. ``value`` None: more than ``max_missing`` items unanswered."""

    value: float | None
    answered: int
    missing: int
    band: str | None

    @property
    def scored(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: str
    intro: str
    procedures: tuple[str, ...]
    items: tuple[Item, ...]
    method: str
    max_missing: int
    bands: tuple[Band, ...]
    time_points: tuple[TimePoint, ...]
    window_days: int
    higher_is_worse: bool
    source: str
    written_for_this_project: bool
    clinician_review: str | None = None
    licence: str | None = None
    path: str = ""
    # language -> Translation of title and intro; the items, bands and time points carry
    # their own.
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    # Missing or stale translations (English shown instead); tests fail on any.
    translation_problems: tuple[str, ...] = field(default=(), compare=False, hash=False)
    language: str = field(default=DEFAULT_LANGUAGE, compare=False, hash=False)

    def in_language(self, language: str | None) -> Questionnaire:
        """This questionnaire with every text in ``language`` (English where there is no
        current translation); keys, values, scoring and days unchanged."""
        language = language or DEFAULT_LANGUAGE
        if language == self.language:
            return self
        if self.language != DEFAULT_LANGUAGE:
            raise ValueError(f"questionnaire {self.id!r} is already in {self.language!r}")
        texts = _in({"title": self.title, "intro": self.intro}, self.translations, language)
        return replace(
            self,
            title=texts["title"],
            intro=texts["intro"],
            items=tuple(i.in_language(language) for i in self.items),
            bands=tuple(b.in_language(language) for b in self.bands),
            time_points=tuple(t.in_language(language) for t in self.time_points),
            language=language,
        )

    @property
    def min_score(self) -> float:
        if self.method == "percent_of_answered":
            return 0.0
        return float(sum(i.min_value for i in self.items))

    @property
    def max_score(self) -> float:
        if self.method == "percent_of_answered":
            return 100.0
        return float(sum(i.max_value for i in self.items))

    @property
    def baseline(self) -> TimePoint:
        return self.time_points[0]

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def time_point(self, day: int) -> TimePoint | None:
        return next((t for t in self.time_points if t.day == day), None)

    def band_for(self, value: float) -> str:
        for band in self.bands:
            if value <= band.up_to:
                return band.label
        return self.bands[-1].label

    def score(self, answers: Mapping[str, int | None]) -> Score:
        """Score ``answers`` (item key -> option value, None or absent: not answered).

        Raises AnswerError for an unknown item or a value the item does not offer."""
        for key in answers:
            if not any(i.key == key for i in self.items):
                raise AnswerError(key, "is not a question of this questionnaire")
        total = 0
        most = 0
        answered = 0
        for item in self.items:
            value = answers.get(item.key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not item.option(value):
                raise AnswerError(item.key, f"{value!r} is not one of the answers offered")
            total += value
            most += item.max_value
            answered += 1
        missing = len(self.items) - answered
        if missing > self.max_missing or answered == 0:
            return Score(None, answered, missing, None)
        if self.method == "percent_of_answered":
            value_out = round(total / most * 100, 1) if most else 0.0
        else:
            value_out = float(total)
        return Score(value_out, answered, missing, self.band_for(value_out))

    # --- time points ---------------------------------------------------------------------

    def open_time_point(self, procedure_date: date, today: date) -> TimePoint | None:
        """The time point whose window holds local day ``today``: from its day for
        ``window_days`` days (day ``day`` to ``day + window_days - 1``)."""
        day_number = (today - procedure_date).days
        for point in self.time_points:
            if point.day <= day_number < point.day + self.window_days:
                return point
        return None

    def first_asked_on(self, procedure_date: date, today: date) -> TimePoint | None:
        """The time point whose first day is ``today`` (the reminder mentions it then)."""
        return self.time_point((today - procedure_date).days)

    def window(self, point: TimePoint, procedure_date: date) -> tuple[date, date]:
        first = procedure_date + timedelta(days=point.day)
        return first, first + timedelta(days=self.window_days - 1)

    def change_words(self, change: float, language: str = DEFAULT_LANGUAGE) -> str:
        """Plain words for a change since baseline (new score minus baseline), in
        ``language`` (the patient's page; English for the care team)."""
        t = translator(language)
        if change == 0:
            return t.gettext("the same as your first answers")
        size = abs(change)
        values = {"num": number_text(size, language=language)}
        count = 1 if size == 1 else 2  # the plural form: "1 point", "2.5 points"
        if (change < 0) == self.higher_is_worse:
            words = t.ngettext(
                "%(num)s point better than your first answers",
                "%(num)s points better than your first answers",
                count,
            )
        else:
            words = t.ngettext(
                "%(num)s point worse than your first answers",
                "%(num)s points worse than your first answers",
                count,
            )
        return words % values


# --- loading -----------------------------------------------------------------------------

_FIELDS = {
    "id",
    "version",
    "title",
    "intro",
    "procedures",
    "items",
    "scoring",
    "bands",
    "time_points",
    "window_days",
    "higher_is_worse",
    "source",
    "written_for_this_project",
    "clinician_review",
    "licence",
    "translations",
}
_ITEM_FIELDS = {"key", "text", "options", "translations"}
_SCORING_FIELDS = {"method", "max_missing"}


def parse_questionnaire(raw: Any, path: str) -> Questionnaire:
    check = FieldChecker(path, QuestionnaireError)
    check.mapping(raw, "must be a mapping with id, version, title, items, scoring and bands")
    unknown = set(raw) - _FIELDS
    if unknown:
        check.fail("is not a known questionnaire field", name=sorted(unknown)[0])
    ident = check.text(raw, "id")
    version = check.integer(raw, "version", low=1, high=10_000)
    title = check.text(raw, "title")
    intro = check.text(raw, "intro")
    source = check.text(raw, "source")
    written = check.flag(raw, "written_for_this_project")
    higher_is_worse = check.flag(raw, "higher_is_worse")
    review = check.text(raw, "clinician_review", required=False) or None
    licence = check.text(raw, "licence", required=False) or None
    if written and licence:
        check.fail("a questionnaire written for this project needs no licence", name="licence")
    procedures = raw.get("procedures")
    if (
        not isinstance(procedures, list)
        or not procedures
        or not all(isinstance(p, str) and p for p in procedures)
    ):
        check.fail("must be a non-empty list of procedure names", name="procedures")

    items = _parse_items(check, raw.get("items"))
    scoring = check.mapping(
        raw.get("scoring"), "must be a mapping with method and max_missing", name="scoring"
    )
    unknown = set(scoring) - _SCORING_FIELDS
    if unknown:
        check.fail(f"{sorted(unknown)[0]!r} is not a known scoring field", name="scoring")
    method = scoring.get("method")
    if method not in SCORING_METHODS:
        check.fail(
            f"method must be one of {', '.join(SCORING_METHODS)}, not {method!r}", name="scoring"
        )
    max_missing = scoring.get("max_missing")
    if (
        isinstance(max_missing, bool)
        or not isinstance(max_missing, int)
        or not 0 <= max_missing < len(items)
    ):
        check.fail(
            f"max_missing must be a whole number from 0 to {len(items) - 1}, not {max_missing!r}",
            name="scoring",
        )
    window_days = check.integer(raw, "window_days", low=1, high=MAX_WINDOW_DAYS)
    time_points = _parse_time_points(check, raw.get("time_points"), window_days)
    questionnaire = Questionnaire(
        id=ident,
        version=version,
        title=title,
        intro=intro,
        procedures=tuple(procedures),
        items=items,
        method=method,
        max_missing=max_missing,
        bands=(),
        time_points=time_points,
        window_days=window_days,
        higher_is_worse=higher_is_worse,
        source=source,
        written_for_this_project=written,
        clinician_review=review,
        licence=licence,
        path=path,
        translations=check.translations(raw, ("title", "intro"), "title and intro"),
    )
    bands = _parse_bands(check, raw.get("bands"), questionnaire)
    return replace(questionnaire, bands=bands, translation_problems=tuple(check.problems))


def _parse_items(check: FieldChecker, raw: Any) -> tuple[Item, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("must be a non-empty list", name="items")
    items: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        label = f"#{index + 1}"
        check.mapping(entry, f"item #{index + 1} must be a mapping", name="items")
        if isinstance(entry.get("key"), str):
            label = entry["key"]
        key = check.text(entry, "key", label)
        unknown = set(entry) - _ITEM_FIELDS
        if unknown:
            check.fail("is not a known item field", key, sorted(unknown)[0])
        if key in seen:
            check.fail("duplicate key", key, "key")
        seen.add(key)
        text = check.text(entry, "text", key)
        options_raw = entry.get("options")
        if not isinstance(options_raw, list) or len(options_raw) < 2:
            check.fail("must list at least two answers", key, "options")
        options: list[Option] = []
        for number, option in enumerate(options_raw):
            check.mapping(option, f"answer #{number + 1} must have value and text", key, "options")
            value = option.get("value")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                check.fail(
                    f"answer #{number + 1}: value must be a whole number 0 or more, not {value!r}",
                    key,
                    "options",
                )
            if any(o.value == value for o in options):
                check.fail(f"answer #{number + 1}: value {value} is used twice", key, "options")
            option_text = option.get("text")
            if not isinstance(option_text, str) or not option_text.strip():
                check.fail(f"answer #{number + 1}: text must be non-empty", key, "options")
            options.append(
                Option(
                    value,
                    " ".join(option_text.split()),
                    check.translations(option, ("text",), f"item {key!r}: answer {value}", key),
                )
            )
        translations = check.translations(entry, ("text",), f"item {key!r}", key)
        items.append(Item(key, text, tuple(options), translations))
    return tuple(items)


def _parse_time_points(check: FieldChecker, raw: Any, window_days: int) -> tuple[TimePoint, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("must be a non-empty list of {day, label}", name="time_points")
    points: list[TimePoint] = []
    for index, entry in enumerate(raw):
        check.mapping(entry, f"time point #{index + 1} must have day and label", name="time_points")
        day = entry.get("day")
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= MAX_DAY:
            check.fail(
                f"time point #{index + 1}: day must be a whole number from 0 to {MAX_DAY}, "
                f"not {day!r}",
                name="time_points",
            )
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            check.fail(f"time point #{index + 1}: label must be non-empty", name="time_points")
        if points and day < points[-1].day + window_days:
            check.fail(
                f"time point #{index + 1} (day {day}) starts before the {window_days}-day "
                f"window of day {points[-1].day} ends: list days in order, at least "
                "window_days apart",
                name="time_points",
            )
        where = f"time point day {day}"
        translations = check.translations(entry, ("label",), where)
        points.append(TimePoint(day, " ".join(label.split()), translations))
    return tuple(points)


def _parse_bands(check: FieldChecker, raw: Any, questionnaire: Questionnaire) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("must be a non-empty list of {up_to, label}", name="bands")
    bands: list[Band] = []
    for index, entry in enumerate(raw):
        check.mapping(entry, f"band #{index + 1} must have up_to and label", name="bands")
        up_to = entry.get("up_to")
        if isinstance(up_to, bool) or not isinstance(up_to, int | float):
            check.fail(f"band #{index + 1}: up_to must be a number, not {up_to!r}", name="bands")
        if bands and up_to <= bands[-1].up_to:
            check.fail(
                f"band #{index + 1}: up_to {up_to:g} must be above the band before it "
                f"({bands[-1].up_to:g})",
                name="bands",
            )
        if up_to < questionnaire.min_score:
            check.fail(
                f"band #{index + 1}: up_to {up_to:g} is below the lowest possible score "
                f"{questionnaire.min_score:g}",
                name="bands",
            )
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            check.fail(f"band #{index + 1}: label must be non-empty", name="bands")
        translations = check.translations(entry, ("label",), f"band up to {up_to:g}")
        bands.append(Band(float(up_to), " ".join(label.split()), translations))
    if bands[-1].up_to != questionnaire.max_score:
        check.fail(
            f"the last band must end at the highest possible score "
            f"{questionnaire.max_score:g}, not {bands[-1].up_to:g}",
            name="bands",
        )
    return tuple(bands)


def load_file(path: Path) -> Questionnaire:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise QuestionnaireError(str(path), f"is not valid YAML{where}") from exc
    except OSError as exc:
        raise QuestionnaireError(str(path), f"cannot be read ({exc.strerror})") from exc
    questionnaire = parse_questionnaire(raw, str(path))
    if questionnaire.id != path.stem:
        raise QuestionnaireError(
            str(path), f"id {questionnaire.id!r} must match the file name", None, "id"
        )
    return questionnaire


def load_directory(directory: str | Path) -> dict[str, Questionnaire]:
    """Every questionnaire in ``directory``, keyed by id; the first broken file raises.
    A missing directory means none (a clinic may ship without questionnaires)."""
    folder = Path(directory)
    if not folder.is_dir():
        return {}
    found = [load_file(path) for path in sorted(folder.glob("*.yaml"))]
    return {q.id: q for q in found}


def questionnaires_dir(schedules_dir: str | Path) -> Path:
    return Path(schedules_dir) / QUESTIONNAIRES_DIR


def for_procedure(
    questionnaires: Mapping[str, Questionnaire], procedure: str
) -> list[Questionnaire]:
    return [q for _, q in sorted(questionnaires.items()) if procedure in q.procedures]


def current_questionnaires(language: str | None = None) -> dict[str, Questionnaire]:
    """The questionnaires of the running app's SCHEDULES_DIR, or the shipped ones outside an
    app (as plans.warning_signs.current_signs does); with ``language``, in that language."""
    from flask import current_app, has_app_context

    from tracker.core.config import REPO_ROOT

    directory = (
        current_app.config["SCHEDULES_DIR"] if has_app_context() else str(REPO_ROOT / "schedules")
    )
    return questionnaires_of(directory, language)


def questionnaires_of(
    schedules_dir: str | Path, language: str | None = None
) -> dict[str, Questionnaire]:
    """The questionnaires of ``schedules_dir`` (in ``language``), read and validated on the
    first call of the process: the app calls it at start, so a broken file stops it there."""
    folder = str(questionnaires_dir(schedules_dir))
    return dict(_questionnaires_in(folder, language or DEFAULT_LANGUAGE))


@cache
def _questionnaires_in(folder: str, language: str) -> tuple[tuple[str, Questionnaire], ...]:
    """``load_directory`` in ``language``, read once per process like the plan templates and
    the warning signs (all validated when the app starts), not for every page or message."""
    found = load_directory(folder)
    if language == DEFAULT_LANGUAGE:
        return tuple(found.items())
    return tuple((key, q.in_language(language)) for key, q in found.items())


__all__ = [
    "AnswerError",
    "Band",
    "Item",
    "Option",
    "Questionnaire",
    "QuestionnaireError",
    "Score",
    "TimePoint",
    "for_procedure",
    "load_directory",
    "load_file",
]
