"""Rate limits hold across gunicorn workers when their counts live in Redis.

Two sync workers serve a burst of concurrent failed link openings (so both workers take
part, which the access log's worker ids show); the limit still stops the same address after
the configured number of failures, because every worker counts in the same Redis keys.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from pathlib import Path

import pytest

from benchmarks.harness import gunicorn
from tests.conftest import IN_CI
from tests.hardening.http_client import Browser
from tracker import migrate

REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
LIMIT = 6


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


def _burst(base: str, count: int) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        browser = Browser(base)
        try:
            status = browser.get(f"/p/not-a-real-link-{n:04d}-{uuid.uuid4().hex}").status
        finally:
            browser.close()
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
    access_log = tmp_path / "access.log"
    env = {
        "TRACKER_RATELIMIT_STORAGE_URI": REDIS_URL,
        "TRACKER_RATELIMIT_KEY_PREFIX": prefix,
        "TRACKER_LINK_LIMIT_PER_ADDRESS": f"{LIMIT} per 15 minutes",
        "GUNICORN_CMD_ARGS": f"--access-logfile {access_log} --access-logformat '%(p)s %(s)s'",
    }
    with gunicorn(url, workers=2, extra_env=env) as base:
        burst = _burst(base, 3 * LIMIT)
        after = [_burst(base, 1)[0] for _ in range(6)]
    # Concurrent requests may each pass the check before the others are counted, but once
    # the shared count reaches the limit every worker refuses this address.
    assert set(burst) <= {404, 429}
    assert burst.count(404) >= LIMIT
    assert after == [429] * 6
    served_by = {line.split()[0] for line in access_log.read_text().splitlines() if line}
    assert len(served_by) >= 2, "both workers should have served requests"
    assert list(redis_client.scan_iter(match=f"*{prefix}*")), "counts are kept in Redis"
    assert not any(re.search(r"/p/", key.decode()) for key in redis_client.keys(f"*{prefix}*"))
