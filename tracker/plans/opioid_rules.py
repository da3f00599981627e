"""No driving on opioid pain medicine: the daily check-in's answers decide (SPEC sections 1, 2).

A plan template declares it as data: a restriction with a ``condition`` and a
``condition_check_in`` naming a check-in of type ``opioids`` ("Are you taking opioid pain
medicine today?"). ``driving_restricted`` is the one decision, pure (answers and the day in,
nothing read): Today, the progress page, reminders and the care team's page all use it
through ``agenda.agenda_for_day``.

- No answer yet: the restriction keeps the template's days (shown with its condition).
- A "yes": it stays on, also after those days, up to the check-in's last day.
- It ends on the day the patient has said "no" on the clinic's number of days in a row
  (``Clinic.opioid_free_days_before_driving``); a day without an answer breaks the row.
- A "yes" after "no" days starts it again.

The answers are stored in ``opioid_check`` (models.OpioidCheck): one current answer a day,
changed the same day by a new row that supersedes it (both kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.models import OpioidCheck

ONE_DAY = timedelta(days=1)
DEFAULT_OPIOID_FREE_DAYS = 1
MAX_OPIOID_FREE_DAYS = 14

# Why the restriction is on or off on a day (DrivingDecision.reason).
NO_ANSWER = "no_answer"  # nothing answered yet: the template's days
TAKING = "taking"  # a "yes" with not enough "no" days in a row after it
NOT_YET = "not_yet"  # only "no" answers, not yet enough days in a row
STOPPED = "stopped"  # enough "no" days in a row: ended
OUTSIDE = "outside"  # before the restriction starts, or after its last possible day


@dataclass(frozen=True)
class DrivingRule:
    """The restriction's days, as dates, and the clinic's number of "no" days."""

    first_day: date  # the restriction's first day
    last_day: date  # its planned last day: without a "yes" it ends here at the latest
    answer_last_day: date  # the check-in's last day: a "yes" keeps it on until here
    opioid_free_days: int = DEFAULT_OPIOID_FREE_DAYS


@dataclass(frozen=True)
class DrivingDecision:
    restricted: bool
    reason: str
    # The latest answer on or before the day asked about, and the first day of its run of
    # the same answer on consecutive days ("since").
    latest_day: date | None = None
    latest_taking: bool | None = None
    since: date | None = None
    # "No" days in a row so far (after the last "yes"), and how many end the restriction.
    no_days_in_row: int = 0
    needed: int = DEFAULT_OPIOID_FREE_DAYS
    ended_on: date | None = None  # STOPPED: the day the last needed "no" was given


def driving_restricted(
    answers: Mapping[date, bool], day: date, rule: DrivingRule
) -> DrivingDecision:
    """Whether the no-driving-on-opioids restriction applies on local day ``day``, given the
    patient's current answer of each day (True: taking opioid pain medicine). Pure."""
    needed = max(1, rule.opioid_free_days)
    if day < rule.first_day:
        return DrivingDecision(False, OUTSIDE, needed=needed)
    past = sorted((d, t) for d, t in answers.items() if rule.first_day <= d <= day)
    if not past:
        reason = NO_ANSWER if day <= rule.last_day else OUTSIDE
        return DrivingDecision(day <= rule.last_day, reason, needed=needed)

    latest_day, latest_taking = past[-1]
    since = latest_day
    by_day = dict(past)
    while by_day.get(since - ONE_DAY) is latest_taking:
        since -= ONE_DAY

    last_yes = max((d for d, taking in past if taking), default=None)
    run, previous, ended_on = 0, None, None
    for d, taking in past:
        if taking or (last_yes is not None and d < last_yes):
            continue
        run = run + 1 if previous is not None and d - previous == ONE_DAY else 1
        previous = d
        if run >= needed and ended_on is None:
            ended_on = d
    facts = {
        "latest_day": latest_day,
        "latest_taking": latest_taking,
        "since": since,
        "no_days_in_row": 0 if latest_taking else run,
        "needed": needed,
    }
    if ended_on is not None:
        return DrivingDecision(False, STOPPED, ended_on=ended_on, **facts)
    if last_yes is not None:
        on = day <= max(rule.last_day, rule.answer_last_day)
        return DrivingDecision(on, TAKING if on else OUTSIDE, **facts)
    on = day <= rule.last_day
    return DrivingDecision(on, NOT_YET if on else OUTSIDE, **facts)


@dataclass(frozen=True)
class OpioidAnswers:
    """What ``agenda.agenda_for_day`` needs to decide: the plan's current answer of each
    day and the clinic's number of "no" days."""

    by_day: Mapping[date, bool]
    opioid_free_days: int = DEFAULT_OPIOID_FREE_DAYS


# --- stored answers ----------------------------------------------------------------------------


def current_rows(session: Session, plan_ids: Iterable[int]) -> dict[int, dict[date, OpioidCheck]]:
    """The current answer row of each answered day, by plan id, in one query."""
    ids = set(plan_ids)
    result: dict[int, dict[date, OpioidCheck]] = {plan_id: {} for plan_id in ids}
    if not ids:
        return result
    rows = session.scalars(select(OpioidCheck).where(OpioidCheck.plan_id.in_(ids))).all()
    superseded = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    for row in rows:
        if row.id not in superseded:
            result[row.plan_id][row.local_day] = row
    return result


def answers_for(session: Session, plan_id: int, opioid_free_days: int) -> OpioidAnswers:
    return answers_of_plans(session, [(plan_id, opioid_free_days)])[plan_id]


def answers_of_plans(
    session: Session, plans: Iterable[tuple[int, int]]
) -> dict[int, OpioidAnswers]:
    """``answers_for`` of many (plan id, clinic's number of "no" days) pairs, one query."""
    pairs = dict(plans)
    rows = current_rows(session, pairs)
    return {
        plan_id: OpioidAnswers({d: r.taking for d, r in rows[plan_id].items()}, days)
        for plan_id, days in pairs.items()
    }


def record_answer(
    session: Session,
    *,
    plan_id: int,
    local_day: date,
    taking: bool,
    now: datetime,
    caregiver_id: int | None = None,
) -> tuple[OpioidCheck, bool]:
    """Store the day's answer (the caller commits; ``caregiver_id``: the caregiver who
    answered for the patient, None: the patient); returns the current row and whether it
    changed anything. The same answer again is nothing new; another answer the same day
    supersedes the current one. Two taps at once: the unique indexes let one of them win,
    and the other is tried again on top of it."""
    for _attempt in range(5):
        current = current_rows(session, [plan_id])[plan_id].get(local_day)
        if current is not None and current.taking == taking:
            return current, False
        row = OpioidCheck(
            plan_id=plan_id,
            local_day=local_day,
            taking=taking,
            recorded_at=now,
            supersedes_id=current.id if current is not None else None,
            entered_by_caregiver_id=caregiver_id,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            session.expire_all()
            continue
        return row, True
    raise RuntimeError("the opioid answer could not be stored")
