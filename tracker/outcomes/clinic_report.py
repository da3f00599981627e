"""The clinic report: how a clinic's patients fare as a group, for a date range.

The cohort is the clinic's plans whose procedure date falls in the range. For them: how many
were enrolled and how many completed their plan (its last day is before today), mean pain by
day since the procedure with its spread, questionnaire scores at each time point, check-in
adherence. For the clinic in the range: alerts raised by kind, the median time from an alert
to its acknowledgement and to its resolution, reminders delivered and failed, and text opt-outs.

A report costs a fixed number of SQL statements whatever the number of patients (one per
kind of figure, ``STATEMENTS``): every query filters by the clinic and range in SQL and the
rest is arithmetic here.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import fmean, median, stdev
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from tracker.core.models import (
    Alert,
    CarePlan,
    Clinic,
    PainEntry,
    Patient,
    QuestionnaireResponse,
    Reminder,
)

# cohort, pain by plan and day, questionnaire responses, alerts, reminders, opt-outs
STATEMENTS = 6


@dataclass(frozen=True)
class Spread:
    """Mean, standard deviation (sample; None for fewer than two values) and count."""

    n: int
    mean: float | None
    sd: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(0, None, None)
        return cls(
            len(values),
            round(fmean(values), 2),
            round(stdev(values), 2) if len(values) > 1 else None,
        )


@dataclass
class ClinicReport:
    clinic_id: int
    start: date
    end: date
    today: date
    enrolled: int = 0
    completed: int = 0
    active: int = 0
    # Day since the procedure -> the spread of the patients' daily mean pain that day.
    pain_by_day: dict[int, Spread] = field(default_factory=dict)
    # (questionnaire id, time point day) -> spread of the scores.
    scores: dict[tuple[str, int], Spread] = field(default_factory=dict)
    # Days with a pain score / plan days so far (day 0 to the earlier of the plan's last day
    # and yesterday), over the cohort; None when no day has passed yet.
    adherence_days_done: int = 0
    adherence_days_due: int = 0
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    median_to_acknowledge: timedelta | None = None
    median_to_resolve: timedelta | None = None
    acknowledged_count: int = 0
    resolved_count: int = 0
    reminders_delivered: int = 0
    reminders_failed: int = 0
    reminders_pending: int = 0
    # None: this installation records no text opt-outs.
    opt_outs: int | None = None

    @property
    def adherence_percent(self) -> float | None:
        if not self.adherence_days_due:
            return None
        return round(100 * self.adherence_days_done / self.adherence_days_due, 1)


def _utc_bounds(start: date, end: date, tz_name: str) -> tuple[datetime, datetime]:
    """The instants of the clinic's local midnight starting ``start`` and ending ``end``."""
    zone = ZoneInfo(tz_name)
    first = datetime.combine(start, time(0), tzinfo=zone)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    return first.astimezone(ZoneInfo("UTC")), after.astimezone(ZoneInfo("UTC"))


