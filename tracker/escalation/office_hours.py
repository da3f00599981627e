"""A clinic's office hours, in the clinic's own time zone (SPEC section 6, "Escalation").

Stored on ``Clinic.office_hours`` as weekday key -> ["HH:MM", "HH:MM"] (opening, closing);
a weekday not listed is closed all day. Inside office hours someone reads the triage list;
outside them patients are shown the after-hours number and urgent alerts page the on-call
contact (paging.py). Every function takes ``now``; local times are computed with zoneinfo,
so a daylight-saving change moves the hours with the clinic's clocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tracker.core.models import DEFAULT_OFFICE_HOURS, WEEKDAYS, Clinic
from tracker.core.timeutil import local_wall_time_to_utc, zone

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class OfficeHoursError(ValueError):
    """Office hours that cannot be used; ``errors`` maps a weekday key to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{DAY_NAMES.get(k, k)}: {v}" for k, v in errors.items()))
        self.errors = errors


def _clock(raw: Any) -> time | None:
    match = _CLOCK.match(raw.strip()) if isinstance(raw, str) else None
    return time(int(match[1]), int(match[2])) if match else None


def validate_office_hours(raw: Mapping[str, Any]) -> dict[str, list[str]]:
    """Normalised office hours from ``raw`` (weekday key -> [open, close], or a blank /
    missing day for closed); raises OfficeHoursError naming each day that is wrong."""
    errors: dict[str, str] = {}
    hours: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - set(WEEKDAYS))
    for key in unknown:
        errors[key] = "is not a day of the week (use mon, tue, ... sun)"
    for day in WEEKDAYS:
        value = raw.get(day)
        if value in (None, "", [], ["", ""]):
            continue
        if not isinstance(value, list | tuple) or len(value) != 2:
            errors[day] = "give an opening and a closing time, or leave both blank"
            continue
        opens, closes = _clock(value[0]), _clock(value[1])
        if opens is None or closes is None:
            errors[day] = "times must look like 08:00 or 17:30 (24-hour clock)"
        elif closes <= opens:
            errors[day] = "the closing time must be after the opening time"
        else:
            hours[day] = [f"{opens:%H:%M}", f"{closes:%H:%M}"]
    if errors:
        raise OfficeHoursError(errors)
    return hours


def _hours(clinic: Clinic) -> dict[str, list[str]]:
    return clinic.office_hours if clinic.office_hours is not None else DEFAULT_OFFICE_HOURS


def _span(clinic: Clinic, day: date) -> tuple[datetime, datetime] | None:
    """Opening and closing of ``day`` (the clinic's local day) in UTC, or None if closed."""
    value = _hours(clinic).get(WEEKDAYS[day.weekday()])
    if not value:
        return None
    opens, closes = _clock(value[0]), _clock(value[1])
    if opens is None or closes is None:
        return None
    return (
        local_wall_time_to_utc(day, opens, clinic.timezone),
        local_wall_time_to_utc(day, closes, clinic.timezone),
    )


@dataclass(frozen=True)
class OfficeStatus:
    """Whether the clinic is open at ``now``; when it closes (if open) or next opens."""

    is_open: bool
    closes_at: datetime | None
    opens_at: datetime | None


def office_status(clinic: Clinic, now: datetime) -> OfficeStatus:
    today = now.astimezone(zone(clinic.timezone)).date()
    span = _span(clinic, today)
    if span is not None and span[0] <= now < span[1]:
        return OfficeStatus(True, span[1], None)
    for ahead in range(0, 8):
        span = _span(clinic, today + timedelta(days=ahead))
        if span is not None and span[0] > now:
            return OfficeStatus(False, None, span[0])
    return OfficeStatus(False, None, None)


def is_open(clinic: Clinic, now: datetime) -> bool:
    return office_status(clinic, now).is_open
