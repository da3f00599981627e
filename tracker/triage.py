"""The triage list: which of a clinic's patients need attention, most urgent first.

A page costs the same number of queries whatever the number of patients: one count, one
page of plans (ordered in SQL by their unresolved alerts), then one query each for the page's
pain entries, symptom-report days, check-offs and unresolved alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from tracker.agenda import agenda_for_day, plan_activities, plan_last_day
from tracker.corrections import PAIN_ROW_COLUMNS
from tracker.models import (
    PLAN_STATUSES,
    PROCEDURES,
    Alert,
    CarePlan,
    CheckOff,
    Clinic,
    PainEntry,
    Patient,
    SymptomReport,
)
from tracker.pain_trends import (
    DaySummary,
    daily_summaries,
    effective_entries,
    latest,
    sparkline_svg,
)
from tracker.plan_templates import Activity as PlanActivity
from tracker.timeutil import local_day
from tracker.whole_numbers import parse_whole_number

PAGE_SIZE = 25
MAX_DAY_FILTER = 400
# Rank of a plan on the list: unacknowledged alerts by urgency (urgent, high, normal), then
# alerts someone has acknowledged and is working on, then everyone else.
RANK_URGENT, RANK_HIGH, RANK_NORMAL, RANK_ACKNOWLEDGED, RANK_NONE = 0, 1, 2, 3, 4
URGENCY_ORDER = {"urgent": 0, "high": 1, "normal": 2}


@dataclass(frozen=True)
class TriageFilters:
    has_alerts: bool = False
    procedure: str | None = None
    min_day: int | None = None
    max_day: int | None = None
    status: str = "active"
    page: int = 1

    def query_args(self, **changes: object) -> dict[str, object]:
        """The filters as URL query arguments (for pagination links)."""
        values: dict[str, object] = {
            "has_alerts": "1" if self.has_alerts else None,
            "procedure": self.procedure,
            "min_day": self.min_day,
            "max_day": self.max_day,
            "status": None if self.status == "active" else self.status,
            "page": self.page if self.page != 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}


def parse_filters(args: Mapping[str, str]) -> tuple[TriageFilters, dict[str, str]]:
    """Filters from query arguments, and a message per field that was not understood."""
    errors: dict[str, str] = {}

    def day(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        value = parse_whole_number(raw, high=MAX_DAY_FILTER)
        if value is None:
            errors[name] = f"Enter a whole number of days from 0 to {MAX_DAY_FILTER}."
        return value

    procedure = (args.get("procedure") or "").strip() or None
    if procedure is not None and procedure not in PROCEDURES:
        errors["procedure"] = "Choose a procedure from the list."
        procedure = None
    status = (args.get("status") or "active").strip()
    if status not in (*PLAN_STATUSES, "all"):
        errors["status"] = "Choose a plan status from the list."
        status = "active"
    min_day, max_day = day("min_day"), day("max_day")
    if min_day is not None and max_day is not None and min_day > max_day:
        errors["max_day"] = "The last day must not be before the first day."
        min_day = max_day = None
    page = parse_whole_number(args.get("page"), low=1, high=99_999) or 1
    return (
        TriageFilters(
            has_alerts=args.get("has_alerts") in ("1", "on", "true"),
            procedure=procedure,
            min_day=min_day,
            max_day=max_day,
            status=status,
            page=page,
        ),
        errors,
    )


@dataclass(frozen=True)
class Adherence:
    due: int
    done: int

    @property
    def percent(self) -> int | None:
        return round(self.done * 100 / self.due) if self.due else None


@dataclass
class Activity:
    """What one plan's patient did, by local day (loaded in bulk)."""

    pain: list[PainEntry] = field(default_factory=list)
    report_days: set[date] = field(default_factory=set)
    checkoffs: set[tuple[str, date]] = field(default_factory=set)


