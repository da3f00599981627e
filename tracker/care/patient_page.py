"""What the care team's patient page says first, and what it folds away.

A nurse opens a patient to decide what to do, so the page starts with a summary read in
ten seconds: why the patient is on the list (the open alerts' reasons), the latest pain
score and its trend, the open alerts, the last contact and the next visit. The detail
follows folded by section; of it, only what happened is shown: the check-in calendar stops
at the patient's today, and warning-signs checks are listed when something was answered
"yes" (the rest are counted).

Who recorded what: a row with ``entered_by_caregiver_id`` was entered by a caregiver, and
the page says so ("entered by Ana Ruiz (daughter)", SPEC section 6, "Caregivers"); the
caregivers' names come from the one query that also fills the page's Caregivers section.

Pure functions over rows the view loaded; ``today`` is the patient's local day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from tracker.alerts.pain_trends import DaySummary, Window, latest, three_day_windows
from tracker.care.triage import CalendarDay
from tracker.core.models import Alert, Caregiver, PainEntry, SymptomReport

# A change of the 3-day mean smaller than this reads "about the same": day-to-day scores
# move by a point or so, while clinically significant relief is usually taken as a drop of
# 2-3 points (SPEC section 6, "Expected course"). The numbers are always shown beside it.
TREND_POINTS = 1.0


@dataclass(frozen=True)
class PainTrend:
    """The latest current score, and the 3-day mean now against the three days before."""

    score: int
    day: date
    day_number: int
    recent: Window | None  # the 3-day mean ending on the latest day with scores
    earlier: Window | None  # the 3-day mean ending three days before that

    @property
    def change(self) -> float | None:
        if self.recent is None or self.earlier is None:
            return None
        return round(self.recent.mean - self.earlier.mean, 2)

    @property
    def direction(self) -> str | None:
        """rising | falling | steady, or None without two 3-day means to compare."""
        change = self.change
        if change is None:
            return None
        if change >= TREND_POINTS:
            return "rising"
        if change <= -TREND_POINTS:
            return "falling"
        return "steady"


def pain_trend(
    entries: Sequence[PainEntry], summaries: Sequence[DaySummary], procedure_date: date
) -> PainTrend | None:
    """The summary's pain line: the latest current score of ``entries`` (a plan's pain
    entries, corrections included) and the 3-day means of ``summaries`` (their days).

    Only days from the procedure on count for the means: scores from before it are shown
    as pre-procedure and never set a baseline (SPEC section 6, "Pain baseline").
    """
    last = latest(entries)
    if last is None:
        return None
    after = [s for s in summaries if s.day_number >= 0]
    windows = {w.end: w for w in three_day_windows(after)}
    recent = windows.get(after[-1].day) if after else None
    earlier = windows.get(recent.end - timedelta(days=3)) if recent is not None else None
    return PainTrend(
        score=last.score,
        day=last.local_day,
        day_number=(last.local_day - procedure_date).days,
        recent=recent,
        earlier=earlier,
    )


@dataclass(frozen=True)
class AlertCounts:
    open: int  # nobody has acknowledged them yet
    acknowledged: int

    @property
    def total(self) -> int:
        return self.open + self.acknowledged


def alert_counts(unresolved: Sequence[Alert]) -> AlertCounts:
    return AlertCounts(
        open=sum(a.status == "open" for a in unresolved),
        acknowledged=sum(a.status == "acknowledged" for a in unresolved),
    )


def calendar_to_today(
    weeks: Sequence[Sequence[CalendarDay | None]], today: date
) -> list[list[CalendarDay | None]]:
    """The check-in calendar's weeks up to the week of ``today`` (the patient's local day),
    with its later days left blank: what happened, not a wall of upcoming days."""
    shown: list[list[CalendarDay | None]] = []
    for week in weeks:
        days = [cell for cell in week if cell is not None]
        if not days or days[0].day > today:
            break
        shown.append([cell if cell is not None and cell.day <= today else None for cell in week])
    return shown


def answered_yes(report: SymptomReport) -> list[str]:
    """The keys of the questions ``report`` answered "yes", in the order asked."""
    return [key for key, value in (report.answers or {}).items() if value is True]


@dataclass(frozen=True)
class WarningSignChecks:
    """The checks with at least one "yes" (newest first), and how many had none."""

    with_yes: list[SymptomReport]
    without: int
    # Checks the patient answered again to fix a mistake: their first answers stay listed.
    corrected_ids: frozenset[int]

    @property
    def total(self) -> int:
        return len(self.with_yes) + self.without


def warning_sign_checks(reports: Sequence[SymptomReport]) -> WarningSignChecks:
    with_yes = [r for r in reports if answered_yes(r)]
    return WarningSignChecks(
        with_yes=with_yes,
        without=len(reports) - len(with_yes),
        corrected_ids=frozenset(r.supersedes_id for r in reports if r.supersedes_id is not None),
    )


# --- caregivers, and who entered what --------------------------------------------------------

SCOPE_WORDS = {"view": "View only", "act": "View and record"}
REMINDER_WORDS = {None: "No", "email": "By email", "webhook": "By text message", "log": "Logged"}


class Entered(Protocol):
    """A recorded row: a pain score, a check-off, a check, an answer."""

    entered_by_caregiver_id: int | None


@dataclass(frozen=True)
class CaregiverSection:
    """The patient page's Caregivers section: who can act now, and who was removed (kept,
    since what they entered keeps their name)."""

    current: list[Caregiver]
    removed: list[Caregiver]
    # Caregiver id -> "Ana Ruiz (daughter)", removed ones included: the page's "entered by".
    authors: dict[int, str]


def caregiver_section(caregivers: Iterable[Caregiver]) -> CaregiverSection:
    """``caregivers``: all of one patient's, removed ones too (one query, by the view)."""
    rows = list(caregivers)
    return CaregiverSection(
        current=[c for c in rows if c.removed_at is None],
        removed=sorted(
            (c for c in rows if c.removed_at is not None),
            key=lambda c: (c.removed_at, c.id),
            reverse=True,
        ),
        authors={c.id: c.label for c in rows},
    )


