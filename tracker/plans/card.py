"""The printable plan and warning-sign card: one sheet of paper a patient keeps by the phone.

What is on it, all from data the product already has:

- the plan by day: phases (day ranges) with what to do and what not to do, computed from
  the patient's *own* plan with its overrides (``agenda.plan_activities``), never from the
  template, so a longer lifting limit set by the care team is what gets printed;
- every restriction with its end date, the visits and the good-to-know notes;
- the red flags (the warning-signs check, ``schedules/checks/warning_signs.yaml``): what
  means call 911 and what means call the care team today, with the clinic's daytime and
  after-hours numbers and its office hours;
- on the care team's card only, the personal link as a QR code (``link_qr_svg``). The raw
  link is never stored (only its hash), so the care team's card is printed together with
  a freshly issued link; see ``coordinator_views.patient_card_issue``.

Pure functions over loaded rows: the views load and audit. The card's own words (not the
plan's content) are in the reader's ``language`` (``translator``, tracker/core/languages.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

import segno
from babel.dates import get_day_names
from markupsafe import Markup

from tracker.core.languages import translator
from tracker.core.models import DEFAULT_OFFICE_HOURS, WEEKDAYS, CarePlan, Clinic
from tracker.plans.agenda import plan_activities
from tracker.plans.templates import Activity, plan_title
from tracker.plans.warning_signs import WarningSign
from tracker.web.time_format import DASH, short_day, wall_clock

SHORT_DAY_NAMES = dict(
    zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
)


def short_day_names(language: str = "en") -> dict[str, str]:
    """The weekdays shortened: "Mon".."Sun"; Spanish "lun".."dom" (Babel's names)."""
    if language == "en":
        return SHORT_DAY_NAMES
    names = get_day_names("abbreviated", locale=language)
    return {day: names[n] for n, day in enumerate(WEEKDAYS)}


def card_date(day: date, language: str = "en") -> str:
    """A date on the card, with its weekday: "Sat 21 Nov" (``time_format.short_day``)."""
    return short_day(day, weekday=True, language=language)


def card_time(clock: str, language: str = "en") -> str:
    """ "08:00" -> "8:00 am", "17:30" -> "5:30 pm" (``time_format.wall_clock``)."""
    hour, minute = (int(part) for part in clock.split(":"))
    return wall_clock(time(hour, minute), language=language)


@dataclass(frozen=True)
class CardItem:
    title: str
    # How often or until when, in words ("once a day", "when needed", "until Thu 31 Dec").
    detail: str = ""


@dataclass(frozen=True)
class CardPhase:
    """Days ``first_day``..``last_day`` (0 = procedure day) and what applies on all of them."""

    first_day: int
    last_day: int
    first_date: date
    last_date: date
    do: tuple[CardItem, ...]
    do_not: tuple[CardItem, ...]
    language: str = "en"

    @property
    def days_label(self) -> str:
        t = translator(self.language)
        if self.first_day == self.last_day:
            return t.gettext("Day %(number)s") % {"number": self.first_day}
        return t.gettext("Days %(first)s\u2013%(last)s") % {
            "first": self.first_day,
            "last": self.last_day,
        }

    @property
    def dates_label(self) -> str:
        first = card_date(self.first_date, self.language)
        if self.first_date == self.last_date:
            return first
        return f"{first} {DASH} {card_date(self.last_date, self.language)}"


@dataclass(frozen=True)
class CardLimit:
    title: str
    instructions: str
    # "Until Thu 31 Dec (day 41)", or the condition ("while you take opioid pain medicine").
    until: str
    ended: bool


@dataclass(frozen=True)
class CardVisit:
    title: str
    when: str


@dataclass(frozen=True)
class CardNote:
    title: str
    instructions: str
    when: str


@dataclass(frozen=True)
class CardNumbers:
    daytime: str
    office_hours: (
        str  # "Mon to Fri 8:00 am to 5:00 pm" (with dashes), or "" when the clinic has none
    )
    after_hours: str | None


@dataclass(frozen=True)
class PlanCard:
    patient_name: str
    procedure: str
    procedure_date: date
    plan_title: str
    template_id: str
    template_version: int
    clinic_name: str
    numbers: CardNumbers
    phases: tuple[CardPhase, ...]
    limits: tuple[CardLimit, ...]
    visits: tuple[CardVisit, ...]
    notes: tuple[CardNote, ...]
    # The red flags: each sign's short label ("chest pain") when every sign has one (the
    # words reminders use too), else its question ("Do you have chest pain?").
    call_911: tuple[str, ...]
    call_team: tuple[str, ...]
    flags_as_labels: bool
    printed_on: date
    plan_status: str


# --- the plan by day -----------------------------------------------------------------------


def _step_at(activity: Activity, day: int) -> tuple[int, int]:
    """(first day of the cadence step covering ``day``, its every_days); (start, 1) if none."""
    segment_start = activity.start_day
    for step in activity.cadence:
        if day <= step.until_day:
            return segment_start, step.every_days
        segment_start = step.until_day + 1
    return segment_start, 1


def _how_often(
    activity: Activity, first: int, last: int, procedure_date: date, language: str = "en"
) -> str:
    t = translator(language)
    if activity.as_needed:
        return t.gettext("when needed")
    _, every = _step_at(activity, first)
    if every == 1:
        if activity.times_per_day > 1:
            return t.gettext("%(count)s times a day") % {"count": activity.times_per_day}
        return t.gettext("once a day") if activity.kind == "task" else t.gettext("every day")
    days = [n for n in range(first, last + 1) if activity.occurs_on(n)]
    dates = ", ".join(
        short_day(procedure_date + timedelta(days=n), language=language) for n in days
    )
    if every == 7:
        label = t.gettext("once a week")
    else:
        label = t.gettext("every %(count)s days") % {"count": every}
    return f"{label}: {dates}" if dates else label


def _boundaries(activities: Sequence[Activity], duration: int) -> list[int]:
    cuts = {0, duration}
    for a in activities:
        cuts.update((a.start_day, a.end_day + 1))
        cuts.update(step.until_day + 1 for step in a.cadence)
    return sorted(c for c in cuts if 0 <= c <= duration)


def plan_phases(
    plan: CarePlan, activities: Sequence[Activity], language: str = "en"
) -> tuple[CardPhase, ...]:
    """The plan cut into day ranges in which the same things apply: tasks and check-ins
    ("do") and restrictions ("do not"). Education and visits are listed apart."""
    daily = [a for a in activities if a.kind in ("task", "check_in", "restriction")]
    cuts = _boundaries(daily, plan.duration_days)
    phases = []
    for first, after in itertools.pairwise(cuts):
        last = after - 1
        do, do_not = [], []
        for a in daily:
            if not (a.start_day <= first and last <= a.end_day):
                continue
            if a.kind == "restriction":
                do_not.append(CardItem(a.title))  # its condition is in the limits table
            elif any(a.occurs_on(n) for n in range(first, after)):
                how_often = _how_often(a, first, last, plan.procedure_date, language)
                do.append(CardItem(a.title, how_often))
        if not do and not do_not:
            continue
        phases.append(
            CardPhase(
                first_day=first,
                last_day=last,
                first_date=plan.procedure_date + timedelta(days=first),
                last_date=plan.procedure_date + timedelta(days=last),
                do=tuple(do),
                do_not=tuple(do_not),
                language=language,
            )
        )
    return _merge_equal(phases)


def _merge_equal(phases: list[CardPhase]) -> tuple[CardPhase, ...]:
    """Neighbouring phases that say the same thing are one phase."""
    merged: list[CardPhase] = []
    for phase in phases:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.last_day + 1 == phase.first_day
            and (previous.do, previous.do_not) == (phase.do, phase.do_not)
        ):
            merged[-1] = CardPhase(
                previous.first_day,
                phase.last_day,
                previous.first_date,
                phase.last_date,
                previous.do,
                previous.do_not,
                previous.language,
            )
        else:
            merged.append(phase)
    return tuple(merged)


