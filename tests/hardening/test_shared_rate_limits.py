"""Rate limits hold across gunicorn workers when their counts live in Redis.

Two sync workers serve bursts of concurrent failed attempts -- personal links, and care team
sign-ins with a wrong password (so both workers take part, which the access log's worker ids
show); the limits stop the address, and the account from that address, after exactly the
configured number of failures, because every worker counts in the same Redis keys with one
atomic increment-and-compare (rate_limits.Attempts).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks.harness import gunicorn
from tests.conftest import IN_CI, NOW, make_test_app
from tests.hardening.http_client import Browser, csrf_token
from tracker.care.passwords import hash_password
from tracker.core import migrate
from tracker.core.db import session_factory
from tracker.core.models import Clinic, User
from tracker.plans.enrollment import enroll, validate_request

REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
LIMIT = 6
ACCOUNT_LIMIT = 3
EMAIL = "coordinator@limits.example"
PASSWORD = "the right password 2026"


@pytest.fixture
def redis_prefix():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI requires Redis)", pytrace=False)
        pytest.skip(message)
    prefix = f"tracker-test-{uuid.uuid4().hex[:12]}"
    yield client, prefix
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def _open_bad_link(base: str, n: int) -> int:
    browser = Browser(base)
    try:
        return browser.get(f"/p/not-a-real-link-{n:04d}-{uuid.uuid4().hex}").status
    finally:
        browser.close()


def _sign_in(base: str, password: str) -> int:
    browser = Browser(base)
    try:
        token = csrf_token(browser.get("/coordinator/login").body)
        form = {"csrf_token": token, "email": EMAIL, "password": password}
        return browser.post("/coordinator/login", form).status
    finally:
        browser.close()


def _burst(base: str, count: int, attempt=_open_bad_link) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        status = attempt(base, n)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_link_limits_hold_across_gunicorn_workers(
    backend, database_factory, redis_prefix, tmp_path: Path
):
    redis_client, prefix = redis_prefix
    url = database_factory.create(backend)
    migrate.upgrade(url)
    _add_coordinator(url)
    link = _link_of(url)
    access_log = tmp_path / "access.log"
    env = {
        "TRACKER_RATELIMIT_STORAGE_URI": REDIS_URL,
        "TRACKER_RATELIMIT_KEY_PREFIX": prefix,
        "TRACKER_LINK_LIMIT_PER_ADDRESS": f"{LIMIT} per 15 minutes",
        "TRACKER_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS": f"{ACCOUNT_LIMIT} per 15 minutes",
        "GUNICORN_CMD_ARGS": f"--access-logfile {access_log} --access-logformat '%(p)s %(s)s'",
    }
    with gunicorn(url, workers=2, extra_env=env) as base:
        burst = _burst(base, 3 * LIMIT)
        after = [_open_bad_link(base, n) for n in range(6)]
        sign_ins = _burst(base, 3 * ACCOUNT_LIMIT, lambda b, n: _sign_in(b, f"wrong {n}"))
        # This address is paused for the account, whichever worker answers (the owner
        # elsewhere is not: tests/coordinator/test_sign_in_limits.py) ...
        right = [_sign_in(base, PASSWORD) for _ in range(4)]
        # ... while a link that works always works from it.
        good_link = _open_link(base, link)
    # Counting is one atomic step in Redis: concurrent requests on two workers cannot get
    # past a limit, so exactly the limit of them were answered (and passwords checked).
    assert set(burst) <= {404, 429}
    assert burst.count(404) == LIMIT
    assert after == [429] * 6
    assert set(sign_ins) <= {401, 429} and sign_ins.count(401) == ACCOUNT_LIMIT
    assert right == [429] * 4
    assert good_link == 302
    served_by = {line.split()[0] for line in access_log.read_text().splitlines() if line}
    assert len(served_by) >= 2, "both workers should have served requests"
    assert list(redis_client.scan_iter(match=f"*{prefix}*")), "counts are kept in Redis"
    assert not any(re.search(r"/p/", key.decode()) for key in redis_client.keys(f"*{prefix}*"))


def _open_link(base: str, path: str) -> int:
    browser = Browser(base)
    try:
        return browser.get(path).status
    finally:
        browser.close()


def _link_of(url: str) -> str:
    """A working personal link of a patient enrolled in the coordinator's clinic."""
    app = make_test_app(url)
    try:
        with session_factory(app)() as session:
            clinic = session.scalars(select(Clinic)).one()
            request = validate_request(
                templates=app.extensions["tracker.templates"],
                now=datetime.now(UTC),
                name="Pat Limits",
                procedure="kyphoplasty",
                procedure_date=datetime.now(UTC).date().isoformat(),
                timezone="America/New_York",
            )
            result = enroll(
                session,
                clinic,
                request,
                templates=app.extensions["tracker.templates"],
                now=datetime.now(UTC),
                grace_days=14,
            )
            session.commit()
            return f"/p/{result.link_token}"
    finally:
        app.extensions["tracker.engine"].dispose()


def _add_coordinator(url: str) -> None:
    app = make_test_app(url)
    with session_factory(app)() as session:
        clinic = Clinic(name="Limits Clinic", phone="555-0100", created_at=NOW)
        session.add(clinic)
        session.flush()
        session.add(
            User(
                clinic_id=clinic.id,
                email=EMAIL,
                name="Care Coordinator",
                password_hash=hash_password(PASSWORD),
                created_at=NOW,
            )
        )
        session.commit()
    app.extensions["tracker.engine"].dispose()