def entered_by(row: Entered, authors: Mapping[int, str]) -> str | None:
    """ "Ana Ruiz (daughter)" when a caregiver entered ``row``; None when the patient did."""
    caregiver_id = row.entered_by_caregiver_id
    if caregiver_id is None:
        return None
    return authors.get(caregiver_id, "a caregiver")


def entered_by_day(
    rows: Iterable[tuple[date, int | None]], authors: Mapping[int, str]
) -> dict[date, list[str]]:
    """Who entered something on each day a caregiver did, from (local day, caregiver id)
    pairs: ["the patient", "Ana Ruiz (daughter)"]. Days the patient alone entered are left
    out (the page says nothing where nothing differs)."""
    days: dict[date, list[str]] = {}
    patient_days: set[date] = set()
    for day, caregiver_id in rows:
        if caregiver_id is None:
            patient_days.add(day)
            continue
        label = authors.get(caregiver_id, "a caregiver")
        names = days.setdefault(day, [])
        if label not in names:
            names.append(label)
    return {
        day: (["the patient"] if day in patient_days else []) + names for day, names in days.items()
    }


@dataclass(frozen=True)
class CallLink:
    href: str  # "tel:+15552010142"
    text: str  # "Call Ana (daughter)"


def call_link(caregiver: Caregiver) -> CallLink | None:
    """A link the care team taps to call ``caregiver`` ("Call Ana (daughter)"), or None
    without a phone. The number as dialled: E.164 when it has one, else the digits typed."""
    if not caregiver.phone:
        return None
    number = caregiver.sms_number or "".join(
        ch for i, ch in enumerate(caregiver.phone.strip()) if ch.isdigit() or (ch == "+" and i == 0)
    )
    if not number.strip("+"):
        return None
    first = caregiver.name.split()[0] if caregiver.name.split() else caregiver.name
    return CallLink(href=f"tel:{number}", text=f"Call {first} ({caregiver.relation})")
