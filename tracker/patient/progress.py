"""A patient's own record over their recovery: daily pain, check-ins, a chart of it and a
sentence about the trend.

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
from tracker.core.languages import translator
from tracker.core.models import CarePlan, CheckOff, PainEntry, SymptomReport
from tracker.plans.agenda import agenda_for_day
from tracker.plans.opioid_rules import OpioidAnswers, answers_for
from tracker.web.charts import Chart, Series, line_chart


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


# --- the chart and the sentence about it ----------------------------------------------------

# The trend sentence compares the first and the last score of this many days, ending today.
TREND_DAYS = 7


def _highest(records: list[DayRecord]) -> dict[int, int]:
    return {r.day_number: r.pain_max for r in records if r.pain_max is not None}


def trend_sentence(records: list[DayRecord], today_number: int, language: str = "en") -> str:
    """What the patient's scores did over the last week, in plain words (grade 6 or below).

    It reads the day's highest score, as the chart does: the first and the last day with a
    score in the ``TREND_DAYS`` days ending today. Words for what the numbers did, never a
    judgement of them: that is for the care team. In the patient's ``language``.
    """
    t = translator(language)
    scores = _highest(records)
    if not scores:
        return t.gettext("You have not logged a pain score yet.")
    week = {n: v for n, v in scores.items() if today_number - TREND_DAYS < n <= today_number}
    if not week:
        return t.gettext("You have not logged a pain score in the last week.")
    if len(week) == 1:
        ((day, score),) = week.items()
        return t.gettext(
            "You logged one pain score in the last week: %(score)s on day %(day)s. "
            "Log your pain each day to see how it changes."
        ) % {"score": score, "day": day}
    first, last = min(week), max(week)
    before, now = week[first], week[last]
    values = {"before": before, "now": now, "first": first, "last": last}
    if first == today_number - TREND_DAYS + 1 and last == today_number:
        if now < before:
            return t.gettext(
                "Your pain has gone down from %(before)s to %(now)s over the last week."
            ) % values
        if now > before:
            return t.gettext(
                "Your pain has gone up from %(before)s to %(now)s over the last week."
            ) % values
        return t.gettext(
            "Your pain was %(before)s at the start of the week and is %(now)s today."
        ) % values
    if now < before:
        return t.gettext(
            "Your pain went down from %(before)s on day %(first)s to %(now)s on day %(last)s."
        ) % values
    if now > before:
        return t.gettext(
            "Your pain went up from %(before)s on day %(first)s to %(now)s on day %(last)s."
        ) % values
    return t.gettext(
        "Your pain was %(now)s on day %(first)s and %(now)s again on day %(last)s."
    ) % values


def pain_chart(
    records: list[DayRecord], duration_days: int, today_number: int, language: str = "en"
) -> Chart:
    """The patient's highest pain score each day (one line; a day without a score is a gap),
    from day 0 (the procedure) to today, and at least over the plan's first week. No
    threshold and no plan limits here: the patient sees their scores, not a judgement of
    them, and the page lists their limits in words."""
    t = translator(language)
    scores = _highest(records)
    last_day = max([min(duration_days, TREND_DAYS) - 1, *(r.day_number for r in records)])
    return line_chart(
        [Series(t.gettext("Your highest pain score each day"), scores)],
        ident="your-pain",
        title=t.gettext("Your highest pain score each day, from 0 (no pain) to 10 (worst pain)"),
        description=trend_sentence(records, today_number, language),
        x_label=t.gettext("Days since your procedure"),
        y_label=t.gettext("Pain score (0-10)"),
        first_day=0,
        last_day=last_day,
        today=today_number,
        today_label=t.gettext("Today"),
        today_legend=t.gettext("{label} (day {day})"),
    )
