"""The triage list: which of a clinic's patients need attention, most urgent first.

A page costs the same number of queries whatever the number of patients: one page of plans
(ordered in SQL by their unresolved alerts, carrying the total for the pager), one for what
the page's patients did by day (pain summed up by day in SQL, symptom-report days,
check-offs), one for their unresolved alerts, one for their latest contacts
(contact_log.py) and one for the clinic's accounts (the alerts' owners and whom an alert
can be assigned to, work_queue.py). Pain scores are never read one by one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from markupsafe import Markup
from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Row,
    ScalarSelect,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql import Subquery

from tracker.alerts.corrections import current_pain
from tracker.alerts.pain_trends import DayMax, sparkline_svg
from tracker.care.contact_log import ContactShown, latest_contacts
from tracker.care.work_queue import OWNER_FILTERS, Colleague, colleagues
from tracker.core.models import (
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
from tracker.core.timeutil import local_day
from tracker.core.whole_numbers import parse_whole_number
from tracker.escalation.paging import PagingState, paging_states
from tracker.plans.agenda import (
    agenda_for_day,
    plan_activities,
    plan_last_day,
    stored_counts_for_adherence,
    with_override,
)
from tracker.plans.templates import Activity as PlanActivity

PAGE_SIZE = 25
# How a row names the procedure (the full name is the abbreviation's title).
PROCEDURE_ABBREVIATIONS = {"kyphoplasty": "KP", "vertebroplasty": "VP"}
assert set(PROCEDURE_ABBREVIATIONS) == set(PROCEDURES)
MAX_DAY_FILTER = 400
# Rank of a plan on the list: unacknowledged alerts by urgency (critical, urgent, high,
# normal), then alerts someone has acknowledged and is working on, then everyone else.
RANK_CRITICAL, RANK_URGENT, RANK_HIGH, RANK_NORMAL, RANK_ACKNOWLEDGED, RANK_NONE = range(6)
URGENCY_ORDER = {"critical": 0, "urgent": 1, "high": 2, "normal": 3}


@dataclass(frozen=True)
class TriageFilters:
    has_alerts: bool = False
    procedure: str | None = None
    min_day: int | None = None
    max_day: int | None = None
    status: str = "active"
    page: int = 1
    # "mine": patients with an unresolved alert owned by ``viewer_id`` (the signed-in
    # user); "nobody": patients with an unresolved alert nobody owns; None: everyone.
    owner: str | None = None
    viewer_id: int | None = None

    def query_args(self, **changes: object) -> dict[str, object]:
        """The filters as URL query arguments (for pagination links)."""
        values: dict[str, object] = {
            "has_alerts": "1" if self.has_alerts else None,
            "procedure": self.procedure,
            "min_day": self.min_day,
            "max_day": self.max_day,
            "status": None if self.status == "active" else self.status,
            "owner": self.owner,
            "page": self.page if self.page != 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}


def parse_filters(
    args: Mapping[str, str], *, viewer_id: int | None = None
) -> tuple[TriageFilters, dict[str, str]]:
    """Filters from query arguments, and a message per field that was not understood.
    ``viewer_id``: the signed-in user, whose alerts the "mine" filter lists."""
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
    owner = (args.get("owner") or "").strip() or None
    if owner is not None and (owner not in OWNER_FILTERS or (owner == "mine" and not viewer_id)):
        errors["owner"] = "Choose whose alerts to list from the list."
        owner = None
    page = parse_whole_number(args.get("page"), low=1, high=99_999) or 1
    return (
        TriageFilters(
            has_alerts=args.get("has_alerts") in ("1", "on", "true"),
            procedure=procedure,
            min_day=min_day,
            max_day=max_day,
            status=status,
            page=page,
            owner=owner,
            viewer_id=viewer_id,
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


def adherence(
    plan: CarePlan | PlanRow,
    today: date,
    acts: Activity,
    items: Sequence[PlanActivity] | None = None,
) -> Adherence:
    """Adherence items done over the whole days so far (today is not over, so not counted),
    from the later of the procedure day and the enrolment day. ``items``: the plan's
    activities that count for adherence, overrides applied, when the caller has them."""
    first = max(plan.procedure_date, local_day(plan.created_at, plan.timezone))
    last = min(today - timedelta(days=1), plan_last_day(plan))
    due = done = 0
    # The items of ``agenda_for_day(plan, day).adherence_items``, without building the rest
    # of each day's agenda.
    if items is None:
        items = plan_activities(plan, adherence_only=True)  # type: ignore[arg-type]
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
    corrected: bool = False  # the score replaced one the patient corrected


class PlanRow(NamedTuple):
    """The care-plan columns the triage page reads (a plain row, not an ORM object)."""

    id: int
    procedure: str
    levels: str | None
    status: str
    procedure_date: date
    timezone: str
    created_at: datetime
    duration_days: int
    activities_json: str  # the stored text: see _adherence_activities
    overrides: dict[str, Any]


class PatientRow(NamedTuple):
    id: int
    name: str
    phone: str | None
    sms_number: str | None  # the phone in E.164 form, for the texting status


class AlertRow(NamedTuple):
    id: int
    plan_id: int
    rule: str
    urgency: str
    status: str
    summary: str
    raised_at: datetime
    updated_at: datetime | None
    detail: dict[str, Any]
    page_round: int
    escalation_level: int
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    assigned_to_id: int | None
    assigned_at: datetime | None

    @property
    def corrections(self) -> list[dict[str, Any]]:
        """The patient's corrections of a score this alert cites (alerts.note_correction)."""
        return list((self.detail or {}).get("corrections") or [])


