"""What a reminder says: today's agenda in plain language, and the patient's personal link.

The content comes from the plan's own activities through ``agenda_for_day`` (the one place
that decides what is due), so a message never disagrees with the patient's Today page.
The safety line (what to do for a warning sign) comes from the warning-signs data
(schedules/checks/warning_signs.yaml, SPEC section 2); the text message (``short_text``)
carries its 911 sentence too and fits in ``sms_text.MAX_SEGMENTS`` segments.

Restrictions are listed under the day they last until ("Until Tuesday 8 December:") or their
condition, not under "Please avoid:": some are things to do (bed rest), not to avoid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import escape
from sqlalchemy import select, union
from sqlalchemy.orm import Session

from tracker.alerts.corrections import current_pain, current_symptom_reports
from tracker.core.models import (
    CarePlan,
    CheckOff,
    Clinic,
    PainEntry,
    Patient,
    Reminder,
    SymptomReport,
)
from tracker.outcomes.questionnaires import current_questionnaires
from tracker.outcomes.responses import first_asked_on
from tracker.plans.agenda import Appointment, DayAgenda, agenda_for_day
from tracker.plans.opioid_rules import OpioidAnswers, answers_for
from tracker.plans.warning_signs import current_signs, safety_911, safety_lines
from tracker.reminders.sms_text import fit
from tracker.web.time_format import long_day

QUESTIONS_LINE = (
    "Today we also have a few questions about how you are doing. They are on your page."
)
# Optional in a text: dropped before the link or the 911 line would not fit.
QUESTIONS_SMS = "Also a few questions for you."
PROCEDURE_NAMES = {"kyphoplasty": "kyphoplasty", "vertebroplasty": "vertebroplasty"}


@dataclass(frozen=True)
class OutgoingMessage:
    """One message, ready for any channel."""

    idempotency_key: str
    kind: str
    local_day: date
    subject: str
    text: str
    html: str
    # For an SMS gateway: a sentence or two, the link and the 911 safety line, in at most
    # sms_text.MAX_SEGMENTS segments (GSM-7 or UCS-2).
    short_text: str
    link: str
    patient_id: int
    patient_name: str
    email: str | None
    phone: str | None
    clinic_name: str
    clinic_phone: str
    # Whom it is for when that is not the patient: a page goes to an on-call contact
    # (paging.py), about the patient; ``email`` / ``phone`` are then the contact's.
    to_name: str | None = None


def missed_yesterday(session: Session, plan: CarePlan, today: date) -> bool:
    """True when yesterday was a plan day and the patient recorded nothing at all on it."""
    return (plan.id, today) in missed_yesterdays(session, [(plan, today)])


def missed_yesterdays(
    session: Session, plans: Sequence[tuple[CarePlan, date]]
) -> set[tuple[int, date]]:
    """The (plan id, today) pairs among ``plans`` that missed yesterday, in one query."""
    asked = {
        (plan.id, today - timedelta(days=1))
        for plan, today in plans
        if today - timedelta(days=1) >= plan.procedure_date
    }
    if not asked:
        return set()
    plan_ids = {plan_id for plan_id, _ in asked}
    days = {day for _, day in asked}
    # Only what still counts: a corrected pain score or symptom report is replaced by its
    # correction (which is on the same day), not counted twice.
    recorded = union(
        select(PainEntry.plan_id, PainEntry.local_day).where(
            PainEntry.plan_id.in_(plan_ids), PainEntry.local_day.in_(days), current_pain()
        ),
        select(SymptomReport.plan_id, SymptomReport.local_day).where(
            SymptomReport.plan_id.in_(plan_ids),
            SymptomReport.local_day.in_(days),
            current_symptom_reports(),
        ),
        select(CheckOff.plan_id, CheckOff.local_day).where(
            CheckOff.plan_id.in_(plan_ids), CheckOff.local_day.in_(days)
        ),
    )
    active = {(plan_id, day) for plan_id, day in session.execute(recorded)}
    return {(plan_id, day + timedelta(days=1)) for plan_id, day in asked - active}


def _appointment_line(appointment: Appointment) -> str:
    title = appointment.activity.title
    if appointment.scheduled_for is not None:
        return f"{title}: {long_day(appointment.scheduled_for)}"
    return (
        f"{title}: between {long_day(appointment.window_start)} and "
        f"{long_day(appointment.window_end)}"
        " (your care team will confirm the date)"
    )


def _sections(agenda: DayAgenda) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    if agenda.tasks:
        sections.append(("To do today", [f"{a.title}: {a.instructions}" for a in agenda.tasks]))
    if agenda.check_ins:
        sections.append(("Check in today", [a.title for a in agenda.check_ins]))
    sections.extend(_restriction_sections(agenda))
    if agenda.next_appointment is not None:
        sections.append(("Next visit", [_appointment_line(agenda.next_appointment)]))
    return sections


def _restriction_sections(agenda: DayAgenda) -> list[tuple[str, list[str]]]:
    """Restrictions under the day they last until, or under their condition ("While you
    take opioid pain medicine"): not "Please avoid", since a restriction may be a thing to
    do (bed rest); its title and instructions say which."""
    by_heading: dict[str, list[str]] = {}
    dated = sorted(
        (r for r in agenda.restrictions if not r.activity.condition), key=lambda r: r.last_day
    )
    for r in dated:
        if r.days_left <= 0:
            heading = "Today (the last day)"
        elif r.days_left == 1:
            heading = f"Until tomorrow, {long_day(r.last_day)}"
        else:
            heading = f"Until {long_day(r.last_day)}"
        by_heading.setdefault(heading, []).append(f"{r.activity.title}: {r.activity.instructions}")
    for r in agenda.restrictions:
        if r.activity.condition:
            heading = r.activity.condition[:1].upper() + r.activity.condition[1:]
            by_heading.setdefault(heading, []).append(
                f"{r.activity.title}: {r.activity.instructions}"
            )
    return list(by_heading.items())


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"


def _html_document(
    subject: str,
    greeting: str,
    intro: list[str],
    sections: list[tuple[str, list[str]]],
    link: str,
    safety: str,
    clinic_name: str,
) -> str:
    """The HTML part: the same words as the text part, every piece of text escaped.

    Joined from escaped strings (``Markup.format`` costs a ``string.Formatter`` pass per
    element, a tenth of the deliver step's work per email).
    """
    parts = [_element("p", greeting), *(_element("p", line) for line in intro)]
    for heading, lines in sections:
        parts.append(_element("h2", heading))
        parts.append("<ul>")
        parts.extend(_element("li", line) for line in lines)
        parts.append("</ul>")
    parts.append(
        f'<p><a href="{escape(link)}">Open your page to see today and check things off</a></p>'
    )
    parts.append(_element("p", safety))
    parts.append(_element("p", clinic_name))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>{''.join(parts)}</body></html>"
    )


def compose(
    session: Session,
    reminder: Reminder,
    plan: CarePlan,
    patient: Patient,
    clinic: Clinic,
    link: str,
    *,
    missed: bool | None = None,
    opioids: OpioidAnswers | None = None,
    reply_prompt: str | None = None,
) -> OutgoingMessage:
    """The message for ``reminder``. ``missed`` (nothing recorded yesterday) is looked up
    when not given; the deliver step looks it up for a whole batch at once. So are
    ``opioids``, the answers that decide the no-driving rule (opioid_rules.py).
    ``reply_prompt``: when replies to texts are read (tracker/texting), the daily text asks
    for the pain score with it on the days a pain score is due."""
    day = reminder.local_day
    procedure = PROCEDURE_NAMES.get(plan.procedure, plan.procedure)
    signs = current_signs()
    safety = safety_lines(signs, clinic.phone)
    sms_safety = safety_911(signs)
    intro: list[str] = []
    if reminder.kind == "appointment":
        tomorrow = day + timedelta(days=1)
        visits = agenda_for_day(plan, tomorrow).appointments_today
        names = ", ".join(v.activity.title for v in visits) or "Your follow-up visit"
        subject = f"Reminder: {names} tomorrow, {long_day(tomorrow)}"
        intro.append(f"{names} is tomorrow, {long_day(tomorrow)}.")
        intro.append(f"If you cannot come, please call your care team at {clinic.phone}.")
        sections: list[tuple[str, list[str]]] = []
        short = fit(
            [
                (f"{clinic.name}:", False),
                (f"{names} is tomorrow, {long_day(tomorrow)}.", False),
                (f"Details: {link}", True),
                (sms_safety, True),
            ]
        )
    else:
        if opioids is None:
            opioids = answers_for(session, plan.id, clinic.opioid_free_days_before_driving)
        agenda = agenda_for_day(plan, day, opioids=opioids)
        subject = f"Your recovery plan for today (day {agenda.day_number})"
        intro.append(
            f"Today, {long_day(day)}, is day {agenda.day_number} of your recovery after "
            f"{procedure}."
        )
        if missed if missed is not None else missed_yesterday(session, plan, day):
            intro.append(
                "We did not get a check-in from you yesterday. When you can, please open "
                "your page and record your pain score for today."
            )
        sections = _sections(agenda)
        # A questionnaire's time point starts today (outcomes/questionnaires.py): say so.
        asked = first_asked_on(plan, current_questionnaires(), day)
        if asked:
            intro.append(QUESTIONS_LINE)
        todo = len(agenda.tasks) + len(agenda.check_ins)
        asks_pain = reply_prompt is not None and any(a.check_in == "pain" for a in agenda.check_ins)
        short = fit(
            [
                (f"{clinic.name}:", False),
                (f"Day {agenda.day_number} of your recovery.", False),
                *([(reply_prompt, True)] if asks_pain and reply_prompt else []),
                (f"{todo} thing{'s' if todo != 1 else ''} to do or check in today:", False),
                *([(QUESTIONS_SMS, False)] if asked else []),
                (link, True),
                (sms_safety, True),
            ]
        )

    greeting = f"Hello {patient.name},"
    text_parts = [greeting, "", *intro, ""]
    for heading, lines in sections:
        text_parts.append(f"{heading}:")
        text_parts.extend(f"- {line}" for line in lines)
        text_parts.append("")
    text_parts += [
        "Open your page to see today and check things off:",
        link,
        "",
        safety,
        "",
        f"{clinic.name}",
    ]

    document = _html_document(subject, greeting, intro, sections, link, safety, clinic.name)

    return OutgoingMessage(
        idempotency_key=reminder.idempotency_key,
        kind=reminder.kind,
        local_day=day,
        subject=subject,
        text="\n".join(text_parts),
        html=document,
        short_text=short,
        link=link,
        patient_id=patient.id,
        patient_name=patient.name,
        email=patient.email,
        # The number in E.164 form when it has one (what gateways expect), else as typed.
        phone=patient.sms_number or patient.phone,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
    )
