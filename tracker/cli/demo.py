"""Demo: a clinic, a coordinator and ~20 synthetic patients with realistic pain histories.

Everything here is made up. Histories are generated relative to the run's ``now`` with a
fixed random seed per patient, so a fresh demo always looks the same on a given day.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.serving import run_simple

from tracker.alerts import rules as alerts
from tracker.alerts.rules import PainScore, evaluate_active_plans
from tracker.app import create_app
from tracker.care import work_queue
from tracker.care.passwords import hash_password
from tracker.core import migrate
from tracker.core.db import session_factory, utcnow
from tracker.core.models import (
    CarePlan,
    CheckOff,
    Clinic,
    OnCallContact,
    PainEntry,
    Patient,
    PlanningMark,
    SymptomReport,
    User,
)
from tracker.core.timeutil import local_day, local_wall_time_to_utc
from tracker.outcomes.questionnaires import Questionnaire, TimePoint, current_questionnaires
from tracker.outcomes.responses import fill_past_time_points
from tracker.plans.adjustments import change_status
from tracker.plans.agenda import agenda_for_day
from tracker.plans.caregivers import Actor, add_caregiver, current_caregivers, issue_caregiver_link
from tracker.plans.enrollment import enroll, validate_request
from tracker.plans.links import link_url, rotate_link
from tracker.plans.templates import PlanTemplate
from tracker.plans.warning_signs import WarningSign, load_signs, severity, signs_path
from tracker.reminders.planning import PLAN_MARK, planned_through
from tracker.texting.fake_gateway import DemoTexting

CLINIC_NAME = "Demo Spine Clinic"
CLINIC_PHONE = "555-0100"  # 555-01xx numbers are reserved for fiction
COORDINATOR_EMAIL = "coordinator@demo.clinic"
ADMIN_EMAIL = "admin@demo.clinic"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed at start; demo only


@dataclass(frozen=True)
class DemoPatient:
    name: str
    procedure: str
    days_since: int  # the procedure was this many local days ago
    timezone: str
    trajectory: str  # improving | worsening | plateau | red_flag | missed
    levels: str
    language: str = "en"


@dataclass(frozen=True)
class DemoCaregiver:
    """Someone doing the phone work with a demo patient (SPEC section 6, "Caregivers")."""

    patient: str  # the DemoPatient's name
    name: str
    relation: str
    phone: str
    scope: str
    language: str
    reminder_channel: str | None
    consent_note: str


PATIENTS = (
    DemoPatient("Ada Whitfield", "kyphoplasty", 0, "America/New_York", "improving", "L1"),
    DemoPatient("Bernard Okafor", "vertebroplasty", 1, "America/Chicago", "improving", "T12"),
    DemoPatient("Clara Jensen", "kyphoplasty", 2, "America/Denver", "improving", "L2"),
    DemoPatient("Dmitri Vance", "kyphoplasty", 3, "America/Los_Angeles", "red_flag", "T11,T12"),
    DemoPatient("Elena Marsh", "vertebroplasty", 4, "America/New_York", "improving", "L1"),
    DemoPatient("Frank Delacroix", "kyphoplasty", 6, "Europe/London", "worsening", "L3"),
    DemoPatient("Grace Iwu", "kyphoplasty", 7, "America/New_York", "missed", "T10"),
    DemoPatient("Harold Pike", "vertebroplasty", 9, "America/Phoenix", "improving", "L1,L2"),
    DemoPatient("Irene Castell", "kyphoplasty", 11, "America/New_York", "improving", "T12"),
    DemoPatient("Jonah Brandt", "kyphoplasty", 12, "America/Chicago", "worsening", "L2"),
    DemoPatient("Katherine Lowe", "vertebroplasty", 14, "America/New_York", "plateau", "T8"),
    DemoPatient("Leonard Ruiz", "kyphoplasty", 16, "Pacific/Honolulu", "improving", "L4"),
    DemoPatient("Miriam Haddad", "kyphoplasty", 18, "America/New_York", "plateau", "T12,L1"),
    DemoPatient("Nils Andersen", "vertebroplasty", 21, "Europe/Berlin", "improving", "L1"),
    DemoPatient("Olive Mbeki", "kyphoplasty", 24, "America/New_York", "missed", "T9"),
    DemoPatient("Percy Lindqvist", "kyphoplasty", 27, "America/Los_Angeles", "improving", "L2"),
    DemoPatient("Quinn Adeyemi", "vertebroplasty", 30, "America/New_York", "improving", "T7"),
    DemoPatient("Rosa Kowalski", "kyphoplasty", 34, "Australia/Sydney", "improving", "L1"),
    DemoPatient("Samuel Greene", "kyphoplasty", 38, "America/New_York", "improving", "T12"),
    DemoPatient("Theresa Nakamura", "vertebroplasty", 41, "Asia/Tokyo", "improving", "L3"),
    # Escalation stories (SPEC section 6), played out through the alert functions below.
    DemoPatient("Uma Patel", "kyphoplasty", 5, "America/New_York", "escalated", "L1"),
    DemoPatient("Victor Osei", "kyphoplasty", 8, "America/New_York", "paused", "T12"),
    DemoPatient("Wanda Fischer", "vertebroplasty", 10, "America/Chicago", "corrected", "L2"),
    # A Spanish speaker whose daughter does the phone work (pages, reminders and texts in
    # Spanish; what the daughter records is marked as entered by her).
    DemoPatient(
        "Yolanda Ríos", "kyphoplasty", 4, "America/Chicago", "improving", "L1", language="es"
    ),
)
CAREGIVERS = (
    DemoCaregiver(
        patient="Yolanda Ríos",
        name="Lucía Ríos",
        relation="daughter",
        phone="(555) 201-0190",
        scope="act",
        language="es",
        reminder_channel="webhook",
        consent_note="Patient asked at enrolment for her daughter to help (interpreter present).",
    ),
)
ON_CALL = (
    ("Dana Reyes, RN (on call)", "log", "on-call phone"),
    ("Dr. Morgan Hale (spine surgeon)", "log", "surgeon's phone"),
)


def _pain_for_day(kind: str, n: int, rng: random.Random) -> int:
    if kind == "worsening":
        base = 5.0 - 0.4 * n if n < 4 else 3.5 + 0.6 * (n - 4)
    elif kind == "plateau":
        base = 6.0 - 0.1 * n
    else:  # improving, and the others after their event
        base = 7.0 * (0.9**n) + 1.0
    return max(0, min(10, round(base + rng.uniform(-1.0, 1.0))))


def _history(
    session: Session, plan: CarePlan, demo: DemoPatient, today: date, signs: tuple[WarningSign, ...]
) -> None:
    rng = random.Random(f"{demo.name}-{demo.trajectory}")  # noqa: S311 - synthetic data
    if demo.trajectory == "corrected":
        # Scores from the pre-operative visit: shown as before the procedure, never a baseline.
        for n in (-2, -1):
            day = plan.procedure_date + timedelta(days=n)
            at = local_wall_time_to_utc(day, time(11, 0), plan.timezone)
            session.add(PainEntry(plan_id=plan.id, score=9, local_day=day, recorded_at=at))
    for n in range(demo.days_since + 1):
        day = plan.procedure_date + timedelta(days=n)
        red_flag_day = demo.trajectory == "red_flag" and n == demo.days_since
        skipped = not red_flag_day and (
            (demo.trajectory == "missed" and n >= demo.days_since - 2)
            or (n > 0 and rng.random() < 0.08)
            or (day == today and rng.random() < 0.5)  # some have not logged today yet
        )
        if skipped:
            continue
        hour = rng.choice((8, 9, 10, 12, 15, 18, 20))
        at = local_wall_time_to_utc(day, time(hour, rng.randrange(60)), plan.timezone)
        score = _pain_for_day(demo.trajectory, n, rng)
        session.add(
            PainEntry(
                plan_id=plan.id,
                score=score,
                local_day=day,
                recorded_at=at,
                context=rng.choice(("rest", "activity", None)),
            )
        )
        if rng.random() < 0.3:  # a second, lower reading some days
            session.add(
                PainEntry(
                    plan_id=plan.id,
                    score=max(0, score - 2),
                    local_day=day,
                    recorded_at=at + timedelta(hours=5),
                    context="rest",
                )
            )
        agenda = agenda_for_day(plan, day)
        for activity in agenda.tasks:
            if activity.adherence and rng.random() < 0.85:
                session.add(
                    CheckOff(
                        plan_id=plan.id, activity_key=activity.key, local_day=day, created_at=at
                    )
                )
        if any(a.check_in == "warning_signs" for a in agenda.check_ins):
            answers = {sign.key: red_flag_day and sign.key == "fever" for sign in signs}
            session.add(
                SymptomReport(
                    plan_id=plan.id,
                    local_day=day,
                    recorded_at=at,
                    answers=answers,
                    severity=severity(signs, answers),
                )
            )
            session.add(
                CheckOff(
                    plan_id=plan.id, activity_key="warning_signs", local_day=day, created_at=at
                )
            )


def _caregiver(
    session: Session,
    patient: Patient,
    plan: CarePlan,
    helper: DemoCaregiver,
    coordinator: User,
    *,
    now: datetime,
) -> None:
    """Add ``helper`` with the consent the coordinator recorded, and mark what they entered:
    the scores, check-offs and warning-sign answers of every other day (the days they visit)."""
    session.flush()
    caregiver = add_caregiver(
        session,
        patient,
        name=helper.name,
        relation=helper.relation,
        email=None,
        phone=helper.phone,
        scope=helper.scope,
        language=helper.language,
        reminder_channel=helper.reminder_channel,
        consent="recorded",
        consent_note=helper.consent_note,
        added_by_user=coordinator,
        now=min(plan.created_at, now),
    )
    visits = [
        plan.procedure_date + timedelta(days=n)
        for n in range((local_day(now, plan.timezone) - plan.procedure_date).days + 1)
        if n % 2 == 1
    ]
    for model in (PainEntry, CheckOff, SymptomReport):
        session.execute(
            update(model)
            .where(model.plan_id == plan.id, model.local_day.in_(visits))
            .values(entered_by_caregiver_id=caregiver.id)
        )


def _demo_answers(questionnaire: Questionnaire, point: TimePoint) -> dict[str, int]:
    """Synthetic answers that ease as the weeks pass: 3 at the start, then 2, 1, 0."""
    return {item.key: max(0, 3 - point.day // 14) for item in questionnaire.items}


def seed(
    session: Session,
    templates: dict[str, PlanTemplate],
    signs: tuple[WarningSign, ...],
    *,
    now: datetime,
    grace_days: int,
) -> tuple[Clinic, bool]:
    """Create the demo clinic, accounts and patients if absent. Returns (clinic, created)."""
    clinic = session.scalar(select(Clinic).where(Clinic.name == CLINIC_NAME))
    if clinic is not None:
        return clinic, False
    clinic = Clinic(
        name=CLINIC_NAME,
        phone=CLINIC_PHONE,
        after_hours_phone="555-0199",
        timezone="America/New_York",
        created_at=now,
    )
    session.add(clinic)
    session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    coordinator = User(
        clinic_id=clinic.id,
        email=COORDINATOR_EMAIL,
        name="Casey Coordinator",
        password_hash=password_hash,
        role="coordinator",
        created_at=now,
    )
    session.add_all(
        [
            coordinator,
            User(
                clinic_id=clinic.id,
                email=ADMIN_EMAIL,
                name="Alex Admin",
                password_hash=password_hash,
                role="admin",
                created_at=now,
            ),
        ]
    )
    questionnaires = current_questionnaires()
    for demo in PATIENTS:
        today = local_day(now, demo.timezone)
        request = validate_request(
            name=demo.name,
            procedure=demo.procedure,
            procedure_date=(today - timedelta(days=demo.days_since)).isoformat(),
            timezone=demo.timezone,
            levels=demo.levels,
            phone=f"(555) 201-01{PATIENTS.index(demo):02d}",
            templates=templates,
            now=now,
        )
        result = enroll(
            session, clinic, request, templates=templates, now=now, grace_days=grace_days
        )
        result.patient.language = demo.language
        # Demo patients were enrolled on their procedure day, not when the demo started.
        enrolled = local_wall_time_to_utc(request.procedure_date, time(8, 0), demo.timezone)
        result.plan.created_at = result.patient.created_at = min(enrolled, now)
        _history(session, result.plan, demo, today, signs)
        for helper in (c for c in CAREGIVERS if c.patient == demo.name):
            _caregiver(session, result.patient, result.plan, helper, coordinator, now=now)
        fill_past_time_points(
            session, result.plan, questionnaires, today=today, now=now, answer_for=_demo_answers
        )
    for position, (name, channel, address) in enumerate(ON_CALL):
        session.add(
            OnCallContact(
                clinic_id=clinic.id,
                position=position,
                name=name,
                channel=channel,
                address=address,
                active=True,
                created_at=now,
            )
        )
    session.flush()
    # Run the alert rules once, so the triage list shows who needs a call this morning.
    evaluate_active_plans(session, now, clinic_id=clinic.id)
    _escalation_stories(session, clinic, now)
    work_queue.demo_work_queue(session, clinic, now)
    # The histories are made up, and so would be the reminders "missed" on their past days:
    # planning starts now, as it would for a clinic that starts using the tracker today.
    if planned_through(session) is None:
        session.add(PlanningMark(name=PLAN_MARK, planned_through=now))
    session.commit()
    return clinic, True


def _escalation_stories(session: Session, clinic: Clinic, now: datetime) -> None:
    """Three patients whose alerts show escalation at work, minutes before ``now``."""
    users = {u.role: u for u in session.scalars(select(User).where(User.clinic_id == clinic.id))}
    plans = {
        p.patient.name: p
        for p in session.scalars(select(CarePlan).where(CarePlan.clinic_id == clinic.id))
    }

    def minutes_ago(n: int) -> datetime:
        return now - timedelta(minutes=n)

    def report(plan: CarePlan, at: datetime, **answers: bool) -> SymptomReport:
        row = SymptomReport(
            plan_id=plan.id,
            local_day=local_day(at, plan.timezone),
            recorded_at=at,
            answers=answers,
            severity="call_911" if answers.get("leg_weakness") else "call_team",
        )
        session.add(row)
        session.flush()
        return row

    def pain(plan: CarePlan, score: int, at: datetime, supersedes: int | None = None) -> PainEntry:
        entry = PainEntry(
            plan_id=plan.id,
            score=score,
            local_day=local_day(at, plan.timezone),
            recorded_at=at,
            supersedes_id=supersedes,
        )
        session.add(entry)
        session.flush()
        alerts.raise_severe_pain_now(
            session,
            plan=plan,
            threshold=clinic.severe_pain_threshold,
            entry=PainScore(entry.id, score, None, entry.local_day),
            now=at,
        )
        return entry

    # A fever ("call the care team"), then newly weak legs (call 911): one critical alert.
    uma = plans["Uma Patel"]
    fever = report(uma, minutes_ago(50), fever=True)
    alerts.raise_red_flag(session, plan=uma, report=fever, now=minutes_ago(50))
    weak = report(uma, minutes_ago(10), leg_weakness=True)
    alerts.raise_red_flag(session, plan=uma, report=weak, now=minutes_ago(10))
    # Paused for a family trip, then a 9/10: still heard.
    victor = plans["Victor Osei"]
    change_status(
        session,
        victor,
        "pause",
        user_id=users["coordinator"].id,
        note="Travelling",
        now=minutes_ago(60),
    )
    pain(victor, 9, minutes_ago(5))
    # A 10 tapped by mistake, corrected to 1: the alert says so.
    wanda = plans["Wanda Fischer"]
    ten = pain(wanda, 10, minutes_ago(30))
    one = pain(wanda, 1, minutes_ago(25), supersedes=ten.id)
    alerts.note_correction(
        session, plan_id=wanda.id, original=ten, replacement=one, now=minutes_ago(25)
    )


def _secret_key(app_instance: Path) -> str:
    """A random key kept in the instance folder, so demo sessions survive a restart."""
    path = app_instance / "demo-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_texting(port: int) -> DemoTexting:
    """The demo's fake SMS gateway: on the port after the web server's, loopback only."""
    return DemoTexting(port=port + 1)


def demo_app(host: str, port: int, texting: DemoTexting) -> Flask:
    probe = create_app(serving=False)
    return create_app(
        {
            "SECRET_KEY": _secret_key(Path(probe.instance_path)),
            "BASE_URL": f"http://{host}:{port}",
            "ENV": "development",  # a local demo: no production checks
            "SESSION_COOKIE_SECURE": False,  # the demo is served over plain HTTP on loopback
            # Texts in and out go through a fake gateway on this machine (its page shows
            # them and lets you reply as the patient); nothing leaves the machine.
            **texting.app_config(),
        }
    )


def run(*, host: str, port: int, serve: bool) -> None:
    texting = demo_texting(port)
    app = demo_app(host, port, texting)
    url = app.config["DATABASE_URL"]
    click.echo(f"database: {url}")
    migrate.upgrade(url)
    now = utcnow()
    with app.app_context():
        session = session_factory(app)()
        signs = load_signs(signs_path(app.config["SCHEDULES_DIR"]))
        clinic, created = seed(
            session,
            app.extensions["tracker.templates"],
            signs,
            now=now,
            grace_days=app.config["LINK_GRACE_DAYS"],
        )
        click.echo("demo data created" if created else "demo data already present")
        # Raw link tokens are never stored, so each start issues fresh links to print.
        patients = session.scalars(
            select(Patient).where(Patient.clinic_id == clinic.id).order_by(Patient.id)
        ).all()
        links = []
        helper_links = []
        grace_days = app.config["LINK_GRACE_DAYS"]
        for patient in patients:
            plan = patient.plans[-1]
            raw = rotate_link(session, patient, plan, now=now, grace_days=grace_days)
            links.append((patient, plan, link_url(app.config["BASE_URL"], raw)))
            for caregiver in current_caregivers(session, patient.id):
                raw = issue_caregiver_link(
                    session, caregiver, plan, actor=Actor("system"), now=now, grace_days=grace_days
                )
                helper_links.append((caregiver, patient, link_url(app.config["BASE_URL"], raw)))
        session.commit()
        session.close()

    base = app.config["BASE_URL"]
    click.echo("")
    click.echo(f"Recovery tracker demo: {base}/")
    click.echo(f"Care team triage list: {base}/coordinator/")
    click.echo(
        f"Coordinator sign-in: {COORDINATOR_EMAIL} / {DEMO_PASSWORD}  "
        f"(admin: {ADMIN_EMAIL}, same password)"
    )
    click.echo("Patient links (each opens that patient's own pages):")
    for patient, plan, link in links:
        day = (local_day(now, plan.timezone) - plan.procedure_date).days
        click.echo(f"  {patient.name:<18} day {day:>2} {plan.procedure:<14} {link}")
    click.echo("Caregiver links (each signs in as that caregiver, for their patient):")
    for caregiver, patient, link in helper_links:
        click.echo(f"  {caregiver.label}, helping {patient.name}: {link}")
    if serve:
        click.echo("")
        # Exactly one scheduler, as its own process beside the dev server (the web server
        # never starts one; the reloader is off so nothing runs twice). Its log lines,
        # including each reminder on the log channel, appear in this console.
        gateway = texting.start(base)
        click.echo(
            f"Fake SMS gateway: {texting.page_url}  (the texts patients get; reply as a patient)"
        )
        scheduler = start_scheduler(app, extra_env=texting.env())
        click.echo(f"Reminder scheduler running (pid {scheduler.pid}); its log is below.")
        # SIGTERM (e.g. from a process manager) unwinds like Ctrl-C, so the scheduler child
        # is stopped with us instead of being left running on its own.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            # Werkzeug directly: Flask's app.run() refuses to serve inside a `flask`-style
            # CLI command (FlaskGroup sets FLASK_RUN_FROM_CLI), which `tracker` is.
            run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
        finally:
            stop_child(scheduler)
            stop_child(gateway)


def scheduler_command_line() -> list[str]:
    return [sys.executable, "-m", "tracker", "scheduler"]


def start_scheduler(
    app: Flask, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``tracker scheduler`` on the demo's database, secret key and address."""
    env = dict(os.environ)
    env.update(
        {
            "TRACKER_DATABASE_URL": app.config["DATABASE_URL"],
            "TRACKER_SECRET_KEY": app.config["SECRET_KEY"],
            "TRACKER_BASE_URL": app.config["BASE_URL"],
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    return subprocess.Popen(scheduler_command_line(), env=env)  # noqa: S603 - our own command


def stop_child(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM lets it (the scheduler, the fake gateway) finish the message in flight;
    kill it only if it will not stop."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