@dataclass(frozen=True)
class TriageRow:
    patient: PatientRow
    plan: PlanRow
    rank: int
    day_number: int
    latest_pain: LatestPain | None
    summaries: list[DayMax]  # the sparkline's days only
    sparkline: Markup
    adherence: Adherence
    alerts: list[AlertRow]
    # The on-call paging of the row's alerts that were paged (paging.paging_states).
    paging: dict[int, PagingState] = field(default_factory=dict)
    # The latest entry of the patient's contact log, if any.
    last_contact: ContactShown | None = None

    @property
    def open_alerts(self) -> list[AlertRow]:
        return [a for a in self.alerts if a.status == "open"]


@dataclass(frozen=True)
class TriagePage:
    rows: list[TriageRow]
    total: int
    page: int
    page_size: int
    # Every account of the clinic, by name: owners' names and whom to assign to.
    colleagues: list[Colleague] = field(default_factory=list)

    @property
    def names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.colleagues}

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def alert_order(alert: Alert | AlertRow) -> tuple[bool, int, datetime]:
    """Unacknowledged first, then by urgency, then oldest first."""
    return (alert.status != "open", URGENCY_ORDER.get(alert.urgency, 9), alert.raised_at)


SPARKLINE_DAYS = 14
ONE_DAY = timedelta(days=1)

# The statements below are built once per shape and take their values as parameters:
# building SQLAlchemy statements (aliases, subqueries) costs more than the database takes
# to answer them. Only statement structure is kept, never data.


def _rank_subquery(owner: str | None = None) -> Subquery:
    rank = case(
        (and_(Alert.status == "open", Alert.urgency == "critical"), RANK_CRITICAL),
        (and_(Alert.status == "open", Alert.urgency == "urgent"), RANK_URGENT),
        (and_(Alert.status == "open", Alert.urgency == "high"), RANK_HIGH),
        (Alert.status == "open", RANK_NORMAL),
        else_=RANK_ACKNOWLEDGED,
    )
    # With the owner filter on: how many of the plan's unresolved alerts it matches.
    if owner == "mine":
        owned = func.sum(case((Alert.assigned_to_id == bindparam("viewer_id"), 1), else_=0))
    elif owner == "nobody":
        owned = func.sum(case((Alert.assigned_to_id.is_(None), 1), else_=0))
    else:
        owned = literal(1)
    return (
        select(
            Alert.plan_id.label("plan_id"),
            func.min(rank).label("rank"),
            func.min(Alert.raised_at).label("oldest"),
            owned.label("owned"),
        )
        .where(Alert.clinic_id == bindparam("clinic_id"), Alert.status != "resolved")
        .group_by(Alert.plan_id)
        .subquery()
    )