def build_report(
    session: Session, clinic: Clinic, start: date, end: date, now: datetime
) -> ClinicReport:
    today = now.astimezone(ZoneInfo(clinic.timezone)).date()
    report = ClinicReport(clinic.id, start, end, today)
    in_cohort = and_(
        CarePlan.clinic_id == clinic.id,
        CarePlan.procedure_date >= start,
        CarePlan.procedure_date <= end,
    )

    # 1. The cohort.
    plans = session.execute(
        select(CarePlan.id, CarePlan.procedure_date, CarePlan.duration_days, CarePlan.status).where(
            in_cohort
        )
    ).all()
    procedure_of = {p.id: p.procedure_date for p in plans}
    report.enrolled = len(plans)
    for plan in plans:
        last_day = plan.procedure_date + timedelta(days=plan.duration_days - 1)
        if last_day < today:
            report.completed += 1
        elif plan.status == "active":
            report.active += 1

    # 2. Each plan's daily mean pain (corrected scores replaced by their corrections).
    newer = aliased(PainEntry)
    daily = session.execute(
        select(PainEntry.plan_id, PainEntry.local_day, func.avg(PainEntry.score))
        .join(CarePlan, CarePlan.id == PainEntry.plan_id)
        .where(
            in_cohort,
            PainEntry.local_day >= CarePlan.procedure_date,
            PainEntry.local_day < today,
            ~exists().where(newer.supersedes_id == PainEntry.id),
        )
        .group_by(PainEntry.plan_id, PainEntry.local_day)
    ).all()
    by_day: dict[int, list[float]] = defaultdict(list)
    logged_days: Counter[int] = Counter()
    for plan_id, day, mean in daily:
        number = (day - procedure_of[plan_id]).days
        by_day[number].append(float(mean))
    durations = {p.id: p.duration_days for p in plans}
    for plan_id, day, _ in daily:
        if (day - procedure_of[plan_id]).days < durations[plan_id]:
            logged_days[plan_id] += 1
    report.pain_by_day = {n: Spread.of(v) for n, v in sorted(by_day.items())}
    for plan in plans:
        due = min(plan.duration_days, max(0, (today - plan.procedure_date).days))
        report.adherence_days_due += due
        report.adherence_days_done += logged_days[plan.id]

    # 3. Questionnaire scores at each time point.
    scores: dict[tuple[str, int], list[float]] = defaultdict(list)
    for qid, point, score in session.execute(
        select(
            QuestionnaireResponse.questionnaire_id,
            QuestionnaireResponse.time_point_day,
            QuestionnaireResponse.score,
        )
        .join(CarePlan, CarePlan.id == QuestionnaireResponse.plan_id)
        .where(in_cohort, QuestionnaireResponse.score.is_not(None))
    ):
        scores[(qid, point)].append(float(score))
    report.scores = {key: Spread.of(v) for key, v in sorted(scores.items())}

    # 4. Alerts raised in the range (the clinic's local days).
    first, after = _utc_bounds(start, end, clinic.timezone)
    to_ack: list[timedelta] = []
    to_resolve: list[timedelta] = []
    kinds: Counter[str] = Counter()
    for rule, raised, acknowledged, resolved in session.execute(
        select(Alert.rule, Alert.raised_at, Alert.acknowledged_at, Alert.resolved_at).where(
            Alert.clinic_id == clinic.id, Alert.raised_at >= first, Alert.raised_at < after
        )
    ):
        kinds[rule] += 1
        if acknowledged is not None:
            to_ack.append(acknowledged - raised)
        if resolved is not None:
            to_resolve.append(resolved - raised)
    report.alerts_by_kind = dict(sorted(kinds.items()))
    report.acknowledged_count, report.resolved_count = len(to_ack), len(to_resolve)
    report.median_to_acknowledge = median(to_ack) if to_ack else None
    report.median_to_resolve = median(to_resolve) if to_resolve else None

    # 5. Reminders of local days in the range, by outcome.
    for status, count in session.execute(
        select(Reminder.status, func.count())
        .join(CarePlan, CarePlan.id == Reminder.plan_id)
        .where(
            CarePlan.clinic_id == clinic.id,
            Reminder.local_day >= start,
            Reminder.local_day <= end,
        )
        .group_by(Reminder.status)
    ):
        if status == "sent":
            report.reminders_delivered = count
        elif status == "dead":
            report.reminders_failed = count
        else:
            report.reminders_pending += count

    # 6. Text opt-outs in the range, where this installation records them (two-way texts).
    report.opt_outs = _opt_outs(session, clinic.id, first, after)
    return report


def _opt_outs(session: Session, clinic_id: int, first: datetime, after: datetime) -> int | None:
    from tracker.core import models

    opt_out = getattr(models, "TextOptOut", None)
    number = getattr(Patient, "sms_number", None)
    if opt_out is None or number is None:
        return None
    return session.scalar(
        select(func.count(func.distinct(Patient.id)))
        .join(opt_out, opt_out.number == number)
        .where(
            Patient.clinic_id == clinic_id,
            opt_out.opted_out_at.is_not(None),
            opt_out.opted_out_at >= first,
            opt_out.opted_out_at < after,
        )
    )


# --- CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "item", "day", "n", "value", "sd")


def _duration_hours(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 3600:.2f}"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def report_csv(report: ClinicReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    row = writer.writerow
    row(("range", "start", "", "", report.start.isoformat(), ""))
    row(("range", "end", "", "", report.end.isoformat(), ""))
    row(("patients", "enrolled", "", "", report.enrolled, ""))
    row(("patients", "completed", "", "", report.completed, ""))
    row(("patients", "active", "", "", report.active, ""))
    for day, spread in report.pain_by_day.items():
        row(("mean_pain_by_day", "pain_0_10", day, spread.n, _num(spread.mean), _num(spread.sd)))
    for (qid, point), spread in report.scores.items():
        row(("questionnaire_score", qid, point, spread.n, _num(spread.mean), _num(spread.sd)))
    row(
        (
            "adherence",
            "days_with_pain_score_percent",
            "",
            report.adherence_days_due,
            _num(report.adherence_percent),
            "",
        )
    )
    for kind, count in report.alerts_by_kind.items():
        row(("alerts_by_kind", kind, "", "", count, ""))
    row(
        (
            "alerts",
            "median_hours_to_acknowledge",
            "",
            report.acknowledged_count,
            _duration_hours(report.median_to_acknowledge),
            "",
        )
    )
    row(
        (
            "alerts",
            "median_hours_to_resolve",
            "",
            report.resolved_count,
            _duration_hours(report.median_to_resolve),
            "",
        )
    )
    row(("reminders", "delivered", "", "", report.reminders_delivered, ""))
    row(("reminders", "failed", "", "", report.reminders_failed, ""))
    row(("reminders", "pending", "", "", report.reminders_pending, ""))
    if report.opt_outs is not None:
        row(("texts", "opt_outs", "", "", report.opt_outs, ""))
    return out.getvalue()
