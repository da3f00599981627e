"""What is due for a care plan on one local day: the one place that decides it.

Nothing here is stored. Occurrences are computed from the plan's own copy of its
activities plus per-patient overrides; only what the patient did is in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from tracker.core.models import CarePlan
from tracker.core.timeutil import local_day
from tracker.plans.opioid_rules import (
    DrivingDecision,
    DrivingRule,
    OpioidAnswers,
    driving_restricted,
)
from tracker.plans.templates import Activity, current_template, localize

# The kinds of activity whose occurrences can be adherence items.
ADHERENCE_KINDS = ("task", "check_in")


@dataclass(frozen=True)
class Restriction:
    activity: Activity
    last_day: date
    # Days the restriction still applies after today (0 on its last day).
    days_left: int
    # A restriction that follows a check-in's answers (opioid_rules.py): that day's decision.
    decision: DrivingDecision | None = None


@dataclass(frozen=True)
class Appointment:
    activity: Activity
    window_start: date
    window_end: date
    # The actual date, once the clinic has set one (a plan override).
    scheduled_for: date | None

    @property
    def earliest(self) -> date:
        return self.scheduled_for or self.window_start

    @property
    def latest(self) -> date:
        return self.scheduled_for or self.window_end


@dataclass(frozen=True)
class DayAgenda:
    local_day: date
    day_number: int  # 0 = procedure day
    duration_days: int
    tasks: tuple[Activity, ...]
    check_ins: tuple[Activity, ...]
    restrictions: tuple[Restriction, ...]
    education: tuple[Activity, ...]
    appointments_today: tuple[Appointment, ...]
    next_appointment: Appointment | None
    # The language of the activities' titles, instructions and conditions (``language=``).
    language: str = "en"

    @property
    def within_plan(self) -> bool:
        return 0 <= self.day_number < self.duration_days

    @property
    def adherence_items(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.tasks + self.check_ins if counts_for_adherence(a))


def counts_for_adherence(activity: Activity) -> bool:
    """Whether an occurrence of ``activity`` is an adherence item: a task or check-in marked
    so. Due on a day exactly when it is in that day's ``DayAgenda.adherence_items``."""
    return activity.adherence and activity.kind in ADHERENCE_KINDS


def day_number(plan: CarePlan, day: date) -> int:
    return (day - plan.procedure_date).days


def plan_activities(
    plan: CarePlan, *, adherence_only: bool = False, language: str = "en"
) -> list[Activity]:
    """The plan's activities with its overrides applied; with ``adherence_only``, only those
    that ``counts_for_adherence`` (the others are not even parsed). With ``language``, their
    texts are in that language (``templates.activity_text``'s rule: the plan's own
    translation, else the template file's of the same English, else English)."""
    overrides = plan.overrides or {}
    activities = [
        with_override(Activity.from_dict(data), overrides, plan.procedure_date)
        for data in plan.activities
        if not adherence_only or stored_counts_for_adherence(data)
    ]
    if language == "en":
        return activities
    # Only a plan enrolled before translations needs the template file.
    template = (
        current_template(plan.template_id)
        if any(language not in a.translations for a in activities)
        else None
    )
    return [localize(a, language, template) for a in activities]


def stored_counts_for_adherence(data: dict[str, Any]) -> bool:
    """``counts_for_adherence`` of a stored activity (a dict), before parsing it. Overrides
    change days, never kind or adherence, so the stored values decide."""
    return bool(data.get("adherence")) and data.get("kind") in ADHERENCE_KINDS


def with_override(activity: Activity, overrides: dict[str, Any], procedure_date: date) -> Activity:
    """``activity`` with the plan's override for it, if any.

    Supported overrides per activity key: ``end_day`` (extend a restriction or task, or
    release it early) and ``date`` (an appointment's actual date, ISO format).
    """
    change = overrides.get(activity.key) or {}
    if "end_day" in change:
        activity = replace(
            activity,
            end_day=int(change["end_day"]),
            cadence=_stretch(activity, int(change["end_day"])),
        )
    if "date" in change and activity.kind == "appointment":
        n = (date.fromisoformat(change["date"]) - procedure_date).days
        activity = replace(activity, start_day=n, end_day=n)
    return activity


def _stretch(activity: Activity, end_day: int) -> tuple:
    """Keep a cadence valid when its activity's end day moves: the last step follows it."""
    if not activity.cadence:
        return ()
    steps = [s for s in activity.cadence[:-1] if s.until_day < end_day]
    last = activity.cadence[len(steps)]
    return (*steps, replace(last, until_day=end_day))


