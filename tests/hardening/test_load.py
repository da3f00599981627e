"""Load, nothing lost: concurrent patients under gunicorn (several workers) on PostgreSQL.

Twenty patients, each signed in by their own personal link in their own thread, log pain and
check tasks off as fast as the server answers, for a bounded time and a bounded number of
requests. Every pain entry carries a note unique to its request, so the database can be
compared with the client's ledger one row at a time: every success has exactly its row,
nothing that failed left one, and nothing answered 5xx.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from benchmarks.harness import gunicorn
from tests.conftest import make_test_app
from tests.hardening.http_client import Browser, csrf_token
from tracker.core import migrate
from tracker.core.db import session_factory, utcnow
from tracker.core.models import CheckOff, Clinic, PainEntry
from tracker.core.timeutil import local_day
from tracker.plans.enrollment import enroll, validate_request

PATIENTS = 20
SECONDS = 15
MAX_POSTS = 2400  # hard cap over all patients, whatever the machine's speed
TIMEZONE = "America/New_York"
_TASK_FORM = re.compile(r'action="/me/tasks/([a-z0-9_]+)"')


def _enrol(url: str) -> list[tuple[int, str]]:
    app = make_test_app(url)
    now = utcnow()
    today = local_day(now, TIMEZONE)
    patients = []
    with session_factory(app)() as session:
        clinic = Clinic(name="Load Clinic", phone="555-0100", timezone=TIMEZONE, created_at=now)
        session.add(clinic)
        session.flush()
        for n in range(PATIENTS):
            request = validate_request(
                name=f"Load Patient {n}",
                procedure="kyphoplasty",
                procedure_date=(today - timedelta(days=2)).isoformat(),
                timezone=TIMEZONE,
                templates=app.extensions["tracker.templates"],
                now=now,
            )
            result = enroll(
                session,
                clinic,
                request,
                templates=app.extensions["tracker.templates"],
                now=now,
                grace_days=14,
            )
            patients.append((result.plan.id, result.link_token))
        session.commit()
    app.extensions["tracker.engine"].dispose()
    return patients


class Ledger:
    """What the clients were told, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.statuses: Counter[int] = Counter()
        self.pain_saved: dict[int, set[str]] = {}
        self.pain_failed: set[str] = set()
        self.tasks_done: dict[int, set[str]] = {}
        self.errors: list[str] = []

    def take_post(self) -> bool:
        with self.lock:
            if self.posts >= MAX_POSTS:
                return False
            self.posts += 1
            return True


def _patient(base: str, plan_id: int, token: str, ledger: Ledger, stop_at: float) -> None:
    browser = Browser(base)
    saved, done = set(), set()
    try:
        signed_in = browser.get(f"/p/{token}")
        assert signed_in.status == 302, signed_in.status
        today = browser.get("/me/")
        tasks = _TASK_FORM.findall(today.body)
        day = re.search(r'name="day" value="([0-9-]+)"', today.body).group(1)
        token_value = csrf_token(browser.get("/me/pain").body)
        n = 0
        while time.monotonic() < stop_at and ledger.take_post():
            n += 1
            if tasks and n % 3 == 0:
                key = tasks[(n // 3) % len(tasks)]
                reply = browser.post(
                    f"/me/tasks/{key}", {"csrf_token": token_value, "action": "done", "day": day}
                )
                if reply.status == 302:
                    done.add(key)
            else:
                note = f"load {plan_id}-{n}"
                reply = browser.post(
                    "/me/pain", {"csrf_token": token_value, "score": str(n % 11), "note": note}
                )
                (saved if reply.status == 302 else ledger.pain_failed).add(note)
            with ledger.lock:
                ledger.statuses[reply.status] += 1
            if reply.status == 302:
                # Follow the redirect like a browser (this also reads the flash message).
                follow = browser.get("/me/")
                with ledger.lock:
                    ledger.statuses[follow.status] += 1
    except Exception as exc:  # reported, and fails the test below
        with ledger.lock:
            ledger.errors.append(f"patient {plan_id}: {type(exc).__name__}: {exc}")
    finally:
        browser.close()
        with ledger.lock:
            ledger.pain_saved[plan_id] = saved
            ledger.tasks_done[plan_id] = done


@pytest.mark.postgres_only
def test_concurrent_patients_lose_nothing_under_gunicorn(backend, database_factory):
    url = database_factory.create(backend)
    migrate.upgrade(url)
    patients = _enrol(url)
    ledger = Ledger()
    started = time.monotonic()
    with gunicorn(url, workers=4) as base:
        stop_at = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=_patient, args=(base, plan_id, token, ledger, stop_at))
            for plan_id, token in patients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
        assert not any(thread.is_alive() for thread in threads)
    elapsed = time.monotonic() - started

    assert ledger.errors == []
    assert not [s for s in ledger.statuses if s >= 500], ledger.statuses
    assert set(ledger.statuses) <= {200, 302}, ledger.statuses
    assert ledger.pain_failed == set()
    saved = sum(len(notes) for notes in ledger.pain_saved.values())
    assert saved > PATIENTS  # real load happened: every patient saved more than once

    app = make_test_app(url)
    with session_factory(app)() as session:
        rows = session.execute(select(PainEntry.plan_id, PainEntry.note)).all()
        checkoffs = session.execute(select(CheckOff.plan_id, CheckOff.activity_key)).all()
    app.extensions["tracker.engine"].dispose()
    # Exactly one row per success, and no row that nobody was told about.
    assert len(rows) == saved
    by_plan: dict[int, set[str]] = {}
    for plan_id, note in rows:
        by_plan.setdefault(plan_id, set()).add(note)
    assert by_plan == {p: notes for p, notes in ledger.pain_saved.items() if notes}
    assert sorted(checkoffs) == sorted(
        (plan_id, key) for plan_id, keys in ledger.tasks_done.items() for key in keys
    )
    print(  # measured figures, shown with -s
        f"\nload: {PATIENTS} patients, {ledger.posts} posts, {saved} pain rows, "
        f"{len(checkoffs)} check-offs, statuses {dict(ledger.statuses)}, {elapsed:.1f}s"
    )