# --- limits, visits, notes -------------------------------------------------------------------


def _limits(
    plan: CarePlan, activities: Sequence[Activity], today: date, language: str = "en"
) -> tuple[CardLimit, ...]:
    t = translator(language)
    limits = []
    for a in activities:
        if a.kind != "restriction":
            continue
        last = plan.procedure_date + timedelta(days=a.end_day)
        if a.condition:
            until = f"{a.condition[0].upper()}{a.condition[1:]}"
        else:
            until = t.gettext("Until %(day)s (day %(number)s)") % {
                "day": card_date(last, language),
                "number": a.end_day,
            }
        limits.append(CardLimit(a.title, a.instructions, until, ended=last < today))
    return tuple(limits)


def _visits(
    plan: CarePlan, activities: Sequence[Activity], language: str = "en"
) -> tuple[CardVisit, ...]:
    t = translator(language)
    overrides = plan.overrides or {}
    visits = []
    for a in sorted((a for a in activities if a.kind == "appointment"), key=lambda a: a.start_day):
        if "date" in overrides.get(a.key, {}):
            when = card_date(date.fromisoformat(overrides[a.key]["date"]), language)
        else:
            start = plan.procedure_date + timedelta(days=a.start_day)
            end = plan.procedure_date + timedelta(days=a.end_day)
            when = t.gettext(
                "Between %(first)s and %(last)s (your clinic will tell you the day)"
            ) % {"first": card_date(start, language), "last": card_date(end, language)}
        visits.append(CardVisit(a.title, when))
    return tuple(visits)