def agenda_for_day(
    plan: CarePlan,
    day: date,
    activities: Sequence[Activity] | None = None,
    *,
    opioids: OpioidAnswers | None = None,
    language: str = "en",
) -> DayAgenda:
    """What is due on ``day``. Pass ``plan_activities(plan)`` as ``activities`` when asking
    about many days of one plan, so the plan's activities are read once, not once a day.
    With ``opioids`` (the patient's answers), a restriction that follows the opioid check-in
    is on or off as ``opioid_rules.driving_restricted`` decides; without, it keeps its days.
    With ``language``, the activities' texts are in that language (``plan_activities``;
    ``activities`` passed in are put in it too)."""
    n = day_number(plan, day)
    tasks, check_ins, restrictions, education, today_appts = [], [], [], [], []
    upcoming: list[Appointment] = []
    overrides = plan.overrides or {}
    if activities is None:
        activities = plan_activities(plan, language=language)
    elif any(a.language != language for a in activities):
        template = current_template(plan.template_id) if language != "en" else None
        activities = [
            a if a.language == language else localize(a, language, template) for a in activities
        ]
    for activity in activities:
        if activity.condition_check_in and opioids is not None:
            decision = driving_decision(plan, activity, activities, opioids, day)
            if decision.restricted:
                restrictions.append(
                    Restriction(
                        activity=activity,
                        last_day=plan.procedure_date + timedelta(days=activity.end_day),
                        days_left=max(activity.end_day - n, 0),
                        decision=decision,
                    )
                )
            continue
        if activity.kind == "appointment":
            appointment = Appointment(
                activity=activity,
                window_start=plan.procedure_date + timedelta(days=activity.start_day),
                window_end=plan.procedure_date + timedelta(days=activity.end_day),
                scheduled_for=(
                    date.fromisoformat(overrides[activity.key]["date"])
                    if "date" in overrides.get(activity.key, {})
                    else None
                ),
            )
            if appointment.scheduled_for == day:
                today_appts.append(appointment)
            if appointment.latest >= day:
                upcoming.append(appointment)
            continue
        if not activity.occurs_on(n):
            continue
        if activity.kind == "task":
            tasks.append(activity)
        elif activity.kind == "check_in":
            check_ins.append(activity)
        elif activity.kind == "restriction":
            restrictions.append(
                Restriction(
                    activity=activity,
                    last_day=plan.procedure_date + timedelta(days=activity.end_day),
                    days_left=activity.end_day - n,
                )
            )
        else:
            education.append(activity)
    upcoming.sort(key=lambda a: (a.earliest, a.activity.key))
    return DayAgenda(
        local_day=day,
        day_number=n,
        duration_days=plan.duration_days,
        tasks=tuple(tasks),
        check_ins=tuple(check_ins),
        restrictions=tuple(restrictions),
        education=tuple(education),
        appointments_today=tuple(today_appts),
        next_appointment=upcoming[0] if upcoming else None,
        language=language,
    )


def driving_decision(
    plan: CarePlan,
    restriction: Activity,
    activities: Sequence[Activity],
    opioids: OpioidAnswers,
    day: date,
) -> DrivingDecision:
    """``driving_restricted`` for ``restriction`` (one with a ``condition_check_in``) on
    ``day``: its days, and the check-in's last day, as dates of this plan."""
    check_in = next((a for a in activities if a.key == restriction.condition_check_in), None)
    answer_end = check_in.end_day if check_in is not None else restriction.end_day
    rule = DrivingRule(
        first_day=plan.procedure_date + timedelta(days=restriction.start_day),
        last_day=plan.procedure_date + timedelta(days=restriction.end_day),
        answer_last_day=plan.procedure_date + timedelta(days=answer_end),
        opioid_free_days=opioids.opioid_free_days,
    )
    return driving_restricted(opioids.by_day, day, rule)


def plan_today(
    plan: CarePlan,
    now: datetime,
    *,
    opioids: OpioidAnswers | None = None,
    language: str = "en",
) -> DayAgenda:
    """The agenda for the patient's current local day at instant ``now`` (texts in
    ``language``)."""
    return agenda_for_day(plan, local_day(now, plan.timezone), opioids=opioids, language=language)


def plan_last_day(plan: CarePlan) -> date:
    return plan.procedure_date + timedelta(days=plan.duration_days - 1)