def item_done(item: PlanActivity, day: date, acts: Activity, pain_days: set[date]) -> bool:
    """Whether an adherence item was done on ``day``: a task needs a check-off, the pain
    check-in a pain score that day, the warning-signs check a symptom report that day."""
    if item.kind == "check_in" and item.check_in == "pain":
        return day in pain_days
    if item.kind == "check_in" and item.check_in == "warning_signs":
        return day in acts.report_days or (item.key, day) in acts.checkoffs
    return (item.key, day) in acts.checkoffs


def adherence(plan: CarePlan, today: date, acts: Activity) -> Adherence:
    """Adherence items done over the whole days so far (today is not over, so not counted),
    from the later of the procedure day and the enrolment day."""
    first = max(plan.procedure_date, local_day(plan.created_at, plan.timezone))
    last = min(today - timedelta(days=1), plan_last_day(plan))
    due = done = 0
    pain_days = {e.local_day for e in acts.pain}
    activities = plan_activities(plan)
    day = first
    while day <= last:
        for item in agenda_for_day(plan, day, activities).adherence_items:
            due += 1
            done += item_done(item, day, acts, pain_days)
        day += timedelta(days=1)
    return Adherence(due=due, done=done)


@dataclass(frozen=True)
class TriageRow:
    patient: Patient
    plan: CarePlan
    rank: int
    day_number: int
    latest_pain: PainEntry | None
    summaries: list[DaySummary]  # the sparkline's days only
    sparkline: Markup
    adherence: Adherence
    alerts: list[Alert]

    @property
    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "open"]


