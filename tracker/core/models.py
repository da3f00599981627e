"""Tables. Only what people *did* is stored; what is due on a day is computed (see agenda.py)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from tracker.core.db import Base, UTCDateTime
from tracker.core.phones import E164_MAX_LENGTH, sms_number

PROCEDURES = ("kyphoplasty", "vertebroplasty")
PLAN_STATUSES = ("active", "paused", "ended")
ROLES = ("coordinator", "admin")
PAIN_CONTEXTS = ("rest", "activity")
SYMPTOM_SEVERITIES = ("none", "call_team", "call_911")
REMINDER_KINDS = ("daily", "appointment", "nudge")
REMINDER_CHANNELS = ("email", "webhook", "log")
REMINDER_STATUSES = ("pending", "sent", "dead")
# An SMS gateway's delivery reports (SPEC section 6, "Text messages"), in order.
GATEWAY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
# "critical": a sign that calls for 911 (SPEC section 2); above "urgent" (call the care team
# today), so a 911 answer raises an open red-flag alert's urgency (SPEC section 6).
ALERT_URGENCIES = ("critical", "urgent", "high", "normal")
PAGE_CHANNELS = ("email", "webhook", "log")
ACTOR_TYPES = ("user", "patient", "caregiver", "system")
PAGE_STATUSES = ("pending", "sent", "dead")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Monday to Friday, 08:00 to 17:00 in the clinic's zone, until the clinic sets its own.
DEFAULT_OFFICE_HOURS: dict[str, list[str]] = {day: ["08:00", "17:00"] for day in WEEKDAYS[:5]}
NOTE_MAX_LENGTH = 500
# The languages a patient's pages, texts and clinical content come in (docs/languages.md).
LANGUAGES = ("en", "es")
# What a caregiver may do on the patient's pages (SPEC section 6, "Caregivers"): read them,
# or also record scores, check-offs and answers on the patient's behalf (attributed to them).
CAREGIVER_SCOPES = ("view", "act")
# Who gave the patient's consent to add a caregiver: the patient themselves on their own
# pages, or the patient to a member of the care team, who recorded it.
CAREGIVER_CONSENTS = ("patient", "recorded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Clinic(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    phone: Mapped[str] = mapped_column(String(40))
    after_hours_phone: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # Alert thresholds (SPEC section 2); each clinic may tune them.
    severe_pain_threshold: Mapped[int] = mapped_column(Integer, default=7)
    worsening_points: Mapped[float] = mapped_column(Float, default=2.0)
    worsening_percent: Mapped[int] = mapped_column(Integer, default=30)
    not_improving_mean: Mapped[float] = mapped_column(Float, default=4.0)
    not_improving_day: Mapped[int] = mapped_column(Integer, default=14)
    missed_checkin_days: Mapped[int] = mapped_column(Integer, default=2)
    # The no-driving-on-opioids rule ends after this many days in a row of "no" to the daily
    # opioid check-in (opioid_rules.py).
    opioid_free_days_before_driving: Mapped[int] = mapped_column(Integer, default=1)
    # Reminder delivery: the channel used when a patient has no email address.
    default_channel: Mapped[str] = mapped_column(String(20), default="log")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Escalation (SPEC section 6). Office hours in the clinic's zone, by weekday key
    # ("mon".."sun") -> ["HH:MM", "HH:MM"]; a day not listed is closed (office_hours.py).
    office_hours: Mapped[dict[str, list[str]]] = mapped_column(
        JSON, default=lambda: dict(DEFAULT_OFFICE_HOURS)
    )
    # An unacknowledged page is passed to the next on-call contact after this many minutes.
    escalation_delay_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # Urgent and critical alerts page out of hours; "high" ones (severe or worsening pain)
    # only when the clinic chooses.
    page_high_alerts: Mapped[bool] = mapped_column(default=False)
    # What a patient is told to do after a severe pain score; None: the default from
    # schedules/checks/severe_pain.yaml. A clinic's own text names its own source.
    severe_pain_guidance: Mapped[str | None] = mapped_column(Text)
    severe_pain_guidance_source: Mapped[str | None] = mapped_column(String(300))
    # Two-way texts (tracker/texting): no text goes out to a patient between these wall
    # times in the patient's zone (start inclusive, end exclusive; across midnight when start
    # is later than end), except replies to the patient's own texts. NULL: no quiet hours.
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)

    on_call: Mapped[list[OnCallContact]] = relationship(
        order_by="(OnCallContact.position, OnCallContact.id)",
        primaryjoin="and_(OnCallContact.clinic_id == Clinic.id, OnCallContact.active)",
        viewonly=True,
    )

    __table_args__ = (
        CheckConstraint(_in("default_channel", REMINDER_CHANNELS), name="channel"),
        CheckConstraint("escalation_delay_minutes >= 1", name="escalation_delay"),
        CheckConstraint("opioid_free_days_before_driving >= 1", name="opioid_free_days"),
        CheckConstraint(
            "(quiet_hours_start IS NULL AND quiet_hours_end IS NULL) OR "
            "(quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL "
            "AND quiet_hours_start <> quiet_hours_end)",
            name="quiet_hours",
        ),
    )


class OnCallContact(Base):
    """One step of a clinic's escalation list: who is paged, in ``position`` order."""

    __tablename__ = "on_call_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # email: an address; webhook: a phone number for the SMS gateway; log: a label.
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint(_in("channel", PAGE_CHANNELS), name="channel"),)


