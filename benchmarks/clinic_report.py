"""The clinic report (issue 23): its build time and its page, at 10,000 patients (full size).

One clinic of 10,000 patients (full size) whose procedures fall on the last 120 days, each with
what a recovery leaves behind: pain scores on most plan days (one or two a day, a few corrected,
some before the procedure), a daily reminder per plan day (a few failed), questionnaire answers
at the time points reached, alerts (most acknowledged and resolved) and some text opt-outs. A
second, small clinic in the same database shows that the report's SQL is fixed.

Measured, for a range holding every patient of the clinic:

- ``build_report`` (``tracker.outcomes.clinic_report``, six statements per report), in
  process;
- its **limit**: the same statements, with the same parameters, replayed through the raw
  database driver with every row fetched (``cursor.fetchall()``), and nothing else: no ORM
  rows, no arithmetic. It reads exactly the rows the report reads, so it is what the report
  would cost if its Python were free: a floor of this design, measured in the same run, as
  ``triage_floor.py`` is the triage page with its data for free. (It is not a floor of every
  possible design: a report that grouped by day since the procedure in SQL would fetch fewer
  rows; ``in_database_ms`` below shows how much of the floor is the database's own work);
- where the time goes: the same statements run in the database only
  (``SELECT count(*) FROM (statement)``: the database does their work, no rows leave it);
- the page ``GET /coordinator/report`` through the Flask test client (the real app, signed in
  as the clinic's coordinator: sign-in check, report, audit row, chart, template);
- SQL statements per report page for the large clinic and the small one (must be equal), and
  per ``build_report`` (must be ``STATEMENTS``).

Each round times the first four back to back (the load on this machine changes by the
minute, so a page and its report are only comparable within a round), after a first report
and page that warm the caches; the round with the median build ÷ floor ratio is reported and
every round's times are in the details. Only the statement count is judged (equal for both
clinics): issue 23 sets no target for time, so the times and their ratios are reported.

The report's figures are checked against counts kept while seeding (patients, plan days with
a pain score, scored answers, alerts by kind, reminders by outcome, opt-outs): a report that
measured fast by leaving rows out would fail the run.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from benchmarks import bulk, seed, triage
from benchmarks.harness import BENCH_SECRET, sql_and_render_time
from benchmarks.report import Figure, median_by, ratio
from tracker.app import create_app
from tracker.core.config import REPO_ROOT
from tracker.core.db import make_engine
from tracker.core.models import Clinic
from tracker.outcomes.clinic_report import STATEMENTS, ClinicReport, build_report
from tracker.outcomes.questionnaires import load_directory, questionnaires_dir
from tracker.plans import templates

CLINIC_ZONE = "America/New_York"  # seed.clinic's
DAYS_BACK = 120  # procedures on the last 120 days
# The plans' length: seed.patients gives every plan the kyphoplasty template's.
PLAN_DAYS = templates.load_directory(REPO_ROOT / "schedules")["kyphoplasty"].duration_days
RANGE_DAYS = 125  # the report's range: the clinic's last 125 days, today included
ALERT_RULES = (
    ("severe_pain", "high"),
    ("not_improving", "normal"),
    ("missed_checkin", "normal"),
    ("red_flag", "urgent"),
    ("worsening", "high"),
)


@dataclass(frozen=True)
class Size:
    patients: int  # the measured clinic
    small_clinic: int  # patients of the clinic that shows the statement count is fixed
    rounds: int  # each times all four; the round with the median build ÷ floor is reported


SIZES = {
    "smoke": Size(30, 6, 1),
    "quick": Size(500, 50, 3),
    "full": Size(10_000, 100, 5),
}


@dataclass
class Expected:
    """What a clinic's report must count, kept while its rows are generated."""

    enrolled: int = 0
    pain_plan_days: int = 0  # (plan, day since the procedure) with a current score, before today
    scored_answers: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    reminders: Counter[str] = field(default_factory=Counter)
    opt_outs: int = 0

    def mismatches(self, report: ClinicReport) -> list[str]:
        got = {
            "enrolled": report.enrolled,
            "pain plan-days": sum(s.n for s in report.pain_by_day.values()),
            "scored answers": sum(s.n for s in report.scores.values()),
            "alerts by kind": dict(report.alerts_by_kind),
            "reminders sent/dead/pending": (
                report.reminders_delivered,
                report.reminders_failed,
                report.reminders_pending,
            ),
            "opt-outs": report.opt_outs,
        }
        want = {
            "enrolled": self.enrolled,
            "pain plan-days": self.pain_plan_days,
            "scored answers": self.scored_answers,
            "alerts by kind": dict(sorted(self.alerts.items())),
            "reminders sent/dead/pending": tuple(
                self.reminders[s] for s in ("sent", "dead", "pending")
            ),
            "opt-outs": self.opt_outs,
        }
        return [f"{k}: report {got[k]} != seeded {want[k]}" for k in want if got[k] != want[k]]