@dataclass(frozen=True)
class TriagePage:
    rows: list[TriageRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def alert_order(alert: Alert) -> tuple[bool, int, datetime]:
    """Unacknowledged first, then by urgency, then oldest first."""
    return (alert.status != "open", URGENCY_ORDER.get(alert.urgency, 9), alert.raised_at)


SPARKLINE_DAYS = 14


def _rank_subquery(clinic_id: int) -> Subquery:
    rank = case(
        (and_(Alert.status == "open", Alert.urgency == "urgent"), RANK_URGENT),
        (and_(Alert.status == "open", Alert.urgency == "high"), RANK_HIGH),
        (Alert.status == "open", RANK_NORMAL),
        else_=RANK_ACKNOWLEDGED,
    )
    return (
        select(
            Alert.plan_id.label("plan_id"),
            func.min(rank).label("rank"),
            func.min(Alert.raised_at).label("oldest"),
        )
        .where(Alert.clinic_id == clinic_id, Alert.status != "resolved")
        .group_by(Alert.plan_id)
        .subquery()
    )


def _load_activity(session: Session, plan_ids: Iterable[int]) -> dict[int, Activity]:
    ids = list(plan_ids)
    acts: dict[int, Activity] = defaultdict(Activity)
    if not ids:
        return acts
    # Plain rows with the attributes the page reads, not ORM objects: a page of 25 patients
    # can carry thousands of scores, and building an object for each dominated the page.
    for entry in session.connection().execute(
        select(*PAIN_ROW_COLUMNS).where(PainEntry.plan_id.in_(ids))
    ):
        acts[entry.plan_id].pain.append(entry)  # type: ignore[arg-type]
    for plan_id, day in session.execute(
        select(SymptomReport.plan_id, SymptomReport.local_day)
        .where(SymptomReport.plan_id.in_(ids))
        .distinct()
    ):
        acts[plan_id].report_days.add(day)
    for plan_id, key, day in session.execute(
        select(CheckOff.plan_id, CheckOff.activity_key, CheckOff.local_day).where(
            CheckOff.plan_id.in_(ids)
        )
    ):
        acts[plan_id].checkoffs.add((key, day))
    for acts_of_plan in acts.values():
        # Superseded scores are corrections: count and chart only what stands.
        acts_of_plan.pain = effective_entries(acts_of_plan.pain)
    return acts


def triage_page(
    session: Session,
    clinic: Clinic,
    filters: TriageFilters,
    now: datetime,
    *,
    page_size: int = PAGE_SIZE,
) -> TriagePage:
    ranks = _rank_subquery(clinic.id)
    rank = func.coalesce(ranks.c.rank, RANK_NONE)
    conditions = [CarePlan.clinic_id == clinic.id]
    if filters.status != "all":
        conditions.append(CarePlan.status == filters.status)
    if filters.procedure:
        conditions.append(CarePlan.procedure == filters.procedure)
    if filters.has_alerts:
        conditions.append(ranks.c.rank.is_not(None))
    # Day ranges use the clinic's calendar day; a patient in another zone may be one day off.
    clinic_today = local_day(now, clinic.timezone)
    if filters.min_day is not None:
        conditions.append(CarePlan.procedure_date <= clinic_today - timedelta(filters.min_day))
    if filters.max_day is not None:
        conditions.append(CarePlan.procedure_date >= clinic_today - timedelta(filters.max_day))

    base = (
        select(CarePlan, Patient, rank.label("rank"))
        .join(Patient, Patient.id == CarePlan.patient_id)
        .outerjoin(ranks, ranks.c.plan_id == CarePlan.id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = min(filters.page, max(1, -(-total // page_size)))
    rows = session.execute(
        base.order_by(rank, ranks.c.oldest, Patient.name, CarePlan.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()

    plan_ids = [plan.id for plan, _, _ in rows]
    acts = _load_activity(session, plan_ids)
    alerts: dict[int, list[Alert]] = defaultdict(list)
    if plan_ids:
        for alert in session.scalars(
            select(Alert).where(Alert.plan_id.in_(plan_ids), Alert.status != "resolved")
        ):
            alerts[alert.plan_id].append(alert)

    result = []
    for plan, patient, plan_rank in rows:
        today = local_day(now, plan.timezone)
        plan_acts = acts[plan.id]
        # Only the sparkline's days are summarised: the page shows nothing of the others.
        first_shown = today - timedelta(days=SPARKLINE_DAYS - 1)
        summaries = daily_summaries(
            [e for e in plan_acts.pain if e.local_day >= first_shown], plan.procedure_date
        )
        result.append(
            TriageRow(
                patient=patient,
                plan=plan,
                rank=plan_rank,
                day_number=(today - plan.procedure_date).days,
                latest_pain=latest(plan_acts.pain),
                summaries=summaries,
                sparkline=sparkline_svg(summaries, today, days=SPARKLINE_DAYS),
                adherence=adherence(plan, today, plan_acts),
                alerts=sorted(
                    alerts[plan.id],
                    key=lambda a: (
                        a.status != "open",
                        URGENCY_ORDER.get(a.urgency, 9),
                        a.raised_at,
                    ),
                ),
            )
        )
    return TriagePage(rows=result, total=total, page=page, page_size=page_size)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    day_number: int
    due: tuple[str, ...]
    done: tuple[str, ...]
    state: str  # future | none_due | complete | partial | missed | today

    @property
    def label(self) -> str:
        if self.state == "future":
            return "upcoming"
        if self.state == "none_due":
            return "nothing due"
        return f"{len(self.done)} of {len(self.due)} done"


def check_in_calendar(
    plan: CarePlan, today: date, acts: Activity
) -> list[list[CalendarDay | None]]:
    """The plan's days as weeks (Monday first) of what was due and what was done."""
    pain_days = {e.local_day for e in acts.pain}
    first, last = plan.procedure_date, plan_last_day(plan)
    activities = plan_activities(plan)
    weeks: list[list[CalendarDay | None]] = []
    week: list[CalendarDay | None] = [None] * first.weekday()
    day = first
    while day <= last:
        items = agenda_for_day(plan, day, activities).adherence_items
        due = tuple(a.title for a in items)
        done = tuple(a.title for a in items if item_done(a, day, acts, pain_days))
        if day > today:
            state = "future"
        elif not due:
            state = "none_due"
        elif len(done) == len(due):
            state = "complete"
        elif day == today:
            state = "today"
        else:
            state = "partial" if done else "missed"
        week.append(CalendarDay(day, (day - first).days, due, done, state))
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return weeks