class User(Base):
    """A care coordinator or clinic admin; always scoped to one clinic."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="coordinator")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped on sign-out or password change so that copied session cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic: Mapped[Clinic] = relationship()

    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # ``phone`` as an SMS gateway writes it (E.164, phones.py), kept in step by ``_phone``:
    # an incoming text is matched to a patient by it. NULL: the phone cannot be texted.
    sms_number: Mapped[str | None] = mapped_column(String(E164_MAX_LENGTH), index=True)
    # Bumped when the personal link is revoked or rotated, ending existing sessions.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    # The language of their pages, reminders, texts and printable card (LANGUAGES).
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    clinic: Mapped[Clinic] = relationship()
    plans: Mapped[list[CarePlan]] = relationship(back_populates="patient", order_by="CarePlan.id")
    caregivers: Mapped[list[Caregiver]] = relationship(
        back_populates="patient", order_by="Caregiver.id"
    )

    __table_args__ = (CheckConstraint(_in("language", LANGUAGES), name="language"),)

    @validates("phone")
    def _phone(self, _key: str, value: str | None) -> str | None:
        self.sms_number = sms_number(value)
        return value


class Caregiver(Base):
    """Someone who does the recovery with the patient: a spouse, a daughter, a friend.

    They sign in with their own personal link, under their own identity (SPEC section 6,
    "Caregivers"): what they record carries their id (``entered_by_caregiver_id``), and
    ``scope`` says whether they may record at all. Removing one (``removed_at``) ends their
    links and sessions at once; the row stays, so what they entered keeps its author.
    """

    __tablename__ = "caregiver"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    name: Mapped[str] = mapped_column(String(200))
    # In the patient's words: "daughter", "husband", "neighbour".
    relation: Mapped[str] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # ``phone`` as E.164 (as on Patient): their texts are matched to them by it.
    sms_number: Mapped[str | None] = mapped_column(String(E164_MAX_LENGTH), index=True)
    scope: Mapped[str] = mapped_column(String(10), default="view")
    language: Mapped[str] = mapped_column(String(10), default="en")
    # Their daily reminder (with the red-flag instructions) by this channel; NULL: none.
    reminder_channel: Mapped[str | None] = mapped_column(String(20))
    consent: Mapped[str] = mapped_column(String(20))
    consent_note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Bumped when their links are revoked or their scope changes, ending their sessions.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    patient: Mapped[Patient] = relationship(back_populates="caregivers")

    __table_args__ = (
        CheckConstraint(_in("scope", CAREGIVER_SCOPES), name="scope"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(_in("consent", CAREGIVER_CONSENTS), name="consent"),
        CheckConstraint(
            f"reminder_channel IS NULL OR {_in('reminder_channel', REMINDER_CHANNELS)}",
            name="reminder_channel",
        ),
        # Consent the care team recorded says who recorded it.
        CheckConstraint(
            "consent <> 'recorded' OR added_by_user_id IS NOT NULL", name="consent_recorder"
        ),
    )

    @validates("phone")
    def _phone(self, _key: str, value: str | None) -> str | None:
        self.sms_number = sms_number(value)
        return value

    @property
    def label(self) -> str:
        """ "Ana Ruiz (daughter)": how the care team sees who entered something."""
        return f"{self.name} ({self.relation})"


class CarePlan(Base):
    """A plan template instantiated for one patient's procedure.

    Keeps its own copy of the activities so that later template edits never change
    a running plan. Days are the patient's local calendar days in ``timezone``.
    """

    __tablename__ = "care_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    procedure: Mapped[str] = mapped_column(String(30))
    procedure_date: Mapped[date] = mapped_column(Date)
    levels: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    reminder_time: Mapped[time] = mapped_column(Time)
    duration_days: Mapped[int] = mapped_column(Integer)
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Per-patient adjustments keyed by activity key, e.g.
    # {"followup_first": {"date": "2026-12-03"}, "no_heavy_lifting": {"end_day": 55}}.
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the scheduler's tick must next evaluate this plan's alert rules (alerts.py):
    # set to "now" by whatever adds evidence the rules read, and after each evaluation to
    # the plan's next local day. NULL: never evaluated yet, so due.
    alerts_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    patient: Mapped[Patient] = relationship(back_populates="plans")
    clinic: Mapped[Clinic] = relationship()

    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint(_in("procedure", PROCEDURES), name="procedure"),
        Index("ix_care_plan_clinic_status", "clinic_id", "status"),
        Index("ix_care_plan_alerts_due", "status", "alerts_due_at"),
        # PostgreSQL: the activities' JSON is kept out of the row, so the scheduler's read of
        # every active plan stays narrow (migration 0109_care_plan_narrow_rows).
        {"postgresql_with": {"toast_tuple_target": 128}},
    )


class PlanAdjustment(Base):
    """Who changed a running plan, when, and how (the change is applied to overrides)."""

    __tablename__ = "plan_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    activity_key: Mapped[str | None] = mapped_column(String(100))
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckOff(Base):
    """The patient did activity ``activity_key`` on local day ``local_day``."""

    __tablename__ = "check_off"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    activity_key: Mapped[str] = mapped_column(String(100))
    local_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # NULL: the patient; else the caregiver who recorded it on the patient's behalf.
    entered_by_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))

    __table_args__ = (UniqueConstraint("plan_id", "activity_key", "local_day"),)


class PainEntry(Base):
    """A 0-10 numeric rating scale score. Never edited in place: a correction supersedes."""

    __tablename__ = "pain_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    score: Mapped[int] = mapped_column(Integer)
    context: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    local_day: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("pain_entry.id"))
    # NULL: the patient; else the caregiver who recorded it on the patient's behalf.
    entered_by_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))

    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
        CheckConstraint(f"context IS NULL OR {_in('context', PAIN_CONTEXTS)}", name="context"),
        Index("ix_pain_entry_plan_day", "plan_id", "local_day"),
        # A plan's latest score (triage), read backwards from the newest.
        Index("ix_pain_entry_plan_recorded", "plan_id", "recorded_at", "id"),
        # A row is corrected at most once; also serves the "superseded?" lookup.
        Index("uq_pain_entry_supersedes_id", "supersedes_id", unique=True),
    )


class SymptomReport(Base):
    """Answers to the warning-signs check, and the most serious advice they led to.

    Never edited in place, like ``PainEntry``.
    """

    __tablename__ = "symptom_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    local_day: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(20))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("symptom_report.id"))
    entered_by_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))

    __table_args__ = (
        CheckConstraint(_in("severity", SYMPTOM_SEVERITIES), name="severity"),
        Index("ix_symptom_report_plan_day", "plan_id", "local_day"),
        Index("uq_symptom_report_supersedes_id", "supersedes_id", unique=True),
    )


class OpioidCheck(Base):
    """An answer to "Are you taking opioid pain medicine today?" (opioid_rules.py).

    Never edited in place: a change the same day supersedes the day's current answer, and
    both are kept. A day's answers form one chain (one first answer a day, each answer
    superseded at most once), so a day has exactly one current answer.
    """

    __tablename__ = "opioid_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    local_day: Mapped[date] = mapped_column(Date)
    taking: Mapped[bool] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("opioid_check.id"))
    entered_by_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))

    __table_args__ = (
        Index("ix_opioid_check_plan_day", "plan_id", "local_day"),
        Index("uq_opioid_check_supersedes_id", "supersedes_id", unique=True),
        Index(
            "uq_opioid_check_first_of_day",
            "plan_id",
            "local_day",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
    )


class QuestionnaireResponse(Base):
    """A patient's answers to a function questionnaire at one time point (outcomes/).

    One row per plan, questionnaire and time point (days after the procedure): answering
    again within the time point's window replaces the answers, and an audit event keeps the
    previous ones. ``score`` is NULL when too many questions were left blank to score."""

    __tablename__ = "questionnaire_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    questionnaire_id: Mapped[str] = mapped_column(String(100))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    time_point_day: Mapped[int] = mapped_column(Integer)
    local_day: Mapped[date] = mapped_column(Date)
    # Item key -> option value; an unanswered item is absent.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_by_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))

    __table_args__ = (
        # One answer set per time point, even with two tabs sending at once.
        UniqueConstraint("plan_id", "questionnaire_id", "time_point_day"),
        CheckConstraint("answered >= 0", name="answered"),
    )


class PatientLinkToken(Base):
    """A personal sign-in link. Only the SHA-256 of the random token is stored."""

    __tablename__ = "patient_link_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL: the patient's own link; else a caregiver's (who signs in as themselves).
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PatientSession(Base):
    """A patient's signed-in browser (patient_session.py). The cookie carries a random id;
    only its SHA-256 is stored. Signing out sets ``ended_at``, so a copied cookie stops
    working; so does ``last_seen_at`` older than the idle limit, or ``created_at`` older
    than the absolute one (``TRACKER_PATIENT_IDLE_MINUTES``, ``_SESSION_HOURS``)."""

    __tablename__ = "patient_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # NULL: the patient signed in; else this caregiver did.
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxColumns:
    """What every outbox row has, and what the deliver steps' claim, finish and release read
    (reminder_delivery.py): a claim is a lease (``locked_until``/``locked_by``), so a worker
    that dies mid-send lets it lapse and another retries."""

    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reminder(OutboxColumns, Base):
    """The outbox: one row per message to send. The database is the queue."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    kind: Mapped[str] = mapped_column(String(20))
    local_day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # NULL: to the patient; else to this caregiver of theirs (their own copy of the day).
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))
    # What the SMS gateway last reported about a sent text (its status callbacks, in order
    # queued < sent < delivered; undelivered and failed are final and dead-letter the
    # reminder: tracker/reminders/sms_rules.py). NULL: no report (or not a text).
    gateway_status: Mapped[str | None] = mapped_column(String(20))
    gateway_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint(_in("channel", REMINDER_CHANNELS), name="channel"),
        CheckConstraint(_in("status", REMINDER_STATUSES), name="status"),
        CheckConstraint(
            f"gateway_status IS NULL OR {_in('gateway_status', GATEWAY_STATUSES)}",
            name="gateway_status",
        ),
        # Serves the deliver step's claim query: only pending rows are ever scanned.
        Index(
            "ix_reminder_pending_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


# One message a day of each kind by each channel to each person: the patient (no caregiver,
# counted as 0) and each caregiver. One index, not one partial index per kind of person: its
# leading (plan, kind, day) serves every read of a plan's reminders, which a partial index
# serves only when the query repeats its condition.
Index(
    "uq_reminder_day",
    Reminder.plan_id,
    Reminder.kind,
    Reminder.local_day,
    Reminder.channel,
    func.coalesce(Reminder.caregiver_id, 0),
    unique=True,
)


INCIDENT_KINDS = ("channel_down", "not_created")


class DeliveryIncident(Base):
    """One operator-facing incident about reminder delivery, instead of one alert per patient.

    ``channel_down``: a channel (the SMTP server, an SMS gateway's webhook) failed for
    several different recipients in a row; reminders are retried, not dead-lettered, until
    it answers again (``closed_at``). ``not_created``: reminders of past local days that no
    tick ever planned (no scheduler ran). See reminder_delivery.py and docs/operations.md.
    ``confirmed_at`` NULL means only suspected (too few failures yet): not shown.
    """

    __tablename__ = "delivery_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # What failed, e.g. "email", "webhook", "webhook:clinic-3", "scheduler".
    key: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    # NULL: deployment-wide (the SMTP server, the default webhook URL); else that clinic's.
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    # Where, without credentials: "smtp 10.0.0.5:25", "https://sms.example/hook".
    target: Mapped[str] = mapped_column(String(300))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Reminders concerned: failed during the outage, or never created.
    affected: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        CheckConstraint(_in("kind", INCIDENT_KINDS), name="kind"),
        # At most one open incident per failing thing, even with two schedulers racing.
        Index(
            "uq_delivery_incident_open",
            "key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_delivery_incident_closed_at", "closed_at"),
    )


