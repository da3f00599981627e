"""Local calendar days and wall-clock times in a patient's own time zone.

All arithmetic on instants happens in UTC; a local day or wall-clock time is
derived from an instant with ``zoneinfo`` and never stored as a naive datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class BadTimezone(ValueError):
    pass


@cache
def _listed_zones() -> frozenset[str]:
    # zoneinfo lists neither right/ (leap-second clocks, 27 s off UTC) nor posix/ (copies).
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, or BadTimezone with a message naming it."""
    # ZoneInfo would also accept file-system-like keys (right/..., posix/..., paths); only
    # plain IANA names that the zone list shows are allowed.
    plain = name == "UTC" or ("/" in name and not name.startswith(("/", ".")) and ".." not in name)
    listed = name == "UTC" or name in _listed_zones()
    if not plain or not listed or name.split("/", 1)[0] in ("right", "posix"):
        raise BadTimezone(f"unknown time zone {name!r}: use an IANA name such as Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadTimezone(
            f"unknown time zone {name!r}: use an IANA name such as Europe/London"
        ) from exc


def is_valid_timezone(name: str) -> bool:
    try:
        zone(name)
    except BadTimezone:
        return False
    return True


def common_timezones() -> list[str]:
    return sorted(z for z in _listed_zones() if "/" in z and not z.startswith("Etc/"))


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with a UTC offset (``Z`` allowed), as aware UTC; ValueError with
    a message naming the value otherwise (for ``--now`` options)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--now {value!r} is not an ISO 8601 instant, e.g. 2026-11-21T14:00:00Z"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"--now {value!r} needs a UTC offset, e.g. 2026-11-21T14:00:00Z")
    return parsed.astimezone(UTC)


def require_aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now


def local_day(now: datetime, tz_name: str) -> date:
    """The patient's calendar day at instant ``now``."""
    return require_aware(now).astimezone(zone(tz_name)).date()


def local_wall_time_to_utc(day: date, wall: time, tz_name: str) -> datetime:
    """The UTC instant at which ``day`` ``wall`` happens in ``tz_name``.

    Converted back to UTC before any arithmetic, so adding days never drifts across
    daylight-saving changes. A wall time that does not exist (skipped by a spring-forward
    change) maps to the same offset as just before the gap, i.e. later that hour; a time
    that occurs twice (autumn) maps to its first occurrence. Either way one instant per day.
    """
    # fold=0 picks the first occurrence of a repeated time and, for a skipped one,
    # the offset in force before the gap (so 02:30 becomes 03:30 after spring-forward).
    return datetime.combine(day, wall, tzinfo=zone(tz_name)).astimezone(UTC)


def start_of_local_day_utc(day: date, tz_name: str) -> datetime:
    return local_wall_time_to_utc(day, time(0, 0), tz_name)
