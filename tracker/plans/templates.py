"""Recovery plan templates: YAML files in ``schedules/``, validated on load.

Every error names the file, the activity and the field, so a clinic editing a template
sees at once what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from tracker.core.languages import DEFAULT_LANGUAGE
from tracker.plans.fields import ContentError, FieldChecker
from tracker.plans.translations import (
    Translation,
    fingerprint,
    text_in,
    translations_data,
    translations_from_data,
)

if TYPE_CHECKING:
    from tracker.core.models import CarePlan

ACTIVITY_KINDS = ("restriction", "task", "check_in", "appointment", "education")
CHECK_IN_TYPES = ("pain", "warning_signs", "opioids")
# An activity's texts a patient reads, each translated beside the English (translations.py).
ACTIVITY_TEXT_FIELDS = ("title", "instructions", "condition")
TEMPLATE_TEXT_FIELDS = ("title",)


class TemplateError(ContentError):
    """A plan template file that cannot be used; its parts are activities."""

    part_kind = "activity"


@dataclass(frozen=True)
class CadenceStep:
    until_day: int
    every_days: int


class ActivityText(NamedTuple):
    """An activity's words in one language (``activity_text``)."""

    title: str
    instructions: str
    condition: str | None


@dataclass(frozen=True)
class Activity:
    key: str
    kind: str
    title: str
    instructions: str
    source: tuple[str, ...]
    start_day: int
    end_day: int
    times_per_day: int = 1
    as_needed: bool = False
    adherence: bool = False
    cadence: tuple[CadenceStep, ...] = ()
    check_in: str | None = None
    condition: str | None = None
    # A restriction whose end follows the answers to this check-in (its key; opioid_rules.py).
    condition_check_in: str | None = None
    # Keys of activities a patient must not be told to do on this restriction's days (a
    # restriction's ``excludes``): the validator refuses a template where both fall on a day.
    excludes: tuple[str, ...] = ()
    # Keys of restrictions this visit decides on (an appointment's ``releases``): each must
    # last through the visit's window, so no limit ends before the visit that lifts it.
    releases: tuple[str, ...] = ()
    # Notes for the clinic, never shown to patients: ``confirm``, this line rests on a source
    # that does not cover this procedure, so a clinician must confirm it; ``needs_source``,
    # no source backs it yet. ``true`` in the file is kept as a standard note.
    confirm: str | None = None
    needs_source: str | None = None
    # language -> Translation of title, instructions and condition (current ones only; a
    # plan's snapshot carries them, so a plan keeps the words it was made with).
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    # The language title, instructions and condition are in (``in_language``).
    language: str = field(default=DEFAULT_LANGUAGE, compare=False, hash=False)

    @property
    def english(self) -> dict[str, str]:
        """The patient-facing texts this activity has (in its own language)."""
        texts = {"title": self.title, "instructions": self.instructions}
        if self.condition:
            texts["condition"] = self.condition
        return texts

    def text(self, language: str | None = None) -> ActivityText:
        """Title, instructions and condition in ``language`` (English where untranslated)."""
        localized = self.in_language(language or DEFAULT_LANGUAGE)
        return ActivityText(localized.title, localized.instructions, localized.condition)

    def in_language(self, language: str) -> Activity:
        """This activity with its texts in ``language``: English when there is no current
        translation. Only from English (the snapshot's and the file's language)."""
        if language == self.language:
            return self
        if self.language != DEFAULT_LANGUAGE:
            raise ValueError(f"activity {self.key!r} is already in {self.language!r}")
        texts = text_in(self.english, self.translations, language)
        return replace(
            self,
            title=texts["title"],
            instructions=texts["instructions"],
            condition=texts.get("condition", self.condition),
            language=language,
        )

    def occurs_on(self, day_number: int) -> bool:
        """Whether this activity is scheduled on ``day_number`` (0 = procedure day)."""
        if not self.start_day <= day_number <= self.end_day:
            return False
        segment_start = self.start_day
        for step in self.cadence:
            if day_number <= step.until_day:
                return (day_number - segment_start) % step.every_days == 0
            segment_start = step.until_day + 1
        return True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = list(self.source)
        data["cadence"] = [asdict(step) for step in self.cadence]
        data["excludes"] = list(self.excludes)
        data["releases"] = list(self.releases)
        data["translations"] = translations_data(self.translations)
        data.pop("language", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Activity:
        values = dict(data)
        values["source"] = tuple(values.get("source", ()))
        values["cadence"] = tuple(CadenceStep(**step) for step in values.get("cadence", ()))
        values["excludes"] = tuple(values.get("excludes", ()))
        values["releases"] = tuple(values.get("releases", ()))
        values.pop("language", None)
        # A plan enrolled before translations has none; one whose English does not match
        # its translation (never expected) drops it: English is shown, never a wrong text.
        english = {name: values.get(name) for name in ACTIVITY_TEXT_FIELDS}
        values["translations"] = translations_from_data(
            values.get("translations"), english, ACTIVITY_TEXT_FIELDS
        )
        return cls(**values)


@dataclass(frozen=True)
class PlanTemplate:
    id: str
    version: int
    title: str
    procedures: tuple[str, ...]
    duration_days: int
    activities: tuple[Activity, ...]
    sources: dict[str, str] = field(default_factory=dict)
    path: str = ""
    # language -> Translation of the plan's title.
    translations: Mapping[str, Translation] = field(default_factory=dict, compare=False, hash=False)
    # Missing, incomplete or stale translations (English shown instead); tests fail on any.
    translation_problems: tuple[str, ...] = field(default=(), compare=False, hash=False)

    def title_for(self, language: str | None) -> str:
        return text_in({"title": self.title}, self.translations, language)["title"]

    def activity(self, key: str) -> Activity:
        for activity in self.activities:
            if activity.key == key:
                return activity
        raise KeyError(key)

    def to_confirm(self) -> list[Activity]:
        """The activities a clinician must confirm or find a source for: the review sheet."""
        return [a for a in self.activities if a.confirm or a.needs_source]


_TEMPLATE_FIELDS = {
    "id",
    "version",
    "title",
    "procedures",
    "duration_days",
    "sources",
    "activities",
    "translations",
}
_ACTIVITY_FIELDS = {
    "key",
    "kind",
    "title",
    "instructions",
    "source",
    "start_day",
    "end_day",
    "times_per_day",
    "as_needed",
    "adherence",
    "cadence",
    "check_in",
    "condition",
    "condition_check_in",
    "window",
    "excludes",
    "releases",
    "confirm",
    "needs_source",
    "translations",
}


def parse_template(raw: Any, path: str) -> PlanTemplate:
    check = FieldChecker(path, TemplateError)
    if not isinstance(raw, dict):
        check.fail("must be a mapping with id, version, title, procedures and activities")
    unknown = set(raw) - _TEMPLATE_FIELDS
    if unknown:
        check.fail("is not a known template field", name=sorted(unknown)[0])
    template_id = check.text(raw, "id")
    version = check.integer(raw, "version", low=1, high=10_000)
    title = check.text(raw, "title")
    duration = check.integer(raw, "duration_days", low=1)
    procedures = raw.get("procedures")
    if (
        not isinstance(procedures, list)
        or not procedures
        or not all(isinstance(p, str) and p for p in procedures)
    ):
        check.fail("must be a non-empty list of procedure names", name="procedures")
    sources = raw.get("sources") or {}
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        check.fail("must map source keys to descriptions", name="sources")
    items = raw.get("activities")
    if not isinstance(items, list) or not items:
        check.fail("must be a non-empty list", name="activities")

    activities: list[Activity] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        activity = _parse_activity(check, item, index, duration, sources)
        if activity.key in seen:
            check.fail("duplicate key", activity.key, "key")
        seen.add(activity.key)
        activities.append(activity)
    _check_condition_check_ins(check, activities)
    _check_exclusions(check, activities)
    _check_releases(check, activities)
    title_translations = check.translations(raw, TEMPLATE_TEXT_FIELDS, "plan title")
    return PlanTemplate(
        id=template_id,
        version=version,
        title=title,
        procedures=tuple(procedures),
        duration_days=duration,
        activities=tuple(activities),
        sources=dict(sources),
        path=path,
        translations=title_translations,
        translation_problems=tuple(check.problems),
    )


def _parse_activity(
    check: FieldChecker, item: Any, index: int, duration: int, sources: dict[str, str]
) -> Activity:
    if not isinstance(item, dict):
        check.fail(f"activity #{index + 1} must be a mapping", name="activities")
    label = item.get("key") if isinstance(item.get("key"), str) else f"#{index + 1}"
    key = check.text(item, "key", label)
    unknown = set(item) - _ACTIVITY_FIELDS
    if unknown:
        check.fail("is not a known activity field", key, sorted(unknown)[0])
    kind = item.get("kind")
    if kind not in ACTIVITY_KINDS:
        check.fail(f"unknown kind {kind!r}; use one of {', '.join(ACTIVITY_KINDS)}", key, "kind")
    title = check.text(item, "title", key)
    instructions = check.text(item, "instructions", key)
    source = item.get("source")
    source_list = [source] if isinstance(source, str) else source
    if not isinstance(source_list, list) or not source_list:
        check.fail("must name where the text comes from", key, "source")
    if sources:
        missing = [s for s in source_list if s not in sources]
        if missing:
            check.fail(f"unknown source {missing[0]!r}", key, "source")

    last_day = duration - 1
    if kind == "appointment":
        window = item.get("window")
        if not isinstance(window, dict):
            check.fail("an appointment needs a window with start_day and end_day", key, "window")
        start = check.integer(window, "start_day", key, high=last_day)
        end = check.integer(window, "end_day", key, high=last_day)
    else:
        if "window" in item:
            check.fail("only appointments have a window", key, "window")
        start = check.integer(item, "start_day", key, high=last_day)
        end = check.integer(item, "end_day", key, high=last_day)
    if end < start:
        check.fail(f"end_day {end} is before start_day {start}", key, "end_day")

    as_needed = check.flag(item, "as_needed", key, False)
    times = (
        check.integer(item, "times_per_day", key, low=1, high=24) if "times_per_day" in item else 1
    )
    if as_needed and "times_per_day" in item:
        check.fail("use either as_needed or times_per_day, not both", key, "times_per_day")
    adherence = check.flag(item, "adherence", key, kind in ("task", "check_in") and not as_needed)
    if adherence and kind not in ("task", "check_in"):
        check.fail("only tasks and check-ins count toward adherence", key, "adherence")

    check_in = item.get("check_in")
    if kind == "check_in" and check_in not in CHECK_IN_TYPES:
        check.fail(f"must be one of {', '.join(CHECK_IN_TYPES)}", key, "check_in")
    if kind != "check_in" and check_in is not None:
        check.fail("only check-ins have a check_in type", key, "check_in")
    condition = check.text(item, "condition", key, required=False)
    condition_check_in = check.text(item, "condition_check_in", key, required=False)
    if condition_check_in is not None and (kind != "restriction" or condition is None):
        check.fail(
            "only a restriction with a condition can follow a check-in", key, "condition_check_in"
        )
    excludes = _keys(check, item, "excludes", key)
    if excludes and kind != "restriction":
        check.fail("only a restriction can exclude other activities", key, "excludes")
    releases = _keys(check, item, "releases", key)
    if releases and kind != "appointment":
        check.fail("only an appointment can release restrictions", key, "releases")
    confirm = _note(check, item, "confirm", key, "Confirm this line for this procedure.")
    needs_source = _note(check, item, "needs_source", key, "Find a source for this line.")

    cadence: list[CadenceStep] = []
    previous = start - 1
    for step in item.get("cadence") or []:
        if not isinstance(step, dict):
            check.fail("each step needs until_day and every_days", key, "cadence")
        until = check.integer(step, "until_day", key, high=last_day)
        every = check.integer(step, "every_days", key, low=1, high=366)
        if until <= previous or until > end:
            check.fail(f"until_day {until} must increase and stay within the days", key, "cadence")
        previous = until
        cadence.append(CadenceStep(until, every))
    if cadence and cadence[-1].until_day != end:
        check.fail("the last step must end on end_day", key, "cadence")

    return Activity(
        key=key,
        kind=kind,
        title=title,
        instructions=instructions,
        source=tuple(source_list),
        start_day=start,
        end_day=end,
        times_per_day=times,
        as_needed=as_needed,
        adherence=adherence,
        cadence=tuple(cadence),
        check_in=check_in,
        condition=condition,
        condition_check_in=condition_check_in,
        excludes=excludes,
        releases=releases,
        confirm=confirm,
        needs_source=needs_source,
        translations=check.translations(item, ACTIVITY_TEXT_FIELDS, f"activity {key!r}", key),
    )


def _note(check: FieldChecker, item: dict, name: str, key: str, standard: str) -> str | None:
    """A note for the clinic: ``true`` (the standard note), a text, or absent / ``false``."""
    value = item.get(name)
    if value is None or value is False:
        return None
    if value is True:
        return standard
    if not isinstance(value, str) or not value.strip():
        check.fail("must be true or a note for the clinic", key, name)
    return " ".join(value.split())


def _keys(check: FieldChecker, item: dict, name: str, key: str) -> tuple[str, ...]:
    value = item.get(name, [])
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        check.fail("must be a list of activity keys", key, name)
    return tuple(value)


def _days(activity: Activity) -> set[int]:
    """The days ``activity`` is shown: an appointment on every day of its window."""
    days = range(activity.start_day, activity.end_day + 1)
    if activity.kind == "appointment":
        return set(days)
    return {n for n in days if activity.occurs_on(n)}


def _days_text(days: set[int]) -> str:
    """``{1}`` -> "day 1"; ``{1, 2, 3, 7}`` -> "days 1-3, 7"."""
    runs: list[list[int]] = []
    for n in sorted(days):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return ("day " if len(days) == 1 else "days ") + ", ".join(parts)


def _check_condition_check_ins(check: FieldChecker, activities: list[Activity]) -> None:
    """A restriction's ``condition_check_in`` names an opioid check-in of the same template."""
    by_key = {a.key: a for a in activities}
    for activity in activities:
        if activity.condition_check_in is None:
            continue
        target = by_key.get(activity.condition_check_in)
        if target is None or target.kind != "check_in" or target.check_in != "opioids":
            check.fail(
                "must name an opioids check-in of this template, "
                f"not {activity.condition_check_in!r}",
                activity.key,
                "condition_check_in",
            )


def _check_exclusions(check: FieldChecker, activities: list[Activity]) -> None:
    """No day tells the patient two contradictory things: an activity a restriction
    ``excludes`` (bed rest excludes a walk) never falls on one of the restriction's days."""
    by_key = {a.key: a for a in activities}
    for restriction in activities:
        for other_key in restriction.excludes:
            other = by_key.get(other_key)
            if other is None or other is restriction:
                check.fail(
                    f"must name another activity of this template, not {other_key!r}",
                    restriction.key,
                    "excludes",
                )
            both = _days(restriction) & _days(other)
            if both:
                check.fail(
                    f"{restriction.key!r} ({restriction.title}) excludes {other.key!r} "
                    f"({other.title}), but both are on {_days_text(both)}: a patient "
                    "cannot follow both; move one so they never share a day",
                    restriction.key,
                    "excludes",
                )


def _check_releases(check: FieldChecker, activities: list[Activity]) -> None:
    """A restriction that a visit ``releases`` (the lifting limit, at the six-week visit) is
    still shown on every day of the visit's window, so it never ends before the visit."""
    by_key = {a.key: a for a in activities}
    for visit in activities:
        for key in visit.releases:
            restriction = by_key.get(key)
            if restriction is None or restriction.kind != "restriction":
                check.fail(
                    f"must name a restriction of this template, not {key!r}", visit.key, "releases"
                )
            if restriction.end_day < visit.end_day:
                gap = set(range(restriction.end_day + 1, visit.end_day + 1))
                check.fail(
                    f"{visit.key!r} ({visit.title}) releases {key!r} ({restriction.title}), "
                    f"but that restriction ends on day {restriction.end_day}, before the "
                    f"visit's window ends: it is missing on {_days_text(gap)}",
                    visit.key,
                    "releases",
                )


def load_file(path: Path) -> PlanTemplate:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise TemplateError(str(path), f"is not valid YAML{where}") from exc
    except OSError as exc:
        raise TemplateError(str(path), f"cannot be read ({exc.strerror})") from exc
    template = parse_template(raw, str(path))
    if template.id != path.stem:
        raise TemplateError(str(path), f"id {template.id!r} must match the file name", None, "id")
    return template


def load_directory(directory: str | Path) -> dict[str, PlanTemplate]:
    """Every template in ``directory``, keyed by id; the first broken file raises."""
    folder = Path(directory)
    if not folder.is_dir():
        raise TemplateError(str(folder), "is not a directory of plan templates")
    templates = {}
    for path in sorted(folder.glob("*.yaml")):
        template = load_file(path)
        templates[template.id] = template
    return templates


def template_for_procedure(templates: dict[str, PlanTemplate], procedure: str) -> PlanTemplate:
    for template in templates.values():
        if procedure in template.procedures:
            return template
    raise KeyError(procedure)


# --- an activity's words in a patient's language ----------------------------------------------


def activity_text(
    activity: Activity | Mapping[str, Any],
    language: str | None,
    template: PlanTemplate | None = None,
) -> ActivityText:
    """The ONE way to an activity's title, instructions and condition in ``language``.

    ``activity`` is an Activity or a stored one (a dict of a plan's snapshot). Its own
    translation is used first; a plan enrolled before translations has none in its snapshot,
    so ``template``'s translation of the same key is used when it was made from the same
    English; else the English. Never raises for an old or odd snapshot."""
    if not isinstance(activity, Activity):
        activity = Activity.from_dict(dict(activity))
    return localize(activity, language, template).text(language)


def localize(activity: Activity, language: str | None, template: PlanTemplate | None) -> Activity:
    """``activity`` in ``language`` (``activity_text``'s rule), as an Activity."""
    language = language or DEFAULT_LANGUAGE
    if language == activity.language:
        return activity
    if language not in activity.translations and template is not None:
        activity = replace(activity, translations=_template_translations(activity, template))
    return activity.in_language(language)


def _template_translations(activity: Activity, template: PlanTemplate) -> dict[str, Translation]:
    """``template``'s translations of ``activity``'s key, if made from the same English."""
    try:
        current = template.activity(activity.key)
    except KeyError:
        return dict(activity.translations)
    made_from = fingerprint(activity.english)
    found = dict(activity.translations)
    for code, translation in current.translations.items():
        if code not in found and translation.translated_from == made_from:
            found[code] = translation
    return found


@cache
def _shipped_template(template_id: str) -> PlanTemplate | None:
    from tracker.core.config import REPO_ROOT

    path = REPO_ROOT / "schedules" / f"{template_id}.yaml"
    if "/" in template_id or not path.is_file():
        return None
    try:
        return load_file(path)
    except TemplateError:
        return None


def current_template(template_id: str) -> PlanTemplate | None:
    """The running app's template ``template_id`` (loaded at start from SCHEDULES_DIR), or the
    shipped file outside an app; None when there is none (a template since removed)."""
    from flask import current_app, has_app_context

    if has_app_context():
        loaded = current_app.extensions.get("tracker.templates")
        if loaded is not None:
            return loaded.get(template_id)
    return _shipped_template(template_id)


def plan_title(plan: CarePlan, language: str | None) -> str:
    """The plan's title in ``language``: the template's translation when the plan has the
    template's English title, else the plan's own title."""
    template = current_template(plan.template_id)
    if template is None or template.title != plan.title:
        return plan.title
    return template.title_for(language)
