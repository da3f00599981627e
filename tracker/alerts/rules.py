"""Alerts for the care team: raised once per condition, worked open -> acknowledged -> resolved."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    column,
    func,
    or_,
    select,
    update,
    values,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, joinedload

from tracker.alerts.corrections import PAIN_ROW_COLUMNS
from tracker.alerts.pain_trends import Window, daily_summaries, effective_entries, three_day_windows
from tracker.core.db import UTCDateTime, insert_or_ignore_on
from tracker.core.models import (
    Alert,
    AlertEvent,
    CarePlan,
    CheckOff,
    Clinic,
    PainEntry,
    PlanAdjustment,
    SymptomReport,
)
from tracker.core.timeutil import local_day, start_of_local_day_utc
from tracker.plans.agenda import plan_last_day
from tracker.web.time_format import day_text

RED_FLAG = "red_flag"
SEVERE_PAIN = "severe_pain"
WORSENING = "worsening"
NOT_IMPROVING = "not_improving"
MISSED_CHECKIN = "missed_checkin"
UNDELIVERABLE = "undeliverable"
RULES = (RED_FLAG, SEVERE_PAIN, WORSENING, NOT_IMPROVING, MISSED_CHECKIN, UNDELIVERABLE)


def unresolved_alert(session: Session, plan_id: int, rule: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(
            Alert.plan_id == plan_id, Alert.rule == rule, Alert.status != "resolved"
        )
    )


def raise_alert(
    session: Session,
    *,
    plan: CarePlan,
    rule: str,
    urgency: str,
    summary: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Alert:
    """Open an alert unless the same condition already has an unresolved one.

    Returns the new alert, or the existing unresolved one. A partial unique index backs
    this up when two processes race: the loser's insert fails and it returns the winner's.
    """
    if rule not in RULES:
        raise ValueError(f"unknown alert rule {rule!r}")
    existing = unresolved_alert(session, plan.id, rule)
    if existing is not None:
        return existing
    alert = Alert(
        clinic_id=plan.clinic_id,
        patient_id=plan.patient_id,
        plan_id=plan.id,
        rule=rule,
        urgency=urgency,
        status="open",
        summary=summary[:500],
        detail=detail or {},
        raised_at=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        existing = unresolved_alert(session, plan.id, rule)
        if existing is None:
            raise
        return existing
    record_event(session, alert_id=alert.id, kind="raised", summary=alert.summary, now=now)
    return alert


def record_event(
    session: Session,
    *,
    alert_id: int,
    kind: str,
    summary: str,
    now: datetime,
    user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one step to an alert's history (committed with the change it describes)."""
    session.add(
        AlertEvent(
            alert_id=alert_id,
            at=now,
            kind=kind,
            user_id=user_id,
            summary=summary[:500],
            detail=detail or {},
        )
    )


# --- Lifecycle ----------------------------------------------------------------------------
# Conditional UPDATEs: when two coordinators act on the same alert at once, exactly one
# wins and the other is told, instead of the second silently overwriting the first.
# Acknowledging or resolving stops the paging (``next_escalation_at`` cleared; a page not
# yet sent is cancelled by the paging step, which checks the alert is still open).


def acknowledge(
    session: Session, alert: Alert, *, user_id: int, note: str | None, now: datetime
) -> bool:
    """open -> acknowledged; False if the alert was no longer open."""
    values: dict[str, Any] = {
        "status": "acknowledged",
        "acknowledged_at": now,
        "acknowledged_by_id": user_id,
        "next_escalation_at": None,
    }
    if note:
        values["detail"] = {**(alert.detail or {}), "acknowledge_note": note}
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == "open")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(alert)
    if result.rowcount != 1:
        return False
    record_event(
        session,
        alert_id=alert.id,
        kind="acknowledged",
        summary="Acknowledged" + (f": {note}" if note else ""),
        now=now,
        user_id=user_id,
    )
    return True


