"""Recovery plan templates: YAML files in ``schedules/``, validated on load.

Every error names the file, the activity and the field, so a clinic editing a template
sees at once what to fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

ACTIVITY_KINDS = ("restriction", "task", "check_in", "appointment", "education")
CHECK_IN_TYPES = ("pain", "warning_signs")
MAX_DAY = 365


class TemplateError(ValueError):
    def __init__(
        self, path: str, message: str, activity: str | None = None, field_name: str | None = None
    ) -> None:
        where = path
        if activity is not None:
            where += f": activity {activity!r}"
        if field_name is not None:
            where += f": field {field_name!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.activity = activity
        self.field = field_name


@dataclass(frozen=True)
class CadenceStep:
    until_day: int
    every_days: int


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
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Activity:
        values = dict(data)
        values["source"] = tuple(values.get("source", ()))
        values["cadence"] = tuple(CadenceStep(**step) for step in values.get("cadence", ()))
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

    def activity(self, key: str) -> Activity:
        for activity in self.activities:
            if activity.key == key:
                return activity
        raise KeyError(key)


_TEMPLATE_FIELDS = {
    "id",
    "version",
    "title",
    "procedures",
    "duration_days",
    "sources",
    "activities",
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
    "window",
}


class _Checker:
    """Reads one template file's mapping, raising TemplateError at the first problem."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str, activity: str | None = None, name: str | None = None) -> NoReturn:
        raise TemplateError(self.path, message, activity, name)

    def text(
        self, data: dict, name: str, activity: str | None = None, required: bool = True
    ) -> str | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail("is missing", activity, name)
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail("must be non-empty text", activity, name)
        return " ".join(value.split())

    def integer(
        self, data: dict, name: str, activity: str | None = None, low: int = 0, high: int = MAX_DAY
    ) -> int:
        value = data.get(name)
        if value is None:
            self.fail("is missing", activity, name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"must be a whole number, not {value!r}", activity, name)
        if not low <= value <= high:
            self.fail(f"must be between {low} and {high}, not {value}", activity, name)
        return value

    def flag(self, data: dict, name: str, activity: str, default: bool) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            self.fail(f"must be true or false, not {value!r}", activity, name)
        return value


def parse_template(raw: Any, path: str) -> PlanTemplate:
    check = _Checker(path)
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
    return PlanTemplate(
        id=template_id,
        version=version,
        title=title,
        procedures=tuple(procedures),
        duration_days=duration,
        activities=tuple(activities),
        sources=dict(sources),
        path=path,
    )


def _parse_activity(
    check: _Checker, item: Any, index: int, duration: int, sources: dict[str, str]
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
