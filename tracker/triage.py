"""The triage list: which of a clinic's patients need attention, most urgent first.

A page costs the same number of queries whatever the number of patients: one count, one
page of plans (ordered in SQL by their unresolved alerts), then one query each for the page's
pain scores (summed up by day in SQL), symptom-report days, check-offs and unresolved alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    Connection,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql import Subquery

from tracker.agenda import agenda_for_day, counts_for_adherence, plan_activities, plan_last_day
from tracker.corrections import current_pain
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
from tracker.pain_trends import DayMax, sparkline_svg
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

    # Local days with a current (not superseded) pain score.
    pain_days: set[date] = field(default_factory=set)
    report_days: set[date] = field(default_factory=set)
    checkoffs: set[tuple[str, date]] = field(default_factory=set)


def item_done(item: PlanActivity, day: date, acts: Activity) -> bool:
    """Whether an adherence item was done on ``day``: a task needs a check-off, the pain
    check-in a pain score that day, the warning-signs check a symptom report that day."""
    if item.kind == "check_in" and item.check_in == "pain":
        return day in acts.pain_days
    if item.kind == "check_in" and item.check_in == "warning_signs":
        return day in acts.report_days or (item.key, day) in acts.checkoffs
    return (item.key, day) in acts.checkoffs


def adherence(plan: CarePlan, today: date, acts: Activity) -> Adherence:
    """Adherence items done over the whole days so far (today is not over, so not counted),
    from the later of the procedure day and the enrolment day."""
    first = max(plan.procedure_date, local_day(plan.created_at, plan.timezone))
    last = min(today - timedelta(days=1), plan_last_day(plan))
    due = done = 0
    # The items of ``agenda_for_day(plan, day).adherence_items``, without building the rest
    # of each day's agenda.
    items = [a for a in plan_activities(plan) if counts_for_adherence(a)]
    day, n = first, (first - plan.procedure_date).days
    while day <= last:
        for item in items:
            if item.occurs_on(n):
                due += 1
                done += item_done(item, day, acts)
        day += ONE_DAY
        n += 1
    return Adherence(due=due, done=done)


@dataclass(frozen=True)
class LatestPain:
    score: int
    local_day: date


@dataclass(frozen=True)
class TriageRow:
    patient: Patient
    plan: CarePlan
    rank: int
    day_number: int
    latest_pain: LatestPain | None
    summaries: list[DayMax]  # the sparkline's days only
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
ONE_DAY = timedelta(days=1)


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


@dataclass
class PainDays:
    """A plan's current pain scores, summed up in SQL: the highest score of each local day
    (oldest day first) and the latest score."""

    maxima: list[tuple[date, int]] = field(default_factory=list)
    latest: LatestPain | None = None


@cache
def _pain_days_statement() -> Select[Any]:
    """The highest current score of each local day, and the latest current score, of the
    plans ``:plan_ids``, in one statement: the page reads days, never every score.

    Built once (statement construction, not data): aliases and correlated subqueries take
    longer to build than the database takes to answer them."""
    ids = bindparam("plan_ids", expanding=True)
    daily = (
        select(
            literal(False).label("is_latest"),
            PainEntry.plan_id,
            PainEntry.local_day,
            func.max(PainEntry.score),
        )
        .where(PainEntry.plan_id.in_(ids), current_pain())
        .group_by(PainEntry.plan_id, PainEntry.local_day)
    )
    candidate = aliased(PainEntry)

    def of_latest(column: InstrumentedAttribute[Any]) -> ScalarSelect[Any]:
        # Read backwards along ix_pain_entry_plan_recorded until the first current score.
        return (
            select(column)
            .where(candidate.plan_id == CarePlan.id, current_pain(candidate))
            .order_by(candidate.recorded_at.desc(), candidate.id.desc())
            .limit(1)
            .correlate(CarePlan)
            .scalar_subquery()
        )

    latest = select(
        literal(True),
        CarePlan.id,
        of_latest(candidate.local_day),
        of_latest(candidate.score),
    ).where(CarePlan.id.in_(ids))
    both = union_all(daily, latest).subquery()
    return select(both).order_by(both.c.plan_id, both.c.local_day)


def _pain_days(connection: Connection, ids: list[int]) -> dict[int, PainDays]:
    result: dict[int, PainDays] = defaultdict(PainDays)
    for is_latest, plan_id, day, score in connection.execute(
        _pain_days_statement(), {"plan_ids": ids}
    ).all():
        if is_latest:
            if score is not None:
                result[plan_id].latest = LatestPain(score=score, local_day=day)
        else:
            result[plan_id].maxima.append((day, score))
    return result


def _load_activity(
    connection: Connection, plan_ids: list[int], pain: Mapping[int, PainDays]
) -> dict[int, Activity]:
    acts: dict[int, Activity] = defaultdict(Activity)
    for plan_id in plan_ids:
        acts[plan_id].pain_days = {day for day, _ in pain[plan_id].maxima}
    for plan_id, day in connection.execute(
        select(SymptomReport.plan_id, SymptomReport.local_day)
        .where(SymptomReport.plan_id.in_(plan_ids))
        .distinct()
    ).all():
        acts[plan_id].report_days.add(day)
    for plan_id, key, day in connection.execute(
        select(CheckOff.plan_id, CheckOff.activity_key, CheckOff.local_day).where(
            CheckOff.plan_id.in_(plan_ids)
        )
    ).all():
        acts[plan_id].checkoffs.add((key, day))
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

    listed = (
        select(CarePlan.id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .outerjoin(ranks, ranks.c.plan_id == CarePlan.id)
        .where(*conditions)
    )
    # Every plan has its patient, and the alert ranks matter only to the alerts filter: the
    # count reads the care_plan index alone unless that filter is on.
    counted = listed if filters.has_alerts else select(CarePlan.id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    page = min(filters.page, max(1, -(-total // page_size)))
    # The page is chosen over narrow rows (id and sort keys); only its plans and patients
    # are then read whole.
    chosen = (
        listed.add_columns(rank.label("rank"), ranks.c.oldest, Patient.name)
        .order_by(rank, ranks.c.oldest, Patient.name, CarePlan.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery()
    )
    rows = session.execute(
        select(CarePlan, Patient, chosen.c.rank)
        .join(chosen, chosen.c.id == CarePlan.id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .order_by(chosen.c.rank, chosen.c.oldest, chosen.c.name, CarePlan.id)
    ).all()

    plan_ids = [plan.id for plan, _, _ in rows]
    pain: dict[int, PainDays] = defaultdict(PainDays)
    acts: dict[int, Activity] = defaultdict(Activity)
    alerts: dict[int, list[Alert]] = defaultdict(list)
    if plan_ids:
        connection = session.connection()
        pain.update(_pain_days(connection, plan_ids))
        acts.update(_load_activity(connection, plan_ids, pain))
        for alert in session.scalars(
            select(Alert).where(Alert.plan_id.in_(plan_ids), Alert.status != "resolved")
        ):
            alerts[alert.plan_id].append(alert)

    result = []
    for plan, patient, plan_rank in rows:
        today = local_day(now, plan.timezone)
        plan_pain = pain[plan.id]
        # Only the sparkline's days are summarised: the page shows nothing of the others.
        first_shown = today - timedelta(days=SPARKLINE_DAYS - 1)
        shown = [
            DayMax(day=day, day_number=(day - plan.procedure_date).days, max=highest)
            for day, highest in plan_pain.maxima
            if first_shown <= day <= today
        ]
        result.append(
            TriageRow(
                patient=patient,
                plan=plan,
                rank=plan_rank,
                day_number=(today - plan.procedure_date).days,
                latest_pain=plan_pain.latest,
                summaries=shown,
                sparkline=sparkline_svg(shown, today, days=SPARKLINE_DAYS),
                adherence=adherence(plan, today, acts[plan.id]),
                alerts=sorted(alerts[plan.id], key=alert_order),
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
    first, last = plan.procedure_date, plan_last_day(plan)
    activities = plan_activities(plan)
    weeks: list[list[CalendarDay | None]] = []
    week: list[CalendarDay | None] = [None] * first.weekday()
    day = first
    while day <= last:
        items = agenda_for_day(plan, day, activities).adherence_items
        due = tuple(a.title for a in items)
        done = tuple(a.title for a in items if item_done(a, day, acts))
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