def resolve(session: Session, alert: Alert, *, user_id: int, note: str, now: datetime) -> bool:
    """open or acknowledged -> resolved, with a note; False if it was already resolved.

    Resolving an alert nobody acknowledged also records the resolver as acknowledging it.
    """
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status != "resolved")
        .values(
            status="resolved",
            resolved_at=now,
            resolved_by_id=user_id,
            resolution_note=note,
            acknowledged_at=func.coalesce(Alert.acknowledged_at, now),
            acknowledged_by_id=func.coalesce(Alert.acknowledged_by_id, user_id),
            next_escalation_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(alert)
    if result.rowcount != 1:
        return False
    record_event(
        session,
        alert_id=alert.id,
        kind="resolved",
        summary=f"Resolved: {note}",
        now=now,
        user_id=user_id,
    )
    return True


# --- Rules ----------------------------------------------------------------------------------
# SPEC section 2, "Alert". Thresholds come from the clinic; each rule is a pure function of
# what the patient recorded, the plan, the clinic and ``now``. A rule whose last alert was
# resolved raises again only on evidence recorded after that resolution, so resolving an alert
# is not undone by the very readings that raised it.

URGENCY = {
    RED_FLAG: "urgent",  # "critical" when a sign calls for 911 (red_flag_finding)
    SEVERE_PAIN: "high",
    WORSENING: "high",
    NOT_IMPROVING: "normal",
    MISSED_CHECKIN: "normal",
    UNDELIVERABLE: "normal",
}
# Most urgent first; a finding more urgent than its open alert raises the alert's urgency.
URGENCY_RANK = {"critical": 0, "urgent": 1, "high": 2, "normal": 3}
# While a plan is paused or ended, what the patient reports about themselves is still
# evaluated (red flags, severe and worsening pain): only the rule that needs the plan to be
# running (no check-in, like the reminders) stops (SPEC section 6).
EVALUATED_STATUSES = ("active", "paused", "ended")
ACTIVE_ONLY_RULES = (MISSED_CHECKIN,)
# Noise guards for the percent rule, which alone would call 0.7 -> 1.7 "worsening": the
# percentage counts only for a rise of at least one point to a mean in the moderate range
# (NRS 4-6 moderate, 7-10 severe). A rise by the clinic's points threshold always counts.
WORSENING_PERCENT_MIN_POINTS = 1.0
WORSENING_PERCENT_MIN_MEAN = 4.0
# Severe pain is about now: a score from before yesterday (local) is history for the chart,
# not a reason to call. Scores are evaluated as they arrive, so nothing recent is missed.
SEVERE_PAIN_LOOKBACK_DAYS = 1


@dataclass(frozen=True)
class Finding:
    rule: str
    urgency: str
    summary: str
    detail: dict[str, Any]


@dataclass
class Evidence:
    """What one plan's rules look at, loaded in bulk for many plans at once."""

    pain: list[PainEntry] = field(default_factory=list)
    reports: list[SymptomReport] = field(default_factory=list)
    checkoff_days: set[date] = field(default_factory=set)
    alerts: list[Alert] = field(default_factory=list)
    # When the plan was last resumed after a pause: silent paused days are not missed days.
    resumed_at: datetime | None = None

    def last_resolved(self, rule: str) -> datetime | None:
        times = [a.resolved_at for a in self.alerts if a.rule == rule and a.resolved_at]
        return max(times) if times else None

    def unresolved_rules(self) -> set[str]:
        return {a.rule for a in self.alerts if a.status != "resolved"}


def _after(at: datetime, since: datetime | None) -> bool:
    return since is None or at > since


def _context(entry: PainEntry | PainScore) -> str:
    return (
        f" ({'at rest' if entry.context == 'rest' else 'with activity'})" if entry.context else ""
    )


def red_flag_finding(plan: PlanFacts | CarePlan, report: SymptomReport) -> Finding:
    """The red-flag finding for one symptom report with at least one "yes"."""
    signs = sorted(k for k, v in (report.answers or {}).items() if v is True)
    told = "call 911" if report.severity == "call_911" else "call the care team"
    n = (report.local_day - plan.procedure_date).days
    return Finding(
        RED_FLAG,
        "critical" if report.severity == "call_911" else URGENCY[RED_FLAG],
        f"Warning signs on day {n}: {_sign_words(signs) or 'reported'} (patient told to {told})",
        {
            "symptom_report_id": report.id,
            "severity": report.severity,
            "signs": signs,
            "recorded_at": report.recorded_at.isoformat(),
        },
    )


def _sign_words(signs: Sequence[str]) -> str:
    return ", ".join(s.replace("_", " ") for s in signs)


def find_red_flag(plan: CarePlan, evidence: Evidence) -> Finding | None:
    since = evidence.last_resolved(RED_FLAG)
    superseded = {r.supersedes_id for r in evidence.reports if r.supersedes_id}
    flagged = [
        r
        for r in evidence.reports
        if r.severity != "none" and r.id not in superseded and _after(r.recorded_at, since)
    ]
    if not flagged:
        return None
    # The most serious advice first, then the latest report.
    report = max(flagged, key=lambda r: (r.severity == "call_911", r.recorded_at, r.id))
    return red_flag_finding(plan, report)


class PainScore(NamedTuple):
    """The parts of one pain entry the severe-pain summary reads."""

    id: int
    score: int
    context: str | None
    local_day: date


class PlanFacts(Protocol):
    """The parts of a plan that raising an alert for it reads (a CarePlan has them)."""

    id: int
    patient_id: int
    clinic_id: int
    procedure_date: date
    status: str


def severe_pain_finding(
    procedure_date: date, threshold: int, entry: PainEntry | PainScore, at: datetime
) -> Finding | None:
    """Severe pain for one score recorded at ``at``, if it is one."""
    if entry.score < threshold:
        return None
    n = (entry.local_day - procedure_date).days
    shown = {"id": entry.id, "score": entry.score, "day": n, "at": at.isoformat()}
    return Finding(
        SEVERE_PAIN,
        URGENCY[SEVERE_PAIN],
        f"Pain {entry.score}/10 on day {n}{_context(entry)}",
        {
            "pain_entry_id": entry.id,
            "score": entry.score,
            "threshold": threshold,
            "latest": shown,
            "highest": shown,
        },
    )


def find_severe_pain(
    plan: CarePlan, clinic: Clinic, evidence: Evidence, today: date
) -> Finding | None:
    since = evidence.last_resolved(SEVERE_PAIN)
    recent = today - timedelta(days=SEVERE_PAIN_LOOKBACK_DAYS)
    severe = [
        e
        for e in effective_entries(evidence.pain)
        if e.score >= clinic.severe_pain_threshold
        and e.local_day >= recent
        and _after(e.recorded_at, since)
    ]
    if not severe:
        return None
    entry = max(severe, key=lambda e: (e.recorded_at, e.id))
    return severe_pain_finding(
        plan.procedure_date, clinic.severe_pain_threshold, entry, entry.recorded_at
    )


def _current_window(windows: list[Window], today: date) -> Window | None:
    # A window is "current" only while it includes today or one of the two days before.
    if windows and windows[-1].end >= today - timedelta(days=2):
        return windows[-1]
    return None


def find_worsening(
    plan: CarePlan, clinic: Clinic, evidence: Evidence, today: date
) -> Finding | None:
    # The baseline counts from day 0 on (SPEC section 6): a score recorded before the
    # procedure is in neither the lowest nor the current 3-day mean.
    since_procedure = [e for e in evidence.pain if e.local_day >= plan.procedure_date]
    summaries = daily_summaries(since_procedure, plan.procedure_date)
    windows = three_day_windows(summaries)
    current = _current_window(windows, today)
    earlier = [w for w in windows if current is not None and w.end < current.end]
    if current is None or not earlier:
        return None
    since = evidence.last_resolved(WORSENING)
    window_start = current.end - timedelta(days=2)
    if not any(
        window_start <= e.local_day <= current.end and _after(e.recorded_at, since)
        for e in effective_entries(evidence.pain)
    ):
        return None
    lowest = min(earlier, key=lambda w: (w.mean, w.end))
    rise = round(current.mean - lowest.mean, 2)
    by_points = rise >= clinic.worsening_points
    by_percent = (
        lowest.mean > 0
        and rise >= WORSENING_PERCENT_MIN_POINTS
        and current.mean >= WORSENING_PERCENT_MIN_MEAN
        and rise * 100 / lowest.mean >= clinic.worsening_percent
    )
    if not (by_points or by_percent):
        return None
    return Finding(
        WORSENING,
        URGENCY[WORSENING],
        f"3-day mean pain {current.mean:g}, up {rise:g} from its lowest {lowest.mean:g} "
        f"(day {(lowest.end - plan.procedure_date).days})",
        {
            "current_mean": current.mean,
            "current_end": current.end.isoformat(),
            "lowest_mean": lowest.mean,
            "lowest_end": lowest.end.isoformat(),
            "rise": rise,
        },
    )


def find_not_improving(
    plan: CarePlan, clinic: Clinic, evidence: Evidence, today: date
) -> Finding | None:
    # A checkpoint, not a running condition: asked once per plan, at or after the day set.
    if any(a.rule == NOT_IMPROVING for a in evidence.alerts):
        return None
    if (today - plan.procedure_date).days < clinic.not_improving_day:
        return None
    summaries = daily_summaries(evidence.pain, plan.procedure_date)
    current = _current_window(three_day_windows(summaries), today)
    if current is None or (current.end - plan.procedure_date).days < clinic.not_improving_day:
        return None
    if current.mean < clinic.not_improving_mean:
        return None
    return Finding(
        NOT_IMPROVING,
        URGENCY[NOT_IMPROVING],
        f"3-day mean pain still {current.mean:g} at day {(today - plan.procedure_date).days}",
        {"current_mean": current.mean, "current_end": current.end.isoformat()},
    )


def find_missed_checkin(
    plan: CarePlan, clinic: Clinic, evidence: Evidence, today: date
) -> Finding | None:
    days_needed = clinic.missed_checkin_days
    if days_needed < 1:
        return None
    # Only whole local days that have ended count, and only days the patient was enrolled
    # for: a patient enrolled today for last week's procedure has missed nothing.
    first = max(plan.procedure_date, local_day(plan.created_at, plan.timezone))
    for since in (evidence.last_resolved(MISSED_CHECKIN), evidence.resumed_at):
        if since is not None:
            first = max(first, local_day(since, plan.timezone) + timedelta(days=1))
    missed = [today - timedelta(days=k) for k in range(1, days_needed + 1)]
    if missed[-1] < first or missed[0] > plan_last_day(plan):
        return None
    active_days = (
        evidence.checkoff_days
        | {e.local_day for e in evidence.pain}
        | {r.local_day for r in evidence.reports}
    )
    # A patient who has checked in today is not missing, whatever the days before held.
    if any(day in active_days for day in (today, *missed)):
        return None
    before = [d for d in active_days if d < today]
    last = max(before) if before else None
    return Finding(
        MISSED_CHECKIN,
        URGENCY[MISSED_CHECKIN],
        f"No check-in for {days_needed} days"
        + (f" (last on {day_text(last)})" if last else " (none since enrolment)"),
        {"days": days_needed, "last_checkin": last.isoformat() if last else None},
    )


def findings(plan: CarePlan, clinic: Clinic, evidence: Evidence, now: datetime) -> list[Finding]:
    """Every rule's verdict for ``plan`` at ``now`` (pure: reads nothing from the database)."""
    today = local_day(now, plan.timezone)
    candidates = (
        find_red_flag(plan, evidence),
        find_severe_pain(plan, clinic, evidence, today),
        find_worsening(plan, clinic, evidence, today),
        find_not_improving(plan, clinic, evidence, today),
        find_missed_checkin(plan, clinic, evidence, today) if plan.status == "active" else None,
    )
    return [f for f in candidates if f is not None]


def _load_evidence(session: Session, plan_ids: Select) -> dict[int, Evidence]:
    """Five queries whatever the number of plans; ``plan_ids`` selects the plans' ids."""
    evidence: dict[int, Evidence] = defaultdict(Evidence)
    # Plain rows with the attributes the rules read, not ORM objects: this runs on every
    # pain score posted and, for every active plan, on every tick.
    for entry in session.execute(select(*PAIN_ROW_COLUMNS).where(PainEntry.plan_id.in_(plan_ids))):
        evidence[entry.plan_id].pain.append(entry)  # type: ignore[arg-type]
    for report in session.scalars(select(SymptomReport).where(SymptomReport.plan_id.in_(plan_ids))):
        evidence[report.plan_id].reports.append(report)
    for plan_id, day in session.execute(
        select(CheckOff.plan_id, CheckOff.local_day)
        .where(CheckOff.plan_id.in_(plan_ids))
        .distinct()
    ):
        evidence[plan_id].checkoff_days.add(day)
    for alert in session.scalars(select(Alert).where(Alert.plan_id.in_(plan_ids))):
        evidence[alert.plan_id].alerts.append(alert)
    # Status changes are the adjustments without an activity key (plan_adjustments.py).
    for adjustment in session.scalars(
        select(PlanAdjustment).where(
            PlanAdjustment.plan_id.in_(plan_ids), PlanAdjustment.activity_key.is_(None)
        )
    ):
        change = (adjustment.change or {}).get("status") or {}
        plan_evidence = evidence[adjustment.plan_id]
        if change.get("to") == "active" and (
            plan_evidence.resumed_at is None or adjustment.created_at > plan_evidence.resumed_at
        ):
            plan_evidence.resumed_at = adjustment.created_at
    return evidence


# --- Newer evidence on an open alert -------------------------------------------------------
# De-duplication (one unresolved alert per rule) must never swallow newer, worse evidence
# (SPEC section 6): the open alert takes the new evidence, a more urgent finding raises its
# urgency, and worse evidence re-opens an acknowledged alert and starts a new paging round.
# Each change is a step in the alert's history.


def _merge_red_flag(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    if new.get("symptom_report_id") == old.get("symptom_report_id"):
        return old, False
    before = set(old.get("signs") or [])
    signs = sorted(before | set(new.get("signs") or []))
    severity = (
        "call_911" if "call_911" in (old.get("severity"), new.get("severity")) else "call_team"
    )
    reports = [*(old.get("report_ids") or [old.get("symptom_report_id")]), new["symptom_report_id"]]
    merged = {
        **old,
        "symptom_report_id": new["symptom_report_id"],
        "severity": severity,
        "signs": signs,
        "latest_signs": new.get("signs") or [],
        "report_ids": [r for r in reports if r is not None],
        "recorded_at": new.get("recorded_at"),
    }
    worse = bool(set(signs) - before) or severity != old.get("severity")
    return merged, worse


def _red_flag_summary(detail: dict[str, Any], finding: Finding) -> str:
    latest = detail.get("latest_signs") or detail.get("signs") or []
    earlier = [s for s in detail.get("signs") or [] if s not in latest]
    summary = finding.summary
    if earlier:
        summary += f"; earlier: {_sign_words(earlier)}"
    return summary


def _merge_severe(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    latest = new["latest"]
    if latest["id"] in (old.get("pain_entry_id"), (old.get("latest") or {}).get("id")):
        return old, False
    before = old.get("latest") or {}
    if before.get("at") and latest["at"] < before["at"]:
        return old, False  # an older score than the one shown: nothing newer to say
    highest = old.get("highest") or {
        "id": old.get("pain_entry_id"),
        "score": old.get("score"),
        "day": None,
        "at": None,
    }
    worse = latest["score"] > (highest.get("score") or 0)
    merged = {
        **old,
        "pain_entry_id": latest["id"],
        "score": latest["score"],
        "latest": latest,
        "highest": latest if worse else highest,
    }
    return merged, worse


def _severe_summary(detail: dict[str, Any], finding: Finding) -> str:
    highest = detail.get("highest") or {}
    summary = finding.summary
    if highest.get("id") != detail["latest"]["id"] and highest.get("score") is not None:
        day = f" on day {highest['day']}" if highest.get("day") is not None else ""
        summary += f"; highest {highest['score']}/10{day}"
    return summary


def _merge(
    session: Session,
    plan: PlanFacts,
    clinic: Clinic | None,
    alert: Alert,
    finding: Finding,
    now: datetime,
) -> Alert | None:
    """Bring ``alert`` (unresolved, same rule) up to ``finding``; the alert, or None when it
    was resolved meanwhile (the caller raises a new one)."""
    old = dict(alert.detail or {})
    if finding.rule == RED_FLAG:
        detail, worse = _merge_red_flag(old, finding.detail)
        summary = _red_flag_summary(detail, finding) if detail is not old else alert.summary
    elif finding.rule == SEVERE_PAIN:
        detail, worse = _merge_severe(old, finding.detail)
        summary = _severe_summary(detail, finding) if detail is not old else alert.summary
    elif finding.rule == WORSENING:
        same = (old.get("current_mean"), old.get("current_end")) == (
            finding.detail["current_mean"],
            finding.detail["current_end"],
        )
        detail = old if same else {**old, **finding.detail}
        summary = alert.summary if same else finding.summary
        # A further rise by the clinic's own threshold is news even after someone looked.
        points = clinic.worsening_points if clinic is not None else 2.0
        worse = not same and (
            finding.detail["current_mean"] - float(old.get("current_mean") or 0) >= points
        )
    else:
        return alert  # a checkpoint or a standing condition: nothing newer to show
    more_urgent = URGENCY_RANK[finding.urgency] < URGENCY_RANK.get(alert.urgency, 9)
    if detail is old and not more_urgent:
        return alert
    worse = worse or more_urgent
    values: dict[str, Any] = {"detail": detail, "summary": summary[:500], "updated_at": now}
    if more_urgent:
        values["urgency"] = finding.urgency
    reopen = worse and alert.status == "acknowledged"
    if reopen:
        values.update(status="open", acknowledged_at=None, acknowledged_by_id=None)
    if worse:
        # A new paging round: whoever is on call hears of the worse evidence, from the top.
        values.update(page_round=alert.page_round + 1, escalation_level=0, next_escalation_at=None)
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status != "resolved")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    session.expire(alert)
    kind = "escalated" if more_urgent else "reopened" if reopen else "updated"
    record_event(
        session,
        alert_id=alert.id,
        kind=kind,
        summary=summary,
        now=now,
        detail={
            "urgency": finding.urgency if more_urgent else None,
            "reopened": reopen,
            "evidence": finding.detail,
        },
    )
    return alert


def _raise_or_merge(
    session: Session,
    plan: PlanFacts,
    clinic: Clinic | None,
    finding: Finding,
    now: datetime,
    existing: Alert | None,
) -> tuple[Alert, bool]:
    """The plan's unresolved alert for ``finding``'s rule, raised or brought up to date;
    and whether it was newly raised."""
    if existing is not None:
        merged = _merge(session, plan, clinic, existing, finding, now)
        if merged is not None:
            return merged, False
    alert = raise_alert(
        session,
        plan=plan,  # type: ignore[arg-type]
        rule=finding.rule,
        urgency=finding.urgency,
        summary=finding.summary,
        now=now,
        detail=finding.detail,
    )
    if alert.raised_at != now:  # lost a race to another writer: bring theirs up to date
        return _merge(session, plan, clinic, alert, finding, now) or alert, False
    return alert, True


def raise_red_flag(
    session: Session, *, plan: PlanFacts | CarePlan, report: SymptomReport, now: datetime
) -> Alert:
    """Raise the red-flag alert for ``report`` (stored, with at least one "yes"), or bring
    the plan's open one up to it: a 911 answer after a "call the care team" one makes the
    alert critical and re-opens it; the new signs are shown either way."""
    finding = red_flag_finding(plan, report)
    existing = session.scalar(
        select(Alert)
        .where(Alert.plan_id == plan.id, Alert.rule == RED_FLAG, Alert.status != "resolved")
        .with_for_update()
    )
    alert, _ = _raise_or_merge(session, plan, None, finding, now, existing)
    return alert


def _checked_in_again(plan: CarePlan, alert: Alert, evidence: Evidence) -> date | None:
    """The first local day, from the day a "no check-in" alert was raised, on which the
    patient recorded anything; None if they have not."""
    since = local_day(alert.raised_at, plan.timezone)
    days = (
        evidence.checkoff_days
        | {e.local_day for e in evidence.pain}
        | {r.local_day for r in evidence.reports}
    )
    later = [d for d in days if d >= since]
    return min(later) if later else None


def _clear_missed_checkin(session: Session, alert: Alert, day: date, now: datetime) -> bool:
    """A "no check-in" alert whose patient checked in again is resolved by the system,
    with that reason; other alerts wait for a person."""
    note = f"Resolved automatically: the patient checked in again on {day_text(day)}."
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status != "resolved")
        .values(
            status="resolved",
            resolved_at=now,
            resolved_by_id=None,
            resolution_note=note,
            next_escalation_at=None,
            detail={**(alert.detail or {}), "checked_in_again": day.isoformat()},
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.expire(alert)
    record_event(
        session,
        alert_id=alert.id,
        kind="auto_resolved",
        summary=note,
        now=now,
        detail={"checked_in_again": day.isoformat()},
    )
    return True


def _apply(session: Session, plan: CarePlan, evidence: Evidence, now: datetime) -> list[Alert]:
    raised = []
    unresolved = {a.rule: a for a in evidence.alerts if a.status != "resolved"}
    for finding in findings(plan, plan.clinic, evidence, now):
        alert, new = _raise_or_merge(
            session, plan, plan.clinic, finding, now, unresolved.get(finding.rule)
        )
        if new:
            raised.append(alert)
    missed = unresolved.get(MISSED_CHECKIN)
    if missed is not None:
        day = _checked_in_again(plan, missed, evidence)
        if day is not None:
            _clear_missed_checkin(session, missed, day, now)
    return raised


def evaluate_plan(session: Session, plan: CarePlan, now: datetime) -> list[Alert]:
    """Evaluate every alert rule for one plan at ``now``; return the alerts newly raised
    (alerts already open are brought up to date with newer evidence).

    Call it after recording what a patient did (e.g. a pain score) so the care team sees it
    at once. Paused and ended plans are evaluated too, without the "no check-in" rule.
    Adds to ``session``; the caller commits.
    """
    evidence = _load_evidence(session, select(CarePlan.id).where(CarePlan.id == plan.id))
    return _apply(session, plan, evidence[plan.id], now)


def evaluate_active_plans(
    session: Session,
    now: datetime,
    *,
    clinic_id: int | None = None,
    plan_ids: Sequence[int] | None = None,
    statuses: Sequence[str] = ("active",),
) -> list[Alert]:
    """Evaluate every plan in ``statuses`` (of one clinic, or of all clinics); return new
    alerts.

    Six queries load everything whatever the number of plans, then one insert per new alert.
    Meant for the scheduler's tick (time-based rules such as a missed check-in need a clock,
    not a patient action), which passes ``plan_ids`` in batches so memory stays flat however
    many patients there are. Adds to ``session``; the caller commits.
    """
    active = select(CarePlan.id).where(CarePlan.status.in_(list(statuses)))
    if clinic_id is not None:
        active = active.where(CarePlan.clinic_id == clinic_id)
    if plan_ids is not None:
        active = active.where(CarePlan.id.in_(list(plan_ids)))
    plans = session.scalars(
        select(CarePlan)
        # The rules never read a plan's activities: parsing that JSON for every active
        # plan on every tick cost more than the rules themselves.
        .options(joinedload(CarePlan.clinic), defer(CarePlan.activities))
        .where(CarePlan.id.in_(active))
        .order_by(CarePlan.id)
    ).all()
    evidence = _load_evidence(session, active)
    raised: list[Alert] = []
    for plan in plans:
        raised.extend(_apply(session, plan, evidence[plan.id], now))
    return raised


# --- When the rules run ---------------------------------------------------------------------
# Only what a new pain score can make urgent by itself is decided in the request that records
# it: a score at or above the clinic's threshold raises severe pain at once (red flags are
# raised by the symptom report itself, warning_signs in patient_views.py). Everything else is
# decided by the scheduler's tick, for the plans that are *due*: ``CarePlan.alerts_due_at``
# is set to "now" by every write that adds evidence the rules read (``mark_due``), and after
# each evaluation to the plan's next local day, when the time-based rules (missed check-in,
# not improving) can newly become true. No other rule can become true with time alone, so a
# plan nobody touched is evaluated once a day instead of every minute, and worsening pain
# reaches the triage list at the first tick after the score (within about a minute).

# The daily evaluations of one local midnight are spread over this many minutes (by plan
# id), so a large clinic's midnight does not become one tick longer than the interval.
DAILY_SPREAD_MINUTES = 60


_MARK_DUE = (
    update(CarePlan.__table__)
    .where(CarePlan.__table__.c.id == bindparam("plan"))
    .values(alerts_due_at=bindparam("due", type_=UTCDateTime()))
)


def mark_due(session: Session, plan_id: int, now: datetime) -> None:
    """The plan has new evidence: the next tick evaluates its rules (one UPDATE)."""
    session.connection().execute(_MARK_DUE, {"plan": plan_id, "due": now})


def mark_clinic_due(session: Session, clinic_id: int, now: datetime) -> None:
    """The clinic's thresholds changed: the next tick evaluates all its active plans."""
    table = CarePlan.__table__
    # The rows are locked in id order first (PostgreSQL; SQLite has one writer), as the
    # tick's batches take them, so the two cannot deadlock over a clinic's plans.
    plans = (
        select(table.c.id)
        .where(table.c.clinic_id == clinic_id, table.c.status == "active")
        .order_by(table.c.id)
        .with_for_update()
    )
    session.execute(
        update(table)
        .where(table.c.id.in_(plans.scalar_subquery()))
        .values(alerts_due_at=now)
        .execution_options(synchronize_session=False)
    )


def next_daily_evaluation(plan_id: int, tz_name: str, now: datetime) -> datetime:
    """When a plan evaluated at ``now`` is next due without new evidence: its next local
    day, a few minutes in (spread by plan id)."""
    tomorrow = local_day(now, tz_name) + timedelta(days=1)
    return start_of_local_day_utc(tomorrow, tz_name) + timedelta(
        minutes=plan_id % DAILY_SPREAD_MINUTES
    )


def raise_severe_pain_now(
    session: Session,
    *,
    plan: PlanFacts,
    threshold: int,
    entry: PainEntry | PainScore,
    now: datetime,
) -> int | None:
    """Raise severe pain for the score just recorded (``entry``), if it is severe; return
    the id of the plan's unresolved severe-pain alert (new or brought up to date), or None
    below the threshold.

    Nothing is read and nothing is written below the threshold. At or above it, one
    INSERT that does nothing when the plan already has an unresolved severe-pain alert
    (the partial unique index); then that alert shows this score as the latest (and the
    highest, if it is), and a higher score re-opens it if someone had acknowledged it.
    Plans that are paused or ended are no exception: a patient in pain is still heard.
    """
    finding = severe_pain_finding(plan.procedure_date, threshold, entry, now)
    if finding is None:
        return None
    values = {
        "clinic_id": plan.clinic_id,
        "patient_id": plan.patient_id,
        "plan_id": plan.id,
        "rule": finding.rule,
        "urgency": finding.urgency,
        "status": "open",
        "summary": finding.summary[:500],
        "detail": finding.detail,
        "raised_at": now,
        "page_round": 0,
        "escalation_level": 0,
    }
    connection = session.connection()
    new_id = connection.execute(
        _insert_alert_if_none_open(connection.dialect.name), values
    ).scalar()
    if new_id is not None:
        record_event(session, alert_id=new_id, kind="raised", summary=finding.summary, now=now)
        return new_id
    existing = session.scalar(
        select(Alert)
        .where(Alert.plan_id == plan.id, Alert.rule == SEVERE_PAIN, Alert.status != "resolved")
        .with_for_update()
    )
    alert, _ = _raise_or_merge(session, plan, None, finding, now, existing)
    return alert.id


def note_correction(
    session: Session,
    *,
    plan_id: int,
    original: PainEntry,
    replacement: PainEntry,
    now: datetime,
) -> list[int]:
    """Show on every unresolved alert that cites ``original`` that the patient corrected
    it, from what to what and when (SPEC section 6); the alert stays for a person to
    resolve. Returns the ids of the alerts marked."""
    marked = []
    for alert in session.scalars(
        select(Alert).where(Alert.plan_id == plan_id, Alert.status != "resolved")
    ):
        detail = dict(alert.detail or {})
        cited = {
            detail.get("pain_entry_id"),
            (detail.get("latest") or {}).get("id"),
            (detail.get("highest") or {}).get("id"),
        }
        if original.id not in cited:
            continue
        correction = {
            "entry_id": original.id,
            "replacement_id": replacement.id,
            "from": original.score,
            "to": replacement.score,
            "at": now.isoformat(),
        }
        detail["corrections"] = [*(detail.get("corrections") or []), correction]
        words = f"Score corrected by the patient: {original.score} -> {replacement.score}"
        session.execute(
            update(Alert)
            .where(Alert.id == alert.id, Alert.status != "resolved")
            .values(detail=detail, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        session.expire(alert)
        record_event(
            session,
            alert_id=alert.id,
            kind="corrected",
            summary=words,
            now=now,
            detail=correction,
        )
        marked.append(alert.id)
    return marked


@cache
def _insert_alert_if_none_open(dialect: str) -> Any:
    """Built once per database kind (it runs for every severe score posted): the partial
    unique index on unresolved alerts turns a second one into nothing (and returns no id)."""
    return insert_or_ignore_on(dialect, Alert.__table__).returning(Alert.__table__.c.id)


def _set_next_due(session: Session, rows: list[tuple[int, datetime | None, datetime]]) -> None:
    """For each (plan id, value read, next due): set the plan's ``alerts_due_at`` to next due
    if it still holds the value read. PostgreSQL: one UPDATE ... FROM (VALUES ...) for the
    batch (an executemany would be a round trip per plan); SQLite: an executemany."""
    table = CarePlan.__table__
    if session.get_bind().dialect.name == "postgresql":
        # Lock the batch's rows in id order first, as mark_clinic_due does: an UPDATE ...
        # FROM takes them in whatever order its join runs.
        session.execute(
            select(table.c.id)
            .where(table.c.id.in_([plan for plan, _, _ in rows]))
            .order_by(table.c.id)
            .with_for_update()
        ).all()
        batch = values(
            column("plan", Integer),
            column("seen", UTCDateTime()),
            column("due", UTCDateTime()),
            name="batch",
        ).data(rows)
        session.execute(
            update(table)
            .where(
                table.c.id == batch.c.plan,
                # A VALUES column holding NULLs is untyped (text) without a cast.
                table.c.alerts_due_at.is_not_distinct_from(cast(batch.c.seen, UTCDateTime())),
            )
            .values(alerts_due_at=cast(batch.c.due, UTCDateTime()))
        )
        return
    session.execute(
        update(table)
        .where(
            table.c.id == bindparam("plan"),
            table.c.alerts_due_at.is_not_distinct_from(bindparam("seen", type_=UTCDateTime())),
        )
        .values(alerts_due_at=bindparam("due", type_=UTCDateTime())),
        [{"plan": plan, "seen": seen, "due": due} for plan, seen, due in rows],
    )


def due_plan_ids(session: Session, now: datetime, *, where: Any = None) -> list[int]:
    """The ids of the active plans due for evaluation at ``now``, ascending; with
    ``where``, a condition on ``care_plan``'s columns, only those that meet it (a
    scheduler's shards of plans: scheduler/shards.py).

    Read through ``ix_care_plan_alerts_due``, so a tick in which few plans are due reads few
    index entries, however many plans there are. Neither query orders by id: with an
    ``ORDER BY id`` (and a LIMIT), both databases walked every plan in id order instead,
    about 1.3 µs per active plan per tick. Plans never evaluated (``alerts_due_at`` null,
    as enrolment leaves it) are looked up apart, for the same reason; there are few of them
    at any time, as the next tick evaluates them.
    """
    table = CarePlan.__table__
    active = table.c.status == "active"
    connection = session.connection()
    # Paused and ended plans are due only when new evidence arrives (their ``alerts_due_at``
    # is cleared after each evaluation); the IN on the index's leading column keeps this an
    # index range scan.
    due_query = select(table.c.id).where(
        table.c.status.in_(EVALUATED_STATUSES), table.c.alerts_due_at <= now
    )
    never_query = select(table.c.id).where(active, table.c.alerts_due_at.is_(None))
    if where is not None:
        due_query, never_query = due_query.where(where), never_query.where(where)
    due = connection.execute(due_query)
    never = connection.execute(never_query)
    return sorted({*due.scalars(), *never.scalars()})


def evaluate_due_plans(
    session: Session, now: datetime, *, plan_ids: Sequence[int] | None = None
) -> tuple[list[Alert], list[int]]:
    """Evaluate the plans ``plan_ids`` (a batch of ``due_plan_ids``; all due plans when
    None) that are still active and due, for the tick.

    Returns the alerts raised and the ids of the plans evaluated (none: no plan was due). Each
    evaluated plan is then due again on its next local day, unless new evidence arrived
    meanwhile: the UPDATE only applies if ``alerts_due_at`` still holds the value read
    before the evidence, so a score recorded during the evaluation is evaluated next tick.
    Adds to ``session``; the caller commits.
    """
    ids = due_plan_ids(session, now) if plan_ids is None else list(plan_ids)
    if not ids:
        return [], []
    # Read again in this transaction: another scheduler process may have evaluated some.
    due = session.execute(
        select(CarePlan.id, CarePlan.timezone, CarePlan.status, CarePlan.alerts_due_at)
        .where(
            CarePlan.id.in_(ids),
            or_(
                and_(CarePlan.status == "active", CarePlan.alerts_due_at.is_(None)),
                and_(CarePlan.status.in_(EVALUATED_STATUSES), CarePlan.alerts_due_at <= now),
            ),
        )
        .order_by(CarePlan.id)
    ).all()
    if not due:
        return [], []
    raised = evaluate_active_plans(
        session, now, plan_ids=[row.id for row in due], statuses=EVALUATED_STATUSES
    )
    _set_next_due(
        session,
        [
            (
                row.id,
                row.alerts_due_at,
                # Only a running plan has rules that time alone can make true.
                next_daily_evaluation(row.id, row.timezone, now)
                if row.status == "active"
                else None,
            )
            for row in due
        ],
    )
    return raised, [row.id for row in due]
