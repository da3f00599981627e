"""What a patient is told about who knows of their problem, and which number to call now.

SPEC section 6 ("Escalation"): every path of a patient in trouble ends at a person, outside
office hours patients are shown the after-hours number, and what a patient is told about
who knows must be true at that moment. So nothing here says "your care team has been told"
unless it has: each notice is built from the alert's state, the latest page about it and
the clinic's office hours at ``now``. Pure functions: the views load the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from babel.dates import format_date

from tracker.core.languages import DEFAULT_LANGUAGE, translator
from tracker.core.models import Alert, Clinic
from tracker.core.timeutil import zone
from tracker.escalation.office_hours import office_status
from tracker.web.time_format import at_clock_time, clock_time, long_day

# Who is paged (paging.py): the clinic's on-call contact.
ON_CALL = "the on-call nurse"


class PagingStateLike(Protocol):
    """The latest page about an alert (``paging.PagingState``): what the notice reads."""

    status: str  # queued | sent | failed | cancelled
    created_at: datetime
    sent_at: datetime | None


def when(at: datetime, tz_name: str, now: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """``at`` said from ``now``'s day in ``tz_name``: "at 9:05 am", "tomorrow at 8:00 am",
    "on Monday at 8:00 am" (within a week), "on Monday 30 November at 8:00 am"; in
    ``language`` ("a las 9:05 a. m.", "mañana a las 8:00 a. m.", "el lunes a las ...")."""
    t = translator(language)
    tz = zone(tz_name)
    local = at.astimezone(tz)
    day, today = local.date(), now.astimezone(tz).date()
    ahead = (day - today).days
    at_time = at_clock_time(at, tz_name, language=language)
    if ahead == 0:
        return at_time
    if ahead == 1:
        return t.gettext("tomorrow %(at_time)s") % {"at_time": at_time}
    if ahead == -1:
        return t.gettext("yesterday %(at_time)s") % {"at_time": at_time}
    if 1 < ahead < 7:
        weekday = format_date(day, "EEEE", locale=language)
        return t.gettext("on %(day)s %(at_time)s") % {"day": weekday, "at_time": at_time}
    return t.gettext("on %(day)s %(at_time)s") % {
        "day": long_day(day, language=language),
        "at_time": at_time,
    }


@dataclass(frozen=True)
class CallNumbers:
    """The number to call now (the after-hours one while the clinic is closed, if it has
    one) and the other number, each with words saying which is which."""

    is_open: bool
    first: str
    first_label: str
    other: str | None
    other_label: str | None

    @property
    def after_hours(self) -> bool:
        return self.first_label == "after-hours number"

    def call(self, words: str) -> str:
        """``words`` ("..., call") naming the number that follows when it is not the usual."""
        return f"{words} our after-hours number:" if self.after_hours else words


def numbers_now(clinic: Clinic, now: datetime) -> CallNumbers:
    is_open = office_status(clinic, now).is_open
    after_hours = clinic.after_hours_phone or None
    if not is_open and after_hours:
        return CallNumbers(False, after_hours, "after-hours number", clinic.phone, "daytime number")
    return CallNumbers(
        is_open,
        clinic.phone,
        "daytime number" if after_hours else "care team's number",
        after_hours,
        "after-hours number" if after_hours else None,
    )


def _sentence(text: str) -> str:
    """One full stop at the end: a time ending in an abbreviation ("9:00 a. m.") ends the
    sentence too."""
    return text[:-1] if text.endswith("..") else text


@dataclass(frozen=True)
class Notice:
    """Who knows, in plain words: ``message``, then "``call_prompt`` ``phone``." (a link)."""

    kind: str  # seen | paged | paging | closed | open | not_told
    message: str
    call_prompt: str
    phone: str

    @property
    def text(self) -> str:
        return f"{self.message} {self.call_prompt} {self.phone}."


def first_name(name: str | None) -> str | None:
    parts = (name or "").split()
    return parts[0] if parts else None


def _seen_at(alert: Alert) -> datetime | None:
    """When someone of the care team looked at the alert's current evidence, if they did."""
    if alert.status == "open":
        return None
    seen = alert.acknowledged_at or alert.resolved_at
    if seen is None:
        return None
    # Newer evidence after the acknowledgement (an update that did not re-open the alert)
    # has not been seen by them: say nothing about it that is not so.
    if alert.updated_at is not None and alert.updated_at > seen:
        return None
    return seen


