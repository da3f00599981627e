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
from tracker.core.languages import DEFAULT_LANGUAGE, language_or_default, translator
from tracker.core.models import (
    Caregiver,
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
from tracker.plans.warning_signs import current_signs
from tracker.reminders.safety import other_signs_line, safety_911_in, safety_lines_in
from tracker.reminders.sms_text import fit
from tracker.web.time_format import long_day


def questions_line(language: str = DEFAULT_LANGUAGE) -> str:
    return translator(language).gettext(
        "Today we also have a few questions about how you are doing. They are on your page."
    )


def questions_sms(language: str = DEFAULT_LANGUAGE) -> str:
    """Optional in a text: dropped before the link or the 911 line would not fit."""
    return translator(language).gettext("Also a few questions for you.")


QUESTIONS_LINE = questions_line()
QUESTIONS_SMS = questions_sms()
PROCEDURE_NAMES = {"kyphoplasty": "kyphoplasty", "vertebroplasty": "vertebroplasty"}


def procedure_name(procedure: str, language: str = DEFAULT_LANGUAGE) -> str:
    t = translator(language)
    names = {"kyphoplasty": t.gettext("kyphoplasty"), "vertebroplasty": t.gettext("vertebroplasty")}
    return names.get(procedure, procedure)


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
    # (paging.py), a caregiver's reminder to the caregiver, about the patient; ``email`` /
    # ``phone`` are then theirs.
    to_name: str | None = None
    # The language it is written in (its reader's), and the caregiver it is to, if one.
    language: str = DEFAULT_LANGUAGE
    caregiver_id: int | None = None


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


def _appointment_line(appointment: Appointment, language: str) -> str:
    t = translator(language)
    title = appointment.activity.title
    if appointment.scheduled_for is not None:
        return f"{title}: {long_day(appointment.scheduled_for, language=language)}"
    return t.gettext(
        "%(title)s: between %(first)s and %(last)s (your care team will confirm the date)"
    ) % {
        "title": title,
        "first": long_day(appointment.window_start, language=language),
        "last": long_day(appointment.window_end, language=language),
    }


def _sections(agenda: DayAgenda, language: str) -> list[tuple[str, list[str]]]:
    t = translator(language)
    sections: list[tuple[str, list[str]]] = []
    if agenda.tasks:
        sections.append(
            (t.gettext("To do today"), [f"{a.title}: {a.instructions}" for a in agenda.tasks])
        )
    if agenda.check_ins:
        sections.append((t.gettext("Check in today"), [a.title for a in agenda.check_ins]))
    sections.extend(_restriction_sections(agenda, language))
    if agenda.next_appointment is not None:
        sections.append(
            (t.gettext("Next visit"), [_appointment_line(agenda.next_appointment, language)])
        )
    return sections


def _restriction_sections(agenda: DayAgenda, language: str) -> list[tuple[str, list[str]]]:
    """Restrictions under the day they last until, or under their condition ("While you
    take opioid pain medicine"): not "Please avoid", since a restriction may be a thing to
    do (bed rest); its title and instructions say which."""
    t = translator(language)
    by_heading: dict[str, list[str]] = {}
    dated = sorted(
        (r for r in agenda.restrictions if not r.activity.condition), key=lambda r: r.last_day
    )
    for r in dated:
        day = long_day(r.last_day, language=language)
        if r.days_left <= 0:
            heading = t.gettext("Today (the last day)")
        elif r.days_left == 1:
            heading = t.gettext("Until tomorrow, %(day)s") % {"day": day}
        else:
            heading = t.gettext("Until %(day)s") % {"day": day}
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
    link_text: str,
    safety: str,
    clinic_name: str,
    language: str = DEFAULT_LANGUAGE,
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
    parts.append(f'<p><a href="{escape(link)}">{escape(link_text)}</a></p>')
    parts.append(_element("p", safety))
    parts.append(_element("p", clinic_name))
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>{''.join(parts)}</body></html>"
    )


