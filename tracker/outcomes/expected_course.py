"""The expected course of pain after the procedure, from published figures, and the care
team's "recovering more slowly than expected" indicator.

Data: ``schedules/expected_course/<procedure>.yaml`` (published group means with their
sources, and a band around them). The band is a reference drawn behind a patient's pain line
on the care team's chart; a patient whose current 3-day mean pain sits *above* the band's
upper edge is "recovering more slowly than expected". Both are for the care team only: the
patient's pages never show them (SPEC section 6: never a grade shown to the patient).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import yaml

from tracker.alerts.pain_trends import DaySummary, Window, three_day_windows

EXPECTED_COURSE_DIR = "expected_course"
_FIELDS = {"procedure", "version", "sources", "figures", "band", "confirm"}
_FIGURE_FIELDS = {"day", "mean_pain", "improvement", "what", "source"}
_BAND_FIELDS = {"above_mean", "below_mean", "source"}


class ExpectedCourseError(ValueError):
    def __init__(self, path: str, message: str, field_name: str | None = None) -> None:
        where = path if field_name is None else f"{path}: field {field_name!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.field = field_name


@dataclass(frozen=True)
class Figure:
    day: int
    mean_pain: float
    what: str
    source: str


@dataclass(frozen=True)
class BandDay:
    """The band on one day after the procedure."""

    day: int
    low: float
    expected: float
    high: float


@dataclass(frozen=True)
class ExpectedCourse:
    procedure: str
    version: int
    figures: tuple[Figure, ...]
    above_mean: float
    below_mean: float
    sources: dict[str, str]
    confirm: str
    path: str = ""

    @property
    def first_day(self) -> int:
        return self.figures[0].day

    @property
    def last_day(self) -> int:
        return self.figures[-1].day

    def expected_on(self, day: int) -> float | None:
        """The expected mean pain on ``day``: straight lines between the figures' days;
        None outside the figures' days (no figure says anything there)."""
        if not self.first_day <= day <= self.last_day:
            return None
        for before, after in zip(self.figures, self.figures[1:], strict=False):
            if before.day <= day <= after.day:
                share = (day - before.day) / (after.day - before.day)
                return round(before.mean_pain + share * (after.mean_pain - before.mean_pain), 2)
        return self.figures[-1].mean_pain

    def band_on(self, day: int) -> BandDay | None:
        expected = self.expected_on(day)
        if expected is None:
            return None
        return BandDay(
            day=day,
            low=round(max(0.0, expected - self.below_mean), 2),
            expected=expected,
            high=round(min(10.0, expected + self.above_mean), 2),
        )

    def band(self, first_day: int, last_day: int) -> list[BandDay]:
        """The band for each day from ``first_day`` to ``last_day`` that it covers (the data
        a chart draws behind the pain line)."""
        days = (self.band_on(d) for d in range(first_day, last_day + 1))
        return [b for b in days if b is not None]


def _fail(path: str, message: str, name: str | None = None) -> NoReturn:
    raise ExpectedCourseError(path, message, name)


