"""Rules every text to a patient obeys, checked by the deliver step before each one.

- **Opt-out** (SPEC section 6, "Text messages": STOP and its synonyms must be honoured): a
  number that texted STOP gets no text until it texts START. The opt-out is stored by
  tracker/texting in ``TextOptOut`` (keyed by the number, as carriers apply it); the deliver
  step reads it here, since the reminders area cannot import texting.
- **Quiet hours**: a clinic may set wall times (``Clinic.quiet_hours_start``/``_end``) during
  which no text goes out to a patient, in the *patient's* zone; a reminder due then waits for
  the end of the quiet hours. Replies to a patient's own text (and what they say about a
  warning sign) are answers, not reminders, and are not held.
- **The conversation**: each reminder text is recorded as an outbound ``TextMessage`` (without
  the personal link, which is a credential), so the care team sees it beside the replies and
  a number texted back is read as the pain score it asked for.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db import insert_or_ignore
from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.core.models import Caregiver, Clinic, Patient, Reminder, TextMessage, TextOptOut
from tracker.core.timeutil import local_wall_time_to_utc, require_aware, zone
from tracker.reminders.sms_text import gsm_friendly
from tracker.web.time_format import day_text


def pain_prompt(language: str = DEFAULT_LANGUAGE) -> str:
    """What a daily reminder text adds when replies are read (TRACKER_SMS_INBOUND_SECRET
    set): the number texted back is today's pain score (tracker/texting)."""
    return translator(language).gettext("Text back your pain today, from 0 (none) to 10 (worst).")


PAIN_PROMPT = pain_prompt()
PAIN_QUESTION = "pain"
# Shown instead of the personal link in the stored copy of a text.
LINK_PLACEHOLDER = "[personal link]"


def opted_out_at(session: Session, number: str | None) -> datetime | None:
    """When ``number`` (E.164) texted STOP, if it has not texted START since."""
    if not number:
        return None
    return session.scalar(
        select(TextOptOut.opted_out_at).where(
            TextOptOut.number == number, TextOptOut.opted_out_at.is_not(None)
        )
    )


def quiet_until(
    start: time | None, end: time | None, tz_name: str, now: datetime
) -> datetime | None:
    """The end of the quiet hours ``now`` falls in, in zone ``tz_name``; None when ``now``
    is not quiet (or there are no quiet hours).

    From ``start`` (included) to ``end`` (excluded), wall times in ``tz_name``; when ``start``
    is later than ``end`` the quiet hours run across midnight (21:00 to 08:00). The end is
    resolved as a wall time of its own local day and converted to UTC before anything is
    compared, so a daylight-saving change in between moves it with the clock.
    """
    if start is None or end is None or start == end:
        return None
    local = require_aware(now).astimezone(zone(tz_name))
    wall = local.time().replace(tzinfo=None)
    today = local.date()
    end_day: date | None = None
    if start < end:
        if start <= wall < end:
            end_day = today
    elif wall >= start:
        end_day = today + timedelta(days=1)
    elif wall < end:
        end_day = today
    if end_day is None:
        return None
    return local_wall_time_to_utc(end_day, end, tz_name)


def clinic_quiet_until(clinic: Clinic, tz_name: str, now: datetime) -> datetime | None:
    return quiet_until(clinic.quiet_hours_start, clinic.quiet_hours_end, tz_name, now)


def quiet_hours_text(clinic: Clinic) -> str | None:
    """The quiet hours as "21:00-08:00", or None without quiet hours."""
    if clinic.quiet_hours_start is None or clinic.quiet_hours_end is None:
        return None
    return f"{clinic.quiet_hours_start:%H:%M}-{clinic.quiet_hours_end:%H:%M}"


def note_reminder_text(
    session: Session,
    *,
    reminder: Reminder,
    patient: Patient,
    text: str,
    link: str,
    local_day: date,
    now: datetime,
    prompt: str | None = PAIN_PROMPT,
    caregiver: Caregiver | None = None,
) -> None:
    """Record the text of ``reminder`` in the patient's conversation, once (a retry of the
    same reminder adds nothing): the personal link replaced by a placeholder, and the
    question it asks (the pain score: ``prompt``, in the reader's language) when it asks
    one. A caregiver's reminder is recorded as to the caregiver's number. Not committed."""
    number = caregiver.sms_number if caregiver is not None else patient.sms_number
    if not number:
        return  # a number no gateway can text, and no reply can come from
    body = text.replace(link, LINK_PLACEHOLDER) if link else text
    meaning = f"{reminder.kind.capitalize()} reminder for {day_text(local_day)}"
    if caregiver is not None:
        meaning += f", to the caregiver {caregiver.label}"
    session.execute(
        insert_or_ignore(session, TextMessage.__table__).values(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            caregiver_id=caregiver.id if caregiver is not None else None,
            direction="out",
            number=number,
            body=body[:1600],
            kind="reminder",
            meaning=meaning,
            question=PAIN_QUESTION if prompt and gsm_friendly(prompt) in text else None,
            local_day=local_day,
            detail={"reminder_id": reminder.id, "idempotency_key": reminder.idempotency_key},
            reminder_id=reminder.id,
            created_at=now,
        )
    )
