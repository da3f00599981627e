"""A patient's own record over their recovery: daily pain, check-ins, and a chart of it.

Pure reads: the daily summaries come from the stored pain entries and symptom reports (only
current ones: a corrected entry no longer counts, see ``corrections.py``); what
was due on each day comes from ``agenda.agenda_for_day`` (the one place that decides it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.corrections import current_pain, current_symptom_reports
from tracker.core.models import CarePlan, CheckOff, PainEntry, SymptomReport
from tracker.plans.agenda import agenda_for_day
from tracker.plans.opioid_rules import OpioidAnswers, answers_for


@dataclass(frozen=True)
class DayRecord:
    local_day: date
    day_number: int
    pain_max: int | None
    pain_mean: float | None
    pain_count: int
    warning_check_due: bool
    warning_check_done: bool

    @property
    def checked_in(self) -> bool:
        return self.pain_count > 0 or self.warning_check_done


def pain_logged_on(session: Session, plan: CarePlan, day: date) -> bool:
    return (
        session.scalar(
            select(PainEntry.id).where(
                PainEntry.plan_id == plan.id, PainEntry.local_day == day, current_pain()
            )
        )
        is not None
    )


def warning_check_done_on(session: Session, plan: CarePlan, day: date) -> bool:
    return (
        session.scalar(
            select(SymptomReport.id).where(
                SymptomReport.plan_id == plan.id,
                SymptomReport.local_day == day,
                current_symptom_reports(),
            )
        )
        is not None
    )


def opioid_answers(session: Session, plan: CarePlan) -> OpioidAnswers:
    """The plan's answers to the opioid check-in and the clinic's number of "no" days, for
    ``agenda_for_day(..., opioids=...)`` (the no-driving rule, opioid_rules.py)."""
    return answers_for(session, plan.id, plan.clinic.opioid_free_days_before_driving)


def checked_off_on(session: Session, plan: CarePlan, day: date) -> set[str]:
    return set(
        session.scalars(
            select(CheckOff.activity_key).where(
                CheckOff.plan_id == plan.id, CheckOff.local_day == day
            )
        )
    )


def recovery_days(session: Session, plan: CarePlan, today: date) -> list[DayRecord]:
    """One record per local day from the procedure to today (within the plan), oldest first."""
    last = min(today, plan.procedure_date + timedelta(days=plan.duration_days - 1))
    if last < plan.procedure_date:
        return []
    scores: dict[date, list[int]] = defaultdict(list)
    for day, score in session.execute(
        select(PainEntry.local_day, PainEntry.score).where(
            PainEntry.plan_id == plan.id,
            PainEntry.local_day >= plan.procedure_date,
            PainEntry.local_day <= last,
            current_pain(),
        )
    ):
        scores[day].append(score)
    warning_days = set(
        session.scalars(
            select(SymptomReport.local_day).where(
                SymptomReport.plan_id == plan.id,
                SymptomReport.local_day >= plan.procedure_date,
                SymptomReport.local_day <= last,
                current_symptom_reports(),
            )
        )
    )
    records = []
    for n in range((last - plan.procedure_date).days + 1):
        day = plan.procedure_date + timedelta(days=n)
        day_scores = scores.get(day, [])
        due = any(a.check_in == "warning_signs" for a in agenda_for_day(plan, day).check_ins)
        records.append(
            DayRecord(
                local_day=day,
                day_number=n,
                pain_max=max(day_scores) if day_scores else None,
                pain_mean=round(sum(day_scores) / len(day_scores), 1) if day_scores else None,
                pain_count=len(day_scores),
                warning_check_due=due,
                warning_check_done=day in warning_days,
            )
        )
    return records


# --- the chart: plain SVG geometry, drawn by the template -------------------------------------

# Drawn in phone-sized units, so the labels stay readable when a 360 px screen shows it.
CHART_WIDTH = 360
CHART_HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 12, 12, 46


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    day_number: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class PainChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    # Runs of consecutive days with a score; a day without one leaves a gap in the line.
    max_lines: tuple[tuple[Point, ...], ...]
    mean_lines: tuple[tuple[Point, ...], ...]
    max_points: tuple[Point, ...]
    mean_points: tuple[Point, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    description: str

    @staticmethod
    def polyline(points: tuple[Point, ...]) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def _runs(points: list[Point | None]) -> tuple[tuple[Point, ...], ...]:
    runs, current = [], []
    for point in points:
        if point is None:
            if current:
                runs.append(tuple(current))
            current = []
        else:
            current.append(point)
    if current:
        runs.append(tuple(current))
    return tuple(runs)


def describe(records: list[DayRecord]) -> str:
    scored = [r for r in records if r.pain_max is not None]
    if not scored:
        return "No pain scores logged yet."
    first, last = scored[0], scored[-1]
    if first is last:
        return (
            f"One day logged so far: highest pain {first.pain_max} out of 10 "
            f"on day {first.day_number}."
        )
    return (
        f"Highest pain was {first.pain_max} out of 10 on day {first.day_number} and "
        f"{last.pain_max} out of 10 on day {last.day_number}; "
        f"{len(scored)} of {len(records)} days have a score."
    )


def pain_chart(records: list[DayRecord], duration_days: int) -> PainChart:
    """Daily highest and average pain (0-10) against the day of recovery."""
    span = max(len(records), 8, min(duration_days, 15))
    left, right = float(_LEFT), float(CHART_WIDTH - _RIGHT)
    top, bottom = float(_TOP), float(CHART_HEIGHT - _BOTTOM)
    step = (right - left) / max(span - 1, 1)

    def x(n: int) -> float:
        return left + n * step

    def y(score: float) -> float:
        return bottom - (bottom - top) * score / 10

    maxima: list[Point | None] = []
    means: list[Point | None] = []
    for r in records:
        if r.pain_max is None or r.pain_mean is None:
            maxima.append(None)
            means.append(None)
            continue
        maxima.append(Point(x(r.day_number), y(r.pain_max), r.pain_max, r.day_number))
        means.append(Point(x(r.day_number), y(r.pain_mean), r.pain_mean, r.day_number))
    every = 7 if span > 14 else (2 if span > 8 else 1)
    return PainChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        max_lines=_runs(maxima),
        mean_lines=_runs(means),
        max_points=tuple(p for p in maxima if p is not None),
        mean_points=tuple(p for p in means if p is not None),
        y_ticks=tuple(Tick(y(v), str(v)) for v in (0, 2, 4, 6, 8, 10)),
        x_ticks=tuple(Tick(x(n), str(n)) for n in range(0, span, every)),
        description=describe(records),
    )
