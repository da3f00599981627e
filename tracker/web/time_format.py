"""How a time or a day is written for the person who reads it: the one place that does it.

Instants are stored in UTC (``core/timeutil.py``); nobody reads UTC:

- the care team reads the clinic's clock, with the zone's abbreviation, because the clinic's
  patients live in other zones and an hour without its zone is ambiguous twice a year
  (1:30 AM happens twice on the autumn change): "Dec 6, 10:41 PM EST";
- a patient reads their own wall clock in plain words: "9:05 am", "Saturday 21 November".
  One form of a day everywhere a patient reads it (their pages, emails, text messages, the
  printed card): the weekday, the day, then the month; shortened to "Sat 21 Nov" or "21 Nov"
  where room is short, never reordered;
- an event of a patient (a pain score, a warning-signs check) belongs to the patient's local
  day, stored with it at the time: pages name that day ("Dec 5"), never the UTC date.

The year is written only when it is not the reader's current year. Pure functions: callers
pass ``now`` (the request clock) and the zone.
"""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from tracker.core.languages import translator
from tracker.core.timeutil import require_aware, zone

DASH = "\u2013"  # an en dash, for spans of days


def zone_abbreviation(at: datetime, tz_name: str) -> str:
    """The abbreviation of ``tz_name`` in force at ``at`` ("EST", "EDT", "JST"); zones with
    no letters in the database get their offset from UTC ("UTC+4", "UTC+5:30")."""
    local = require_aware(at).astimezone(zone(tz_name))
    name = local.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _twelve_hour(wall: time, am: str, pm: str) -> str:
    """``wall`` on a 12-hour clock: midnight is 12:00 ``am``, noon 12:00 ``pm``."""
    return f"{wall.hour % 12 or 12}:{wall.minute:02d} {am if wall.hour < 12 else pm}"


def wall_time_text(wall: time) -> str:
    """A wall-clock time for the care team: "9:00 AM", "12:30 PM"."""
    return _twelve_hour(wall, "AM", "PM")


def day_text(day: date, *, today: date | None = None) -> str:
    """A calendar day for the care team: "Dec 5"; "Dec 5, 2025" outside ``today``'s year."""
    text = f"{day:%b} {day.day}"
    return text if today is not None and day.year == today.year else f"{text}, {day.year}"


def day_range_text(first: date, last: date, *, today: date | None = None) -> str:
    """Two calendar days as one span, joined by an en dash: "Nov 19-23", "Nov 28-Dec 2",
    "Dec 30, 2026-Jan 3, 2027" (the years when either is outside ``today``'s year)."""
    if first == last:
        return day_text(first, today=today)
    if today is None or first.year != today.year or last.year != today.year:
        return f"{day_text(first)}{DASH}{day_text(last)}"
    if first.month == last.month:
        return f"{first:%b} {first.day}{DASH}{last.day}"
    return f"{day_text(first, today=today)}{DASH}{day_text(last, today=today)}"


def clinic_time(at: datetime, tz_name: str, *, now: datetime | None = None) -> str:
    """An instant on the clinic's clock for the care team: "Dec 6, 10:41 PM EST".

    The day is the clinic's day at that instant. Without ``now`` the year is always written.
    """
    local = require_aware(at).astimezone(zone(tz_name))
    today = require_aware(now).astimezone(zone(tz_name)).date() if now is not None else None
    return (
        f"{day_text(local.date(), today=today)}, {wall_time_text(local.time())} "
        f"{zone_abbreviation(at, tz_name)}"
    )


def clock_with_zone(at: datetime, tz_name: str) -> str:
    """The time alone on ``tz_name``'s clock: "10:41 PM EST" (the day is said elsewhere)."""
    local = require_aware(at).astimezone(zone(tz_name))
    return f"{wall_time_text(local.time())} {zone_abbreviation(at, tz_name)}"


def age_text(at: datetime, now: datetime) -> str:
    """How long ago ``at`` was, in the largest whole unit: "just now", "5 min ago", "2 h ago",
    "3 days ago". A time after ``now`` (clocks of two machines) reads "just now"."""
    seconds = (require_aware(now) - require_aware(at)).total_seconds()
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} days ago"


# --- the patient's own words (grade-6 reading level: tests/test_content_reading_level.py) ---
# Each takes the reader's ``language`` (tracker/core/languages.py). English is written here
# as it always was; another language takes its forms from Babel's locale data (CLDR):
# Spanish "sábado 21 de noviembre", "21 nov", "9:05 a. m.".

# Babel's patterns for a language other than English, in the order of the English forms.
_LONG_DAY = "EEEE d 'de' MMMM"
_SHORT_DAY = "d MMM"
_SHORT_DAY_WEEKDAY = "EEE d MMM"
_CLOCK = "h:mm a"


def _babel_text(text: str) -> str:
    # CLDR puts a narrow no-break space inside "a. m."; a plain space reads the same and
    # survives every channel (a text message, a plain-text email).
    return text.replace("\u202f", " ")


def wall_clock(wall: time, *, language: str = "en") -> str:
    """A wall-clock time for a patient: "8:00 am", "5:30 pm" (the card's office hours);
    Spanish "8:00 a. m."."""
    if language == "en":
        return _twelve_hour(wall, "am", "pm")
    return _babel_text(format_time(wall, _CLOCK, locale=language))


def clock_time(at: datetime, tz_name: str, *, language: str = "en") -> str:
    """``at`` on a patient's wall clock in ``tz_name``: "9:05 am"."""
    return wall_clock(require_aware(at).astimezone(zone(tz_name)).time(), language=language)


def at_clock_time(at: datetime, tz_name: str, *, language: str = "en") -> str:
    """``clock_time`` with its preposition: "at 9:05 am"; Spanish "a las 9:05 a. m.", but
    "a la 1:05 p. m.": the one o'clock hours take their own words (a message context)."""
    t = translator(language)
    time_text = clock_time(at, tz_name, language=language)
    if require_aware(at).astimezone(zone(tz_name)).hour % 12 == 1:
        return t.pgettext("one o'clock", "at %(time)s") % {"time": time_text}
    return t.gettext("at %(time)s") % {"time": time_text}


def long_day(day: date, *, language: str = "en") -> str:
    """A patient's day in full: "Saturday 21 November" (pages, emails and text messages);
    Spanish "sábado 21 de noviembre"."""
    if language == "en":
        return f"{day:%A} {day.day} {day:%B}"
    return _babel_text(format_date(day, _LONG_DAY, locale=language))


def short_day(day: date, *, weekday: bool = False, language: str = "en") -> str:
    """A patient's day where room is short: "21 Nov" (a table), "Sat 21 Nov" with
    ``weekday`` (the printed card); Spanish "21 nov", "sáb 21 nov"."""
    if language != "en":
        pattern = _SHORT_DAY_WEEKDAY if weekday else _SHORT_DAY
        return _babel_text(format_date(day, pattern, locale=language))
    text = f"{day.day} {day:%b}"
    return f"{day:%a} {text}" if weekday else text


def number_text(value: float, *, language: str = "en") -> str:
    """A number for a patient, as "%g" writes it in English ("3.5", "12"); in Spanish with
    a decimal comma ("3,5")."""
    if language == "en":
        return f"{value:g}"
    return format_decimal(value, format="#,##0.##", locale=language)
