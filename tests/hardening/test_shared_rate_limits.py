"""Rate limits hold across gunicorn workers when their counts live in Redis.

Two sync workers serve bursts of concurrent failed attempts -- personal links, and care team
sign-ins with a wrong password (so both workers take part, which the access log's worker ids
show); the limits still stop the address, and the account, after the configured number of
failures, because every worker counts in the same Redis keys.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from pathlib import Path

import pytest

from benchmarks.harness import gunicorn
from tests.conftest import IN_CI, NOW, make_test_app
from tests.hardening.http_client import Browser, csrf_token
from tracker import migrate
from tracker.db import session_factory
from tracker.models import Clinic, User
from tracker.passwords import hash_password

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
    access_log = tmp_path / "access.log"
    env = {
        "TRACKER_RATELIMIT_STORAGE_URI": REDIS_URL,
        "TRACKER_RATELIMIT_KEY_PREFIX": prefix,
        "TRACKER_LINK_LIMIT_PER_ADDRESS": f"{LIMIT} per 15 minutes",
        "TRACKER_SIGNIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
        "GUNICORN_CMD_ARGS": f"--access-logfile {access_log} --access-logformat '%(p)s %(s)s'",
    }
    with gunicorn(url, workers=2, extra_env=env) as base:
        burst = _burst(base, 3 * LIMIT)
        after = [_open_bad_link(base, n) for n in range(6)]
        sign_ins = _burst(base, 3 * ACCOUNT_LIMIT, lambda b, n: _sign_in(b, f"wrong {n}"))
        # Now even the right password waits, whichever worker answers.
        right = [_sign_in(base, PASSWORD) for _ in range(4)]
    # Concurrent requests may each pass the check before the others are counted, but once
    # the shared count reaches the limit every worker refuses this address.
    assert set(burst) <= {404, 429}
    assert burst.count(404) >= LIMIT
    assert after == [429] * 6
    assert set(sign_ins) <= {401, 429} and sign_ins.count(401) >= ACCOUNT_LIMIT
    assert right == [429] * 4
    served_by = {line.split()[0] for line in access_log.read_text().splitlines() if line}
    assert len(served_by) >= 2, "both workers should have served requests"
    assert list(redis_client.scan_iter(match=f"*{prefix}*")), "counts are kept in Redis"
    assert not any(re.search(r"/p/", key.decode()) for key in redis_client.keys(f"*{prefix}*"))


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
