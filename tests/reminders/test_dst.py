"""Reminder times follow the patient's zone through daylight-saving changes.

Ticks over the four 2026 changes (US: March 8 and November 1; UK: March 29 and October 25),
every 10 minutes of simulated time from 05:00 to 15:00 UTC, when every reminder here falls due
on either side of a change, and every hour outside it, for 09:00 reminders in New York and
London, plus
New York reminders at a wall time that does not exist (02:30 on March 8) and at one that
happens twice (01:30 on November 1). Each patient must get exactly one reminder per local
day, at the right local time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.reminders.conftest import reminders, tick
from tracker.reminders.delivery import NOT_CREATED

STEP = timedelta(minutes=10)
# Every wall time here is due between 05:00 UTC (01:30 in New York, on EDT) and 14:00 UTC
# (09:00 in New York, on EST): ticks come every STEP in those hours, every hour outside them.
DUE_HOURS_UTC = range(5, 15)
QUIET_STEP = timedelta(hours=1)
WINDOWS = {
    "spring": (date(2026, 3, 5), [date(2026, 3, 6), date(2026, 3, 27)]),
    "autumn": (date(2026, 10, 20), [date(2026, 10, 23), date(2026, 10, 30)]),
}
PATIENTS = [
    ("America/New_York", "09:00"),
    ("Europe/London", "09:00"),
    ("America/New_York", "02:30"),
    ("America/New_York", "01:30"),
]


@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_it_sends_exactly_one_reminder_per_local_day_across_dst_changes(
    app, enroll_patient, season
):
    procedure_date, starts = WINDOWS[season]
    enrolled_at = datetime.combine(procedure_date, time(12), tzinfo=UTC)
    plans = {
        enroll_patient(
            name=f"{tz} {at}",
            timezone=tz,
            reminder_time=at,
            procedure_date=procedure_date.isoformat(),
            now=enrolled_at,
        ).plan.id: (tz, at)
        for tz, at in PATIENTS
    }
    # The local days on which some tick came at or after the patient's reminder time.
    expected: dict[int, set[date]] = {plan_id: set() for plan_id in plans}
    window_starts = []
    for start in starts:
        # Four days around each change, starting at midnight UTC.
        at = datetime.combine(start, time(0), tzinfo=UTC)
        window_starts.append(at)
        end = at + timedelta(days=4)
        while at < end:
            tick(app, at)
            for plan_id, (tz, wall) in plans.items():
                day = at.astimezone(ZoneInfo(tz)).date()
                due = datetime.combine(day, time.fromisoformat(wall), tzinfo=ZoneInfo(tz))
                if at >= due:
                    expected[plan_id].add(day)
            at += STEP if at.hour in DUE_HOURS_UTC else QUIET_STEP

    # Days between the windows (no tick ran) are recorded as never created, not sent.
    rows = [r for r in reminders(app) if not (r.last_error or "").startswith(NOT_CREATED)]
    assert all(r.status == "sent" for r in rows)
    for plan_id, (tz, wall) in plans.items():
        mine = [r for r in rows if r.plan_id == plan_id]
        per_day = Counter(r.local_day for r in mine)
        assert set(per_day) == expected[plan_id], (tz, wall)
        assert set(per_day.values()) == {1}, (tz, wall)
        assert len(per_day) >= 8  # both windows, the change days included
        for r in mine:
            local = r.sent_at.astimezone(ZoneInfo(tz))
            assert local.date() == r.local_day
            wanted = datetime.combine(r.local_day, time.fromisoformat(wall), tzinfo=ZoneInfo(tz))
            # Within one tick of the wall time (02:30 on spring-forward day is 03:30), or
            # at the first tick of a window when that day's time had already passed.
            late = r.sent_at - wanted.astimezone(UTC)
            assert timedelta(0) <= late, (tz, wall, r.local_day)
            assert late < STEP or r.sent_at in window_starts, (tz, wall, r.local_day)