def recipient_language(patient: Patient, caregiver: Caregiver | None = None) -> str:
    """The language a message is written in: its reader's (a caregiver's own, or the
    patient's)."""
    return language_or_default(caregiver.language if caregiver is not None else patient.language)


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
    caregiver: Caregiver | None = None,
) -> OutgoingMessage:
    """The message for ``reminder``. ``missed`` (nothing recorded yesterday) is looked up
    when not given; the deliver step looks it up for a whole batch at once. So are
    ``opioids``, the answers that decide the no-driving rule (opioid_rules.py).
    ``reply_prompt``: when replies to texts are read (tracker/texting), the daily text asks
    for the pain score with it on the days a pain score is due.

    Written in the reader's language (``recipient_language``). For a ``caregiver`` (their
    own reminder, ``Reminder.caregiver_id``) the message is about the patient, goes to the
    caregiver's own address or number, and ``link`` must be the caregiver's own link (a link
    is a credential: a caregiver's message never carries the patient's). Its text message
    carries both red-flag lines: 911, and the care team for the other signs."""
    language = recipient_language(patient, caregiver)
    t = translator(language)
    day = reminder.local_day
    procedure = procedure_name(plan.procedure, language)
    signs = current_signs()
    safety = safety_lines_in(signs, clinic.phone, language)
    sms_safety = safety_911_in(signs, language)
    about = {"patient": patient.name}
    intro: list[str] = []
    if reminder.kind == "appointment":
        tomorrow = day + timedelta(days=1)
        when = long_day(tomorrow, language=language)
        visits = agenda_for_day(plan, tomorrow, language=language).appointments_today
        names = ", ".join(v.activity.title for v in visits) or t.gettext("Your follow-up visit")
        subject = t.gettext("Reminder: %(visits)s tomorrow, %(day)s") % {
            "visits": names,
            "day": when,
        }
        tomorrow_line = t.gettext("%(visits)s is tomorrow, %(day)s.") % {
            "visits": names,
            "day": when,
        }
        intro.append(tomorrow_line)
        intro.append(
            t.gettext("If you cannot come, please call your care team at %(phone)s.")
            % {"phone": clinic.phone}
        )
        sections: list[tuple[str, list[str]]] = []
        short = fit(
            [
                (f"{clinic.name}:", False),
                (tomorrow_line, False),
                (t.gettext("Details: %(link)s") % {"link": link}, True),
                (sms_safety, True),
            ]
        )
    else:
        if opioids is None:
            opioids = answers_for(session, plan.id, clinic.opioid_free_days_before_driving)
        agenda = agenda_for_day(plan, day, opioids=opioids, language=language)
        number = {"day": agenda.day_number}
        today = long_day(day, language=language)
        if caregiver is None:
            subject = t.gettext("Your recovery plan for today (day %(day)s)") % number
            intro.append(
                t.gettext("Today, %(date)s, is day %(day)s of your recovery after %(procedure)s.")
                % {**number, "date": today, "procedure": procedure}
            )
        else:
            subject = t.gettext("%(patient)s's recovery plan for today (day %(day)s)") % {
                **about,
                **number,
            }
            intro.append(
                t.gettext(
                    "Today, %(date)s, is day %(day)s of %(patient)s's recovery after "
                    "%(procedure)s. You get this message as their caregiver."
                )
                % {**about, **number, "date": today, "procedure": procedure}
            )
        if missed if missed is not None else missed_yesterday(session, plan, day):
            if caregiver is None:
                intro.append(
                    t.gettext(
                        "We did not get a check-in from you yesterday. When you can, please "
                        "open your page and record your pain score for today."
                    )
                )
            else:
                intro.append(
                    t.gettext(
                        "We did not get a check-in from %(patient)s yesterday. When you can, "
                        "please help them record their pain score for today."
                    )
                    % about
                )
        sections = _sections(agenda, language)
        # A questionnaire's time point starts today (outcomes/questionnaires.py): say so.
        asked = caregiver is None and first_asked_on(plan, current_questionnaires(), day)
        if asked:
            intro.append(questions_line(language))
        todo = len(agenda.tasks) + len(agenda.check_ins)
        asks_pain = reply_prompt is not None and any(a.check_in == "pain" for a in agenda.check_ins)
        things = t.ngettext(
            "%(num)d thing to do or check in today:",
            "%(num)d things to do or check in today:",
            todo,
        ) % {"num": todo}
        if caregiver is None:
            head = t.gettext("Day %(day)s of your recovery.") % number
            closing = [(sms_safety, True)]
        else:
            head = t.gettext("Day %(day)s of %(patient)s's recovery.") % {**about, **number}
            # Both red-flag lines (the call-the-team one in short: the full list is in the
            # email and on the page) before anything about the day.
            closing = [(sms_safety, True), (other_signs_line(clinic.phone, language), True)]
        short = fit(
            [
                (f"{clinic.name}:", False),
                (head, False),
                *([(reply_prompt, True)] if asks_pain and reply_prompt else []),
                (things, False),
                *([(questions_sms(language), False)] if asked else []),
                (link, True),
                *closing,
            ]
        )

    name = caregiver.name if caregiver is not None else patient.name
    greeting = t.gettext("Hello %(name)s,") % {"name": name}
    if caregiver is None:
        link_text = t.gettext("Open your page to see today and check things off")
    else:
        link_text = (
            t.gettext("Open %(patient)s's page with your own link (please do not share it)") % about
        )
    text_parts = [greeting, "", *intro, ""]
    for heading, lines in sections:
        text_parts.append(f"{heading}:")
        text_parts.extend(f"- {line}" for line in lines)
        text_parts.append("")
    text_parts += [f"{link_text}:", link, "", safety, "", f"{clinic.name}"]

    document = _html_document(
        subject, greeting, intro, sections, link, link_text, safety, clinic.name, language
    )

    if caregiver is not None:
        email, phone = caregiver.email, caregiver.sms_number or caregiver.phone
    else:
        # The number in E.164 form when it has one (what gateways expect), else as typed.
        email, phone = patient.email, patient.sms_number or patient.phone
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
        email=email,
        phone=phone,
        clinic_name=clinic.name,
        clinic_phone=clinic.phone,
        to_name=caregiver.name if caregiver is not None else None,
        language=language,
        caregiver_id=caregiver.id if caregiver is not None else None,
    )