@cache
def _list_statements(
    *,
    has_alerts: bool,
    status: bool,
    procedure: bool,
    min_day: bool,
    max_day: bool,
    alerted_too: bool = False,
    owner: str | None = None,
) -> tuple[Select[Any], Select[Any]]:
    """(count, page) for one combination of filters, with parameters ``clinic_id``,
    ``status``, ``procedure``, ``latest_procedure``, ``earliest_procedure``, ``viewer_id``,
    ``limit`` and ``offset``. The page rows are PlanRow + PatientRow columns, then the rank
    and the number of plans on all pages (``total``)."""
    ranks = _rank_subquery(owner)
    rank = func.coalesce(ranks.c.rank, RANK_NONE)
    conditions = [CarePlan.clinic_id == bindparam("clinic_id")]
    if status and alerted_too:
        # A patient with an unresolved alert stays on the (default) list whatever the
        # plan's status: pausing or ending a plan must not hide a patient in trouble.
        conditions.append(or_(CarePlan.status == bindparam("status"), ranks.c.rank.is_not(None)))
        # Always true (the column's CHECK), but it lets SQLite read each plan's status from
        # ix_care_plan_clinic_status: in the row it comes after the activities' JSON, and
        # reading it there follows the row's overflow pages (a third of the page's SQL).
        conditions.append(CarePlan.status.in_(PLAN_STATUSES))
    elif status:
        conditions.append(CarePlan.status == bindparam("status"))
    if procedure:
        conditions.append(CarePlan.procedure == bindparam("procedure"))
    if has_alerts:
        conditions.append(ranks.c.rank.is_not(None))
    if owner:
        conditions.append(ranks.c.owned > 0)
    if min_day:
        conditions.append(CarePlan.procedure_date <= bindparam("latest_procedure", type_=Date))
    if max_day:
        conditions.append(CarePlan.procedure_date >= bindparam("earliest_procedure", type_=Date))
    listed = (
        select(CarePlan.id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .outerjoin(ranks, ranks.c.plan_id == CarePlan.id)
        .where(*conditions)
    )
    # Every plan has its patient, and the alert ranks matter only to the alerts filter: the
    # count reads the care_plan index alone unless that filter is on.
    counted = (
        listed if has_alerts or alerted_too or owner else select(CarePlan.id).where(*conditions)
    )
    count = select(func.count()).select_from(counted.subquery())
    # The page is chosen over narrow rows (id and sort keys); only its plans and patients
    # are then read, and only the columns the page shows.
    chosen = (
        listed.add_columns(
            rank.label("rank"), ranks.c.oldest, Patient.name, func.count().over().label("total")
        )
        .order_by(rank, ranks.c.oldest, Patient.name, CarePlan.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery()
    )
    page = (
        select(
            *(getattr(CarePlan, name) for name in PlanRow._fields[:8]),
            cast(CarePlan.activities, Text),
            CarePlan.overrides,
            Patient.id,
            Patient.name,
            Patient.phone,
            Patient.sms_number,
            chosen.c.rank,
            chosen.c.total,
        )
        .join(chosen, chosen.c.id == CarePlan.id)
        .join(Patient, Patient.id == CarePlan.patient_id)
        .order_by(chosen.c.rank, chosen.c.oldest, chosen.c.name, CarePlan.id)
    )
    return count, page


# What one row of the activity statement is.
PAIN_DAY, LATEST_PAIN, REPORT_DAY, CHECK_OFF = 0, 1, 2, 3


@cache
def _activity_statement() -> Select[Any]:
    """What the plans ``:plan_ids`` did, by local day, in one statement of
    (kind, plan_id, local_day, score, activity_key) rows:

    - PAIN_DAY: the highest current pain score of a day, for the days the page uses (from
      the procedure day, for adherence, or from ``:since``, for the sparklines): the page
      reads days, never every score;
    - LATEST_PAIN: the plan's latest current score (none: day and score are NULL);
    - REPORT_DAY: a day with a symptom report;
    - CHECK_OFF: a check-off of ``activity_key`` on a day.
    """
    ids = bindparam("plan_ids", expanding=True)
    since = bindparam("since", type_=Date)
    no_key = null().cast(String)
    pain_days = (
        select(
            literal(PAIN_DAY).label("kind"),
            PainEntry.plan_id,
            PainEntry.local_day,
            func.max(PainEntry.score).label("score"),
            no_key.label("activity_key"),
        )
        .select_from(CarePlan)
        .join(PainEntry, PainEntry.plan_id == CarePlan.id)
        .where(
            CarePlan.id.in_(ids),
            # The earlier of the two, so both databases read a range of ix_pain_entry_plan_day.
            PainEntry.local_day
            >= case((CarePlan.procedure_date < since, CarePlan.procedure_date), else_=since),
            current_pain(),
        )
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
        literal(LATEST_PAIN),
        CarePlan.id,
        of_latest(candidate.local_day),
        of_latest(candidate.score),
        # The activity_key column carries the id the latest score corrected, if any.
        cast(of_latest(candidate.supersedes_id), String),
    ).where(CarePlan.id.in_(ids))
    report_days = (
        select(
            literal(REPORT_DAY),
            SymptomReport.plan_id,
            SymptomReport.local_day,
            null().cast(Integer),
            no_key,
        )
        .where(SymptomReport.plan_id.in_(ids))
        .distinct()
    )
    checkoffs = select(
        literal(CHECK_OFF),
        CheckOff.plan_id,
        CheckOff.local_day,
        null().cast(Integer),
        CheckOff.activity_key,
    ).where(CheckOff.plan_id.in_(ids))
    days = union_all(pain_days, latest, report_days, checkoffs).subquery()
    return select(days).order_by(days.c.plan_id, days.c.local_day)


@dataclass
class PlanDays:
    """One listed plan's activity, as the page uses it."""

    acts: Activity = field(default_factory=Activity)
    # The highest current score of each local day, oldest day first.
    maxima: list[tuple[date, int]] = field(default_factory=list)
    latest: LatestPain | None = None


def _load_activity(connection: Connection, plan_ids: list[int], since: date) -> dict[int, PlanDays]:
    result: dict[int, PlanDays] = defaultdict(PlanDays)
    rows = connection.execute(_activity_statement(), {"plan_ids": plan_ids, "since": since})
    for kind, plan_id, day, score, key in rows.all():
        of_plan = result[plan_id]
        if kind == PAIN_DAY:
            of_plan.maxima.append((day, score))
            of_plan.acts.pain_days.add(day)
        elif kind == LATEST_PAIN:
            if score is not None:
                of_plan.latest = LatestPain(score=score, local_day=day, corrected=key is not None)
        elif kind == REPORT_DAY:
            of_plan.acts.report_days.add(day)
        else:
            of_plan.acts.checkoffs.add((key, day))
    return result


@cache
def _alerts_statement() -> Select[Any]:
    return select(*(getattr(Alert, name) for name in AlertRow._fields)).where(
        Alert.plan_id.in_(bindparam("plan_ids", expanding=True)), Alert.status != "resolved"
    )


@lru_cache(maxsize=64)
def _adherence_activities(activities_json: str) -> tuple[PlanActivity, ...]:
    """The activities that count for adherence in a plan's stored activities (JSON text),
    parsed. Kept by their exact text, which is all the result depends on: plans enrolled
    from the same template version share it, and changed text is a new key, so nothing
    kept can be out of date. Overrides are applied per plan, after."""
    return tuple(
        PlanActivity.from_dict(data)
        for data in json.loads(activities_json)
        if stored_counts_for_adherence(data)
    )


def _plan_adherence(plan: PlanRow, today: date, acts: Activity) -> Adherence:
    items: Sequence[PlanActivity] = _adherence_activities(plan.activities_json)
    if plan.overrides:
        items = [with_override(a, plan.overrides, plan.procedure_date) for a in items]
    return adherence(plan, today, acts, items)


def triage_page(
    session: Session,
    clinic: Clinic,
    filters: TriageFilters,
    now: datetime,
    *,
    page_size: int = PAGE_SIZE,
) -> TriagePage:
    # Day ranges use the clinic's calendar day; a patient in another zone may be one day off.
    clinic_today = local_day(now, clinic.timezone)
    count, listing = _list_statements(
        has_alerts=filters.has_alerts,
        status=filters.status != "all",
        procedure=filters.procedure is not None,
        min_day=filters.min_day is not None,
        max_day=filters.max_day is not None,
        alerted_too=filters.status == "active",
        owner=filters.owner,
    )
    params: dict[str, Any] = {
        "clinic_id": clinic.id,
        "status": filters.status,
        "procedure": filters.procedure,
        "latest_procedure": clinic_today - timedelta(filters.min_day or 0),
        "earliest_procedure": clinic_today - timedelta(filters.max_day or 0),
        "viewer_id": filters.viewer_id,
    }
    connection = session.connection()

    def read_page(page: int) -> list[Row[Any]]:
        offset = (page - 1) * page_size
        return connection.execute(listing, {**params, "limit": page_size, "offset": offset}).all()

    # The page's rows carry the total; only a page past the end (a stale link, an edited URL)
    # needs the count on its own, to show the last page instead.
    page = filters.page
    rows = read_page(page)
    if rows:
        total = rows[0].total
    else:
        total = connection.execute(count, params).scalar_one()
        last = max(1, -(-total // page_size))
        if page > last:
            page = last
            rows = read_page(page)
    plans, patients, ranks = [], [], []
    for row in rows:
        plans.append(PlanRow._make(row[:10]))
        patients.append(PatientRow._make(row[10:14]))
        ranks.append(row.rank)

    todays = [local_day(now, plan.timezone) for plan in plans]
    activity: dict[int, PlanDays] = defaultdict(PlanDays)
    alerts: dict[int, list[AlertRow]] = defaultdict(list)
    if plans:
        plan_ids = [plan.id for plan in plans]
        since = min(todays) - timedelta(days=SPARKLINE_DAYS - 1)
        activity.update(_load_activity(connection, plan_ids, since))
        for alert in connection.execute(_alerts_statement(), {"plan_ids": plan_ids}).all():
            alerts[alert.plan_id].append(AlertRow._make(alert))
    # One more statement only when an alert on the page was ever paged.
    paged = [a.id for rows in alerts.values() for a in rows if a.escalation_level or a.page_round]
    paging = paging_states(session, paged) if paged else {}
    contacts = latest_contacts(session, [patient.id for patient in patients])
    team = colleagues(session, clinic.id)

    result = []
    for plan, patient, plan_rank, today in zip(plans, patients, ranks, todays, strict=True):
        of_plan = activity[plan.id]
        # Only the sparkline's days are summarised: the page shows nothing of the others.
        first_shown = today - timedelta(days=SPARKLINE_DAYS - 1)
        shown = []
        for day, highest in reversed(of_plan.maxima):  # newest day first; stop at the window
            if day < first_shown:
                break
            if day <= today:
                shown.append(DayMax(day, (day - plan.procedure_date).days, highest))
        shown.reverse()
        result.append(
            TriageRow(
                patient=patient,
                plan=plan,
                rank=plan_rank,
                day_number=(today - plan.procedure_date).days,
                latest_pain=of_plan.latest,
                summaries=shown,
                sparkline=sparkline_svg(shown, today, days=SPARKLINE_DAYS),
                adherence=_plan_adherence(plan, today, of_plan.acts),
                alerts=sorted(alerts[plan.id], key=alert_order),
                paging={a.id: paging[a.id] for a in alerts[plan.id] if a.id in paging},
                last_contact=contacts.get(patient.id),
            )
        )
    return TriagePage(rows=result, total=total, page=page, page_size=page_size, colleagues=team)


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