def _number(path: str, value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        _fail(path, f"must be a number from {low:g} to {high:g}, not {value!r}", name)
    return float(value)


def parse_course(raw: Any, path: str) -> ExpectedCourse:
    if not isinstance(raw, dict):
        _fail(path, "must be a mapping with procedure, sources, figures and band")
    unknown = set(raw) - _FIELDS
    if unknown:
        _fail(path, "is not a known field", sorted(unknown)[0])
    procedure = raw.get("procedure")
    if not isinstance(procedure, str) or not procedure:
        _fail(path, "must name the procedure", "procedure")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        _fail(path, f"must be a whole number 1 or more, not {version!r}", "version")
    sources = raw.get("sources")
    if (
        not isinstance(sources, dict)
        or not sources
        or not all(isinstance(v, str) and v.strip() for v in sources.values())
    ):
        _fail(path, "must map source keys to citations", "sources")
    confirm = raw.get("confirm")
    if not isinstance(confirm, str) or not confirm.strip():
        _fail(path, "must say what a clinician must confirm about the band", "confirm")
    items = raw.get("figures")
    if not isinstance(items, list) or len(items) < 2:
        _fail(path, "must list at least two figures", "figures")
    figures: list[Figure] = []
    baseline: float | None = None
    for index, item in enumerate(items):
        name = f"figures[{index}]"
        if not isinstance(item, dict):
            _fail(path, "must be a mapping with day, a figure, what and source", name)
        unknown = set(item) - _FIGURE_FIELDS
        if unknown:
            _fail(path, f"{sorted(unknown)[0]!r} is not a known figure field", name)
        day = item.get("day")
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 365:
            _fail(path, f"day must be a whole number from 0 to 365, not {day!r}", name)
        if figures and day <= figures[-1].day:
            _fail(path, f"day {day} must come after day {figures[-1].day}", name)
        if item.get("source") not in sources:
            _fail(path, f"source must be one of {', '.join(sorted(sources))}", name)
        what = item.get("what")
        if not isinstance(what, str) or not what.strip():
            _fail(path, "what must say what the figure is", name)
        has_mean, has_change = "mean_pain" in item, "improvement" in item
        if has_mean == has_change:
            _fail(path, "must give either mean_pain or improvement", name)
        if has_mean:
            mean = _number(path, item["mean_pain"], name, 0, 10)
            baseline = mean if baseline is None else baseline
        else:
            if baseline is None:
                _fail(path, "an improvement needs a mean_pain figure before it", name)
            mean = round(baseline - _number(path, item["improvement"], name, 0, 10), 2)
        figures.append(Figure(day, mean, " ".join(what.split()), item["source"]))
    band = raw.get("band")
    if not isinstance(band, dict):
        _fail(path, "must give above_mean, below_mean and source", "band")
    unknown = set(band) - _BAND_FIELDS
    if unknown:
        _fail(path, f"{sorted(unknown)[0]!r} is not a known band field", "band")
    if band.get("source") not in sources:
        _fail(path, f"source must be one of {', '.join(sorted(sources))}", "band")
    return ExpectedCourse(
        procedure=procedure,
        version=version,
        figures=tuple(figures),
        above_mean=_number(path, band.get("above_mean"), "band", 0, 10),
        below_mean=_number(path, band.get("below_mean"), "band", 0, 10),
        sources=dict(sources),
        confirm=" ".join(confirm.split()),
        path=path,
    )


def load_file(path: Path) -> ExpectedCourse:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExpectedCourseError(str(path), "is not valid YAML") from exc
    course = parse_course(raw, str(path))
    if course.procedure != path.stem:
        _fail(str(path), f"procedure {course.procedure!r} must match the file name", "procedure")
    return course


def course_for(schedules_dir: str | Path, procedure: str) -> ExpectedCourse | None:
    """The expected course for ``procedure``; None when no file gives one."""
    path = Path(schedules_dir) / EXPECTED_COURSE_DIR / f"{procedure}.yaml"
    if not path.is_file():
        return None
    return _cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _cached(path: str, _mtime: int) -> ExpectedCourse:
    return load_file(Path(path))


def current_course(procedure: str) -> ExpectedCourse | None:
    from flask import current_app, has_app_context

    from tracker.core.config import REPO_ROOT

    directory = (
        current_app.config["SCHEDULES_DIR"] if has_app_context() else str(REPO_ROOT / "schedules")
    )
    return course_for(directory, procedure)


# --- the indicator -----------------------------------------------------------------------


@dataclass(frozen=True)
class SlowerThanExpected:
    """The patient's current 3-day mean pain and the band's upper edge on its last day."""

    window: Window
    day: int
    band: BandDay

    @property
    def above_by(self) -> float:
        return round(self.window.mean - self.band.high, 2)

    def summary(self) -> str:
        return (
            f"Recovering more slowly than expected: 3-day mean pain {self.window.mean:g} at "
            f"day {self.day}, above the expected band (up to {self.band.high:g}; expected "
            f"mean {self.band.expected:g})"
        )


def slower_than_expected(
    course: ExpectedCourse | None,
    summaries: Sequence[DaySummary],
    procedure_date: date,
    today: date,
) -> SlowerThanExpected | None:
    """Whether the current 3-day mean pain (the alert rules' window, from day 0 on: SPEC
    section 6) sits above the band's upper edge on the window's last day. A mean exactly at
    the edge is within the band."""
    if course is None:
        return None
    since = [s for s in summaries if s.day >= procedure_date]
    windows = three_day_windows(since)
    if not windows or windows[-1].end < today - timedelta(days=2):
        return None  # no current window: nothing recent to compare
    current = windows[-1]
    day = (current.end - procedure_date).days
    band = course.band_on(day)
    if band is None or current.mean <= band.high:
        return None
    return SlowerThanExpected(current, day, band)


def slower_for_plans(
    course_of: Any,
    plans: Iterable[Any],
    summaries_by_plan: dict[int, Sequence[DaySummary]],
    today_of: Any,
) -> dict[int, SlowerThanExpected]:
    """The indicator for many plans at once (no queries): ``course_of(procedure)`` and
    ``today_of(plan)`` give each plan's course and local day."""
    found = {}
    for plan in plans:
        result = slower_than_expected(
            course_of(plan.procedure),
            summaries_by_plan.get(plan.id, ()),
            plan.procedure_date,
            today_of(plan),
        )
        if result is not None:
            found[plan.id] = result
    return found