class PlanningMark(Base):
    """Up to when the plan step last completed (the ``now`` of that tick), so the next one
    can tell which reminders of past local days no tick ever had the chance to plan."""

    __tablename__ = "planning_mark"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    planned_through: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """Something a coordinator should look at; open -> acknowledged -> resolved."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plan.id"))
    rule: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution_note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    # When the evidence shown last changed (a newer score, a worse answer, a correction).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Paging (paging.py): a round starts when the alert opens and again each time newer,
    # worse evidence re-opens it; ``escalation_level`` counts the pages queued in the
    # current round (0: none yet), and ``next_escalation_at`` is when the next contact is
    # due if nobody acknowledges (NULL: nothing pending).
    page_round: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The work queue (triage.py): who owns the alert, a user of its clinic; NULL: nobody yet.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    events: Mapped[list[AlertEvent]] = relationship(
        order_by="(AlertEvent.at, AlertEvent.id)", viewonly=True
    )

    __table_args__ = (
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("urgency", ALERT_URGENCIES), name="urgency"),
        Index("ix_alert_clinic_status", "clinic_id", "status"),
        Index("ix_alert_assigned_to", "assigned_to_id", "status"),
        # The tick's escalation step: open alerts whose next page is due.
        Index(
            "ix_alert_escalation_due",
            "next_escalation_at",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        # The same condition never raises a second alert while one is still unresolved.
        Index(
            "uq_alert_plan_rule_unresolved",
            "plan_id",
            "rule",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )


ALERT_EVENT_KINDS = (
    "raised",
    "updated",
    "escalated",
    "reopened",
    "corrected",
    "acknowledged",
    "resolved",
    "auto_resolved",
    "page_queued",
    "page_sent",
    "page_failed",
    "page_cancelled",
    "escalation_exhausted",
    "assigned",
    "unassigned",
)


class AlertEvent(Base):
    """One step in an alert's history: raised, newer evidence, paged, acknowledged..."""

    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (CheckConstraint(_in("kind", ALERT_EVENT_KINDS), name="kind"),)