def _pain(day: int, i: int) -> int:
    """A plausible course: about 8.5 before, falling towards 3, with a spread between patients."""
    mean = 8.5 - 5.5 * (1 - math.exp(-max(day, 0) / 6))
    return max(0, min(10, round(mean + ((i * 7 + day) % 5 - 2) * 0.6)))


class _Rows:
    """The rows of every table, generated patient by patient (ids given explicitly)."""

    def __init__(self, now: datetime, clinic_today: date) -> None:
        self.now = now
        self.today = clinic_today
        self.questionnaire = load_directory(questionnaires_dir(REPO_ROOT / "schedules"))[
            "daily_life"
        ]
        self.pain: list[tuple] = []
        self.reminders: list[tuple] = []
        self.answers: list[tuple] = []
        self.alerts: list[tuple] = []
        self.opt_outs: list[tuple] = []
        self.numbers: list[dict] = []

    @staticmethod
    def procedure_date(today: date, i: int) -> date:
        return today - timedelta(days=i % DAYS_BACK)

    @staticmethod
    def status(today: date, i: int) -> str:
        if (today - _Rows.procedure_date(today, i)).days >= PLAN_DAYS:
            return "ended"
        return "paused" if i % 50 == 7 else "active"

    def patient(self, i: int, clinic_id: int, expected: Expected) -> None:
        procedure = self.procedure_date(self.today, i)
        since = (self.today - procedure).days  # days since the procedure, today excluded
        expected.enrolled += 1
        self._pain(i, procedure, since, expected)
        self._reminders(i, procedure, since, expected)
        self._answers(i, procedure, since, expected)
        self._alerts(i, clinic_id, procedure, since, expected)
        number = f"+1555{i:07d}"
        self.numbers.append({"id": i, "number": number})
        if i % 40 == 0:  # a STOP, 1 in 3 of them later undone by a START
            out_at = self.now - timedelta(days=i % 90, hours=1)
            if i % 120 == 0:
                self.opt_outs.append((number, None, out_at + timedelta(hours=2), "STOP", out_at))
            else:
                self.opt_outs.append((number, out_at, None, "STOP", out_at))
                expected.opt_outs += 1

    def _pain(self, i: int, procedure: date, since: int, expected: Expected) -> None:
        if i % 4 == 0:  # a score before the procedure: shown, never counted from day 0
            day = procedure - timedelta(days=1)
            self._score(i, day, 9, "rest", None)
        for d in range(min(since, PLAN_DAYS)):
            if (i + 3 * d) % 7 == 0:  # a day without a score (about 1 in 7)
                continue
            day = procedure + timedelta(days=d)
            first = self._score(i, day, _pain(d, i) + 1, "activity", None)
            if d % 3 == 0:
                self._score(i, day, _pain(d, i), "rest", None)
            if (i + d) % 37 == 0:  # a correction supersedes the day's first score
                self._score(i, day, max(0, _pain(d, i) - 1), "activity", first)
            expected.pain_plan_days += 1

    def _score(self, i: int, day: date, score: int, context: str, supersedes: int | None) -> int:
        entry_id = len(self.pain) + 1
        at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=14 + entry_id % 6)
        self.pain.append((entry_id, i, min(10, score), context, None, day, at, supersedes))
        return entry_id

    def _reminders(self, i: int, procedure: date, since: int, expected: Expected) -> None:
        for d in range(min(since + 1, PLAN_DAYS)):
            day = procedure + timedelta(days=d)
            due = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=13)
            if d == since:
                status, sent_at, error, attempts = "pending", None, None, 0
            elif (i + d) % 29 == 0:
                status, sent_at, error, attempts = "dead", None, "mailbox unavailable", 5
            else:
                status, sent_at, error, attempts = "sent", due + timedelta(seconds=30), None, 1
            expected.reminders[status] += 1
            self.reminders.append(
                (
                    len(self.reminders) + 1, i, "daily", day, "email", due, status, attempts,
                    due, sent_at, error, f"bench-{i}-daily-{day.isoformat()}-email", due,
                )
            )  # fmt: skip

    def _answers(self, i: int, procedure: date, since: int, expected: Expected) -> None:
        q = self.questionnaire
        for point in q.time_points:
            lag = i % 3
            if point.day + lag >= since or (i + point.day) % 5 == 0:  # not yet, or not answered
                continue
            level = {0: 3, 14: 2}.get(point.day, 1)
            answers = {
                item.key: max(item.min_value, min(item.max_value, level + (i + n) % 3 - 1))
                for n, item in enumerate(q.items)
            }
            if (i + point.day) % 41 == 0:  # too many left blank to score
                answers = dict(list(answers.items())[:2])
            score = q.score(answers)
            expected.scored_answers += score.scored
            day = procedure + timedelta(days=point.day + lag)
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
            self.answers.append(
                (
                    len(self.answers) + 1, i, q.id, q.version, point.day, day, json.dumps(answers),
                    score.value, score.answered, at,
                )
            )  # fmt: skip

    def _alerts(self, i: int, clinic_id: int, procedure: date, since: int, expected: Expected):
        if i % 5 or since < 6:
            return
        kinds = [ALERT_RULES[(i // 5) % 5]]
        if i % 15 == 0:  # a second alert, of another kind
            kinds.append(ALERT_RULES[(i // 5 + 1) % 5])
        for n, (rule, urgency) in enumerate(kinds):
            day = procedure + timedelta(days=min(since - 6, 2 + (i + n) % 7))
            raised = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
            state = (i // 5 + n) % 10
            acknowledged = raised + timedelta(minutes=20 + (i * 13) % 600) if state < 9 else None
            resolved = acknowledged + timedelta(hours=1 + i % 47) if state < 6 else None
            status = "resolved" if resolved else "acknowledged" if acknowledged else "open"
            expected.alerts[rule] += 1
            self.alerts.append(
                (
                    len(self.alerts) + 1, clinic_id, i, i, rule, urgency, status,
                    "Benchmark alert", "{}", raised, acknowledged, resolved,
                )
            )  # fmt: skip


def _seed(
    engine, size: Size, now: datetime
) -> tuple[dict[int, Expected], tuple[str, str], dict[str, int]]:
    """Two clinics (``size.patients`` and ``size.small_clinic`` patients) with everything the
    report reads, and a coordinator each; returns what each clinic's report must count, the
    coordinators' emails and the rows loaded per table."""
    clinic_today = now.astimezone(ZoneInfo(CLINIC_ZONE)).date()
    rows = _Rows(now, clinic_today)
    expected = {1: Expected(), 2: Expected()}
    first = 1
    for clinic_id, count in ((1, size.patients), (2, size.small_clinic)):
        seed.clinic(engine, clinic_id, now)
        seed.patients(
            engine,
            seed.Cohort(
                first_id=first,
                count=count,
                clinic_id=clinic_id,
                procedure_date=lambda i: _Rows.procedure_date(clinic_today, i),
                status=lambda i: _Rows.status(clinic_today, i),
            ),
            now,
        )
        for i in range(first, first + count):
            rows.patient(i, clinic_id, expected[clinic_id])
        first += count
    with engine.begin() as conn:
        conn.execute(text("UPDATE patient SET sms_number = :number WHERE id = :id"), rows.numbers)
    bulk.load(
        engine,
        "pain_entry",
        ("id", "plan_id", "score", "context", "note", "local_day", "recorded_at", "supersedes_id"),
        rows.pain,
    )
    bulk.load(
        engine,
        "reminder",
        (
            "id", "plan_id", "kind", "local_day", "channel", "due_at", "status", "attempts",
            "next_attempt_at", "sent_at", "last_error", "idempotency_key", "created_at",
        ),
        rows.reminders,
    )  # fmt: skip
    bulk.load(
        engine,
        "questionnaire_response",
        (
            "id", "plan_id", "questionnaire_id", "questionnaire_version", "time_point_day",
            "local_day", "answers", "score", "answered", "recorded_at",
        ),
        rows.answers,
    )  # fmt: skip
    bulk.load(
        engine,
        "alert",
        (
            "id", "clinic_id", "patient_id", "plan_id", "rule", "urgency", "status", "summary",
            "detail", "raised_at", "acknowledged_at", "resolved_at",
        ),
        rows.alerts,
    )  # fmt: skip
    bulk.load(
        engine,
        "text_opt_out",
        ("number", "opted_out_at", "opted_in_at", "keyword", "updated_at"),
        rows.opt_outs,
    )
    emails = ("report@bench.example", "small-report@bench.example")
    seed.coordinators(engine, [(1, 1, emails[0]), (2, 2, emails[1])], now)
    seed.finish(engine)
    tables = ("reminder", "questionnaire_response", "alert", "user_account")
    bulk.finish(engine, tables)
    bulk.settle(engine, ("patient", "care_plan", "pain_entry", *tables, "text_opt_out"))
    loaded = {
        "patient": size.patients + size.small_clinic,
        "pain_entry": len(rows.pain),
        "reminder": len(rows.reminders),
        "questionnaire_response": len(rows.answers),
        "alert": len(rows.alerts),
        "text_opt_out": len(rows.opt_outs),
    }
    return expected, emails, loaded


def report_range(now: datetime) -> tuple[date, date]:
    """The clinic's last ``RANGE_DAYS`` local days: every seeded procedure, alert and reminder."""
    today = now.astimezone(ZoneInfo(CLINIC_ZONE)).date()
    return today - timedelta(days=RANGE_DAYS - 1), today


# --- the measurements, in process ---------------------------------------------------------


class _Timer:
    """Wall seconds (what a user waits) and this process's CPU seconds (what the work costs
    here, whatever else the machine runs; on PostgreSQL the server's share is not in it)."""

    def __enter__(self) -> _Timer:
        gc.collect()  # each measurement starts from the same heap, not the last one's garbage
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _build(engine, clinic_id: int, start: date, end: date) -> tuple[ClinicReport, _Timer, list]:
    """One report: (report, its times, the statements it sent with their parameters)."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            clinic = session.get(Clinic, clinic_id)
            sent.clear()  # the clinic is the caller's; the report is what is measured
            with _Timer() as timer:
                report = build_report(session, clinic, start, end, datetime.now(UTC))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return report, timer, sent


def _replay(engine, statements: list, *, in_database_only: bool) -> tuple[_Timer, int]:
    """The times of ``statements`` run on the raw driver, and the rows fetched. With
    ``in_database_only`` each is wrapped in ``SELECT count(*)``: the database does its work,
    one row comes back."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        fetched = 0
        with _Timer() as timer:
            for statement, parameters in statements:
                if in_database_only:
                    statement = f"SELECT count(*) FROM ({statement}) AS report_statement"
                cursor.execute(statement, parameters)
                fetched += len(cursor.fetchall())
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return timer, fetched


def _app(database_url: str):
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": BENCH_SECRET,
            "BASE_URL": "http://127.0.0.1:5000",
            "ENV": "development",
            "WTF_CSRF_ENABLED": False,
        }
    )


def _signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/coordinator/login", data={"email": email, "password": triage.PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"in-process sign-in: HTTP {response.status_code}")
    return client


def _page_statements(engine, client, path: str) -> int:
    """SQL statements of one report page (after a first page: templates, metadata)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    client.get(path)
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if response.status_code != 200 or b'id="enrolled"' not in response.data:
        raise RuntimeError(f"report page answered {response.status_code}")
    return len(statements)


def _page(app, engine, client, path: str) -> dict[str, float]:
    """Seconds of one report page (wall and CPU), of its SQL (``sql_and_render_time``) and
    of rendering."""
    with sql_and_render_time(app, engine) as spent, _Timer() as timer:
        status = client.get(path).status_code
    if status != 200:
        raise RuntimeError(f"report page answered {status}")
    return {
        "page": timer.wall,
        "page_cpu": timer.cpu,
        "page_sql": spent["sql"],
        "page_render": spent["render"],
    }


def _round(app, engine, client, path: str, statements: list, start: date, end: date) -> dict:
    """One round, back to back (this machine's load changes by the minute): the report's
    statements in the database only, the same fetched raw, the report, the page."""
    in_database, _ = _replay(engine, statements, in_database_only=True)
    raw, rows = _replay(engine, statements, in_database_only=False)
    _, build, _ = _build(engine, 1, start, end)
    return {
        "in_database": in_database.wall,
        "raw": raw.wall,
        "build": build.wall,
        "raw_cpu": raw.cpu,
        "build_cpu": build.cpu,
        "rows_fetched": rows,
        **_page(app, engine, client, path),
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run(database_url: str, backend: str, size_name: str) -> list[Figure]:
    size = SIZES[size_name]
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    started = time.perf_counter()
    expected, emails, loaded = _seed(engine, size, now)
    seed_seconds = time.perf_counter() - started
    engine.dispose()
    start, end = report_range(now)
    path = f"/coordinator/report?start={start.isoformat()}&end={end.isoformat()}"

    app = _app(database_url)
    engine = app.extensions["tracker.engine"]
    client, small_client = (_signed_in(app, email) for email in emails)
    # First reports and pages also warm the caches (the database's, SQLAlchemy's, Jinja's).
    report, _, statements = _build(engine, 1, start, end)
    small_report, _, small_statements = _build(engine, 2, start, end)
    problems = expected[1].mismatches(report) + expected[2].mismatches(small_report)
    if problems:
        raise RuntimeError("the clinic report does not add up: " + "; ".join(problems))
    page_statements = _page_statements(engine, client, path)
    small_page_statements = _page_statements(engine, small_client, path)

    rounds = [_round(app, engine, client, path, statements, start, end) for _ in range(size.rounds)]
    engine.dispose()
    m = median_by(rounds, lambda r: r["build"] / r["raw"])
    build_ms, raw_ms, db_ms, page_ms = (_ms(m[k]) for k in ("build", "raw", "in_database", "page"))
    details = {
        "patients": size.patients,
        "small_clinic_patients": size.small_clinic,
        "rows_in_database": loaded,
        "range": [start.isoformat(), end.isoformat()],
        "seed_seconds": round(seed_seconds, 1),
        "rounds": size.rounds,
        "build_ms": build_ms,
        "raw_fetch_ms": raw_ms,
        "in_database_ms": db_ms,
        "page_ms": page_ms,
        "page_sql_ms": _ms(m["page_sql"]),
        "page_render_ms": _ms(m["page_render"]),
        # This process's CPU: steadier than wall times on a shared machine. On SQLite it
        # includes the database's work; on PostgreSQL the server's share is not in it.
        "cpu_ms": {k: _ms(m[f"{k}_cpu"]) for k in ("build", "raw", "page")},
        "rows_fetched_by_its_statements": m["rows_fetched"],
        "ratio_of_each_round": [ratio(r["build"], r["raw"]) for r in rounds],
        "ms_of_each_round": [
            {k: _ms(v) for k, v in r.items() if k != "rows_fetched"} for r in rounds
        ],
        "report": {
            "enrolled": report.enrolled,
            "completed": report.completed,
            "active": report.active,
            "days_with_pain": len(report.pain_by_day),
            "pain_plan_days": sum(s.n for s in report.pain_by_day.values()),
            "adherence_percent": report.adherence_percent,
            "alerts": sum(report.alerts_by_kind.values()),
            "reminders_delivered": report.reminders_delivered,
            "reminders_failed": report.reminders_failed,
            "opt_outs": report.opt_outs,
        },
    }
    n, small = size.patients, size.small_clinic
    return [
        Figure(
            benchmark="clinic_report",
            backend=backend,
            name=f"report build ({n:,} pts)",
            value=build_ms,
            unit="ms",
            limit_name=f"its {len(statements)} statements, raw fetch",
            limit=raw_ms,
            ratio=ratio(build_ms, raw_ms),
            higher_is_better=False,
            details=details,
        ),
        Figure(
            benchmark="clinic_report",
            backend=backend,
            name=f"report page ({n:,} pts, in process)",
            value=page_ms,
            unit="ms",
            limit_name="report build ms",
            limit=build_ms,
            ratio=ratio(page_ms, build_ms),
            higher_is_better=False,
            details={
                "page_ms_of_each_round": [_ms(r["page"]) for r in rounds],
                "page_cpu_ms": _ms(m["page_cpu"]),
                "page_sql_ms": _ms(m["page_sql"]),
                "page_render_ms": _ms(m["page_render"]),
            },
        ),
        Figure(
            benchmark="clinic_report",
            backend=backend,
            name="where it goes: its statements in the DB",
            value=db_ms,
            unit="ms",
            limit_name="report build ms",
            limit=build_ms,
            ratio=ratio(db_ms, build_ms),
            higher_is_better=False,
            details={"in_database_ms": db_ms, "raw_fetch_ms": raw_ms, "build_ms": build_ms},
        ),
        Figure(
            benchmark="clinic_report",
            backend=backend,
            name=f"SQL statements per report page ({n} vs {small} pts)",
            value=page_statements,
            unit="stmts",
            limit_name=f"{small}-patient clinic",
            limit=small_page_statements,
            ratio=ratio(page_statements, small_page_statements),
            target=1.0,
            higher_is_better=False,
            details={
                "page_large": page_statements,
                "page_small": small_page_statements,
                "build_report_large": len(statements),
                "build_report_small": len(small_statements),
                "build_report_declared": STATEMENTS,
            },
        ),
    ]