def who_knows(
    alert: Alert | None,
    clinic: Clinic,
    paging_state: PagingStateLike | Any | None,
    now: datetime,
    *,
    tz_name: str,
    seen_by: str | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Notice:
    """What the patient may truthfully be told at ``now`` about who knows of ``alert``.

    ``paging_state``: the latest page about the alert (``paging.paging_states``), or None;
    ``seen_by``: the name of whoever acknowledged (or resolved) it; ``tz_name``: the
    patient's zone, in which every time is shown. Branches, first match wins: someone saw
    it; a page was sent; a page is on its way; the office is closed; the office is open.
    With no alert at all, the patient is told plainly to call. Every sentence in the
    patient's ``language`` (the same facts in each: the Spanish is marked for review).
    """
    t = translator(language)
    numbers = numbers_now(clinic, now)
    phone = numbers.first
    # Each call prompt in two forms: for the usual number, and for the after-hours one.
    after = numbers.after_hours
    if alert is None:
        return Notice(
            "not_told",
            t.gettext("This was not sent to your care team's list."),
            t.gettext("Please tell them yourself. Call our after-hours number:")
            if after
            else t.gettext("Please tell them yourself. Call"),
            phone,
        )

    def at(moment: datetime) -> str:
        return when(moment, tz_name, now, language)

    seen_at = _seen_at(alert)
    if seen_at is not None:
        name = first_name(seen_by)
        if name:
            saw = t.gettext("%(name)s from your care team saw this %(when)s.") % {
                "name": name,
                "when": at(seen_at),
            }
        else:
            saw = t.gettext("Someone from your care team saw this %(when)s.") % {
                "when": at(seen_at)
            }
        return Notice(
            "seen",
            _sentence(saw),
            t.gettext("If you need to talk to them, call our after-hours number:")
            if after
            else t.gettext("If you need to talk to them, call"),
            phone,
        )
    not_heard = (
        t.gettext("If you do not hear back soon, call our after-hours number:")
        if after
        else t.gettext("If you do not hear back soon, call")
    )
    state = getattr(paging_state, "status", None)
    if state == "sent":
        sent_at = paging_state.sent_at or paging_state.created_at
        # ON_CALL: whom paging.py pages.
        paged = t.gettext("The on-call nurse was paged %(when)s.") % {"when": at(sent_at)}
        return Notice("paged", _sentence(paged), not_heard, phone)
    if state == "queued":
        return Notice("paging", t.gettext("We are paging the on-call nurse now."), not_heard, phone)
    status = office_status(clinic, now)
    if not status.is_open:
        if status.opens_at is not None:
            closed = t.gettext(
                "Our office is closed. Your care team will see this when they open %(when)s."
            ) % {"when": at(status.opens_at)}
        else:
            closed = t.gettext(
                "Our office is closed. Your care team will see this when the office opens again."
            )
        return Notice(
            "closed",
            _sentence(closed),
            t.gettext("If you need help before then, call our after-hours number:")
            if after
            else t.gettext("If you need help before then, call"),
            phone,
        )
    message = t.gettext("Your care team can see this on their list now.")
    if status.closes_at is not None:
        closing = {"time": clock_time(status.closes_at, tz_name, language=language)}
        if status.closes_at.astimezone(zone(tz_name)).hour % 12 == 1:
            until = t.pgettext("one o'clock", "They are open until %(time)s.") % closing
        else:
            until = t.gettext("They are open until %(time)s.") % closing
        message += " " + _sentence(until)
    return Notice(
        "open",
        message,
        t.gettext("If you do not hear from them soon, call our after-hours number:")
        if after
        else t.gettext("If you do not hear from them soon, call"),
        phone,
    )