class Page(OutboxColumns, Base):
    """The paging outbox: one row per page to one on-call contact about one alert.

    Delivered by the tick like reminders (claim with a lease, retry with backoff, dead
    letter); ``round`` and ``step`` say which page of the alert's escalation it is.
    """

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("on_call_contact.id"))
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(254))

    __table_args__ = (
        UniqueConstraint("alert_id", "round", "step"),
        CheckConstraint(_in("channel", PAGE_CHANNELS), name="channel"),
        CheckConstraint(_in("status", PAGE_STATUSES), name="status"),
        Index(
            "ix_page_pending_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


CONTACT_OUTCOMES = ("called", "left_message", "no_answer", "spoke")


class ContactLogEntry(Base):
    """One attempt by the care team to reach a patient (contact_log.py): the outcome, when,
    by whom, an optional note, and the alert it was about if any."""

    __tablename__ = "contact_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in("outcome", CONTACT_OUTCOMES), name="outcome"),
        # The triage list reads each patient's latest entry; the patient page, newest first.
        Index("ix_contact_log_entry_patient_at", "patient_id", "contacted_at", "id"),
    )


class AuditEvent(Base):
    """Append-only record of who looked at or changed a patient's data."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    actor_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(_in("actor_type", ACTOR_TYPES), name="actor_type"),
        Index("ix_audit_event_clinic_at", "clinic_id", "at"),
        Index("ix_audit_event_patient", "patient_id"),
    )


class SchedulerHeartbeat(Base):
    """Last tick of each scheduler process, for the health endpoint."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TickShard(Base):
    """One shard of plans of a shared tick step ("alerts" or "plan"): who took it for which
    tick, until when, and up to when it was last done (tracker/scheduler/shards.py)."""

    __tablename__ = "tick_shard"

    step: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The ``now`` of the tick that last took it, and the scheduler that did.
    tick_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(100))
    # Set while the take is in progress; cleared when it is finished.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The ``now`` of the last take that finished (the plan step's mark for this shard).
    done_through: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TickMember(Base):
    """A scheduler process sharing the tick's work: its heartbeat, for the fair shares."""

    __tablename__ = "tick_member"

    worker: Mapped[str] = mapped_column(String(100), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    alive_until: Mapped[datetime] = mapped_column(UTCDateTime())


class ContentApproval(Base):
    """A clinician's sign-off of one version of a content file (content_review.py): a plan
    template in schedules/ or a check in schedules/checks/. ``content_digest`` is the
    SHA-256 of the file's patient-facing sentences as shown on the review sheet, so text
    changed without a new version number is not covered by an earlier approval."""

    __tablename__ = "content_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    # A plan template's id ("kyphoplasty"), or "checks/<id>" for a check file.
    template_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    content_digest: Mapped[str] = mapped_column(String(64))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))

    approved_by: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_content_approval_clinic_template", "clinic_id", "template_id", "version"),
    )