def _notes(
    plan: CarePlan, activities: Sequence[Activity], language: str = "en"
) -> tuple[CardNote, ...]:
    t = translator(language)
    return tuple(
        CardNote(
            a.title,
            a.instructions,
            t.gettext("From %(day)s")
            % {"day": card_date(plan.procedure_date + timedelta(days=a.start_day), language)},
        )
        for a in activities
        if a.kind == "education"
    )


# --- the clinic's numbers ------------------------------------------------------------------


def office_hours_text(clinic: Clinic, language: str = "en") -> str:
    """The clinic's office hours in a few words, e.g. Mon to Fri 8:00 am to 5:00 pm and Sat
    9:00 am to 12:00 pm, written with en dashes."""
    hours = clinic.office_hours if clinic.office_hours is not None else DEFAULT_OFFICE_HOURS
    runs: list[tuple[list[str], tuple[str, str]]] = []
    for day in WEEKDAYS:
        value = hours.get(day)
        span = (value[0], value[1]) if value and len(value) == 2 else None
        if span is None:
            runs.append(([], ("", "")))
            continue
        if runs and runs[-1][0] and runs[-1][1] == span:
            runs[-1][0].append(day)
        else:
            runs.append(([day], span))
    parts = []
    for days, (opens, closes) in runs:
        if not days:
            continue
        day_names = short_day_names(language)
        names = day_names[days[0]]
        if len(days) > 1:
            names += f"{DASH}{day_names[days[-1]]}"
        parts.append(f"{names} {card_time(opens, language)}{DASH}{card_time(closes, language)}")
    return ", ".join(parts)


def card_numbers(clinic: Clinic, language: str = "en") -> CardNumbers:
    return CardNumbers(
        daytime=clinic.phone,
        office_hours=office_hours_text(clinic, language),
        after_hours=clinic.after_hours_phone or None,
    )


# --- the card ------------------------------------------------------------------------------


def build_card(
    plan: CarePlan,
    clinic: Clinic,
    patient_name: str,
    signs: Sequence[WarningSign],
    *,
    today: date,
    language: str = "en",
) -> PlanCard:
    """The card for ``plan``, all of it in ``language``: its own words, the plan's content
    (activities, title) and the warning signs (each in ``language`` where translated)."""
    # The patient's own plan, overrides applied, its texts in the card's language.
    activities = plan_activities(plan, language=language)
    signs = [s.in_language(language) for s in signs]
    labels = all(getattr(s, "label", "") for s in signs)  # read if present: older files
    return PlanCard(
        patient_name=patient_name,
        procedure=plan.procedure,
        procedure_date=plan.procedure_date,
        plan_title=plan_title(plan, language),
        template_id=plan.template_id,
        template_version=plan.template_version,
        clinic_name=clinic.name,
        numbers=card_numbers(clinic, language),
        phases=plan_phases(plan, activities, language),
        limits=_limits(plan, activities, today, language),
        visits=_visits(plan, activities, language),
        notes=_notes(plan, activities, language),
        call_911=_flag_words((s for s in signs if s.action == "call_911"), labels),
        call_team=_flag_words((s for s in signs if s.action == "call_team"), labels),
        flags_as_labels=labels,
        printed_on=today,
        plan_status=plan.status,
    )


def _flag_words(signs: Iterable[WarningSign], labels: bool) -> tuple[str, ...]:
    if not labels:
        return tuple(sign.question for sign in signs)
    return tuple(f"{sign.label[0].upper()}{sign.label[1:]}" for sign in signs)


def link_qr_svg(url: str, *, label: str = "QR code of your personal link") -> Markup:
    """``url`` as a QR code in inline SVG (no file, no script, no inline style: the CSP
    allows it). Error correction M survives a crease or a smudge on a printed card."""
    qr = segno.make(url, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass="qr-line")
    # An image with a name, for screen readers; segno writes neither role nor label.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704 - segno's own SVG, only the escaped label added