TEXT_DIRECTIONS = ("in", "out")
# What a text was taken to be (tracker/texting). In: a pain score, an answer to the question
# the last text asked, a carrier keyword (STOP, START, HELP), not understood, from a number
# that is not exactly one active patient's, or received while the number is opted out. Out:
# the daily reminder (the reminders' webhook), or a reply to the patient's text.
TEXT_KINDS = (
    "pain",
    "answer",
    "stop",
    "start",
    "help",
    "unparsed",
    "unknown_sender",
    "opted_out",
    "reminder",
    "reply",
)


class TextMessage(Base):
    """One text message to or from a patient's number: the conversation the care team sees.

    Inbound rows carry the gateway's message id (``provider_sid``, unique: a gateway that
    posts the same message twice is answered once); ``meaning`` says in words what the
    reply was taken to mean, ``detail`` the rows it made (pain entry, symptom report,
    alert). An outbound row's ``question`` is what it asked ("pain", "signs:1", "opioids"),
    which decides how a number in the next reply is read on the same ``local_day``.
    A reminder's row has no link in ``body`` (a personal link is a credential).
    """

    __tablename__ = "text_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    # NULL: the patient's own number; else the caregiver's this text was to or from.
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregiver.id"))
    direction: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(E164_MAX_LENGTH))
    body: Mapped[str | None] = mapped_column(String(1600))
    kind: Mapped[str] = mapped_column(String(20))
    meaning: Mapped[str | None] = mapped_column(String(300))
    question: Mapped[str | None] = mapped_column(String(40))
    # The patient's local day when it was sent or received.
    local_day: Mapped[date | None] = mapped_column(Date)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminder.id"), unique=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("text_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in("direction", TEXT_DIRECTIONS), name="direction"),
        CheckConstraint(_in("kind", TEXT_KINDS), name="kind"),
        # A patient's conversation in order, and their last text (the question pending).
        Index("ix_text_message_patient_created", "patient_id", "created_at", "id"),
        # The triage list: a clinic's texts nobody could read, of the last days.
        Index("ix_text_message_clinic_kind_created", "clinic_id", "kind", "created_at"),
    )


class TextOptOut(Base):
    """A number that texted STOP (or a synonym): no text goes to it until it texts START.

    Carrier rules are per number, so this is keyed by the number (E.164), not the patient;
    the reminders' deliver step checks it before every text (sms_rules.py). A START keeps
    the row, with ``opted_out_at`` cleared and ``opted_in_at`` set: both times are kept.
    """

    __tablename__ = "text_opt_out"

    number: Mapped[str] = mapped_column(String(E164_MAX_LENGTH), primary_key=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opted_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The word the patient texted, as read ("STOP", "QUIT").
    keyword: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
