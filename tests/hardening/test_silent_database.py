"""A database that stops answering (packets dropped, no reset) costs a bounded time, never a hang.

The TCP proxy's ``silence`` makes PostgreSQL silent: connections stay open and new ones are
accepted, but nothing comes back. Every wait is bounded by the DB_*_TIMEOUT settings
(tracker/core/db.py ``DatabaseTimeouts``; docs/operations.md, "When the database stops
answering"): a request answers the 503 page, a scheduler tick records its steps as failed
and returns, and both work again when the database answers, without a restart.

Each wait on the server runs in a thread joined with a deadline, so a regression fails the
test instead of hanging it; stopping the proxy at the end frees such a thread.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string

from tests.conftest import NOW, make_test_app
from tests.hardening.tcp_proxy import TcpProxy
from tracker.app import create_app
from tracker.core.config import ConfigError
from tracker.core.db import DEFAULT_TIMEOUTS, DatabaseTimeouts, get_session, make_engine
from tracker.core.models import SchedulerHeartbeat
from tracker.scheduler import process as scheduler
from tracker.scheduler.tick import TICK_STEPS

# The promise of docs/operations.md: with the default settings, a request against a silent
# database answers 503 in under this many seconds (gunicorn's worker timeout is 30 s).
PROMISED_SECONDS = 10
# Small settings for the tests that need not prove the defaults (2 s is libpq's least
# connect timeout).
QUICK = DatabaseTimeouts(connect=2, statement=1, read=2)
QUICK_CONFIG = {"DB_CONNECT_TIMEOUT": 2, "DB_STATEMENT_TIMEOUT": 1, "DB_READ_TIMEOUT": 2}
SLACK = 1.5  # seconds of scheduling noise allowed over a bound on a shared machine


def timed(
    limit: float, call: Callable[[], Any], unblock: Callable[[], None] | None = None
) -> tuple[Any, float]:
    """Run ``call`` in a thread; its result (or exception) and seconds taken, or a test
    failure if it is still waiting after ``limit`` seconds (after calling ``unblock``, e.g.
    cutting the proxy, so that nothing on the way out waits for the database again)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except Exception as exc:
            outcome["result"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        if unblock is not None:
            unblock()
        pytest.fail(f"still waiting for the database after {elapsed:.1f} s (bound {limit} s)")
    return outcome["result"], elapsed


def until(deadline_seconds: float, check: Callable[[], bool]) -> float:
    """Poll ``check`` until true; seconds taken, or a failure after ``deadline_seconds``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline_seconds:
            pytest.fail(f"did not recover within {deadline_seconds} s")
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = sa.make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    yield proxy
    proxy.stop()


def through(proxy: TcpProxy, database_url: str) -> str:
    return sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


def proxied_app(proxy: TcpProxy, database_url: str, **config: Any) -> Flask:
    app = make_test_app(through(proxy, database_url), FIXED_NOW=NOW, **config)
    app.testing = False  # real error handling, as in production

    @app.get("/probe")
    def probe() -> str:
        count = get_session().scalar(sa.text("SELECT count(*) FROM patient"))
        return render_template_string("<p>{{ n }} patients</p>", n=count)

    return app


@pytest.mark.postgres_only
def test_a_silent_database_answers_503_within_the_promised_time_and_heals(
    backend, database_url, proxy
):
    """With the default settings: the promise of docs/operations.md."""
    app = proxied_app(proxy, database_url)
    client = app.test_client()
    try:
        assert client.get("/probe").status_code == 200  # a pooled connection to go silent
        proxy.silence()

        down, elapsed = timed(PROMISED_SECONDS + SLACK, lambda: client.get("/probe"), proxy.stop)
        print(f"\n503 from a silent database (pooled connection) in {elapsed:.2f} s")
        assert down.status_code == 503
        page = down.get_data(as_text=True)
        assert "Temporarily unavailable" in page and "Traceback" not in page
        assert elapsed < PROMISED_SECONDS
        assert elapsed < DEFAULT_TIMEOUTS.read + SLACK

        health, elapsed = timed(
            PROMISED_SECONDS + SLACK, lambda: client.get("/healthz"), proxy.stop
        )
        print(f"/healthz right after: {elapsed:.2f} s")
        assert health.status_code == 503 and health.get_json()["database"] == "unreachable"
        assert elapsed < PROMISED_SECONDS

        proxy.resume()
        waited = until(
            DEFAULT_TIMEOUTS.connect + 5, lambda: client.get("/probe").status_code == 200
        )
        print(f"serving again {waited:.2f} s after the database answered")
    finally:
        proxy.stop()
        app.extensions["tracker.engine"].dispose()


@pytest.mark.postgres_only
def test_a_new_connection_to_a_silent_database_gives_up_after_the_connect_timeout(
    backend, database_url, proxy
):
    """No pooled connection: connecting is what waits. Then, for as long again, the engine
    fails at once instead of every request waiting out its own connect timeout."""
    app = proxied_app(proxy, database_url, **QUICK_CONFIG)
    client = app.test_client()
    try:
        proxy.silence()
        down, elapsed = timed(QUICK.connect + SLACK + 1, lambda: client.get("/probe"), proxy.stop)
        print(f"\n503 from a silent database (new connection) in {elapsed:.2f} s")
        assert down.status_code == 503
        assert QUICK.connect - 0.5 < elapsed < QUICK.connect + SLACK

        again, elapsed = timed(QUICK.connect + SLACK, lambda: client.get("/probe"), proxy.stop)
        assert again.status_code == 503 and elapsed < 0.5

        proxy.resume()
        until(QUICK.connect + 3, lambda: client.get("/probe").status_code == 200)
    finally:
        proxy.stop()
        app.extensions["tracker.engine"].dispose()


@pytest.mark.postgres_only
def test_a_connection_that_goes_silent_mid_transaction_is_cut_after_the_read_timeout(
    backend, database_url, proxy
):
    engine = make_engine(through(proxy, database_url), timeouts=QUICK)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            proxy.silence()
            error, elapsed = timed(
                QUICK.read + SLACK, lambda: conn.execute(sa.text("SELECT 2")), proxy.stop
            )
            assert isinstance(error, sa.exc.OperationalError)
            assert "did not answer within 2 s" in str(error)
            assert QUICK.read - 0.5 < elapsed < QUICK.read + SLACK
            assert conn.invalidated  # a lost connection: never handed out again
        proxy.resume()
        until(QUICK.connect + 3, lambda: _answers(engine))
    finally:
        proxy.stop()
        engine.dispose()


def _answers(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1")).scalar() == 1
    except sa.exc.OperationalError:
        return False


@pytest.mark.postgres_only
def test_the_server_cancels_a_slow_statement_and_the_connection_is_kept(backend, database_url):
    engine = make_engine(database_url, timeouts=QUICK)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1s"
            raw = conn.connection.dbapi_connection
            sock = socket.socket(fileno=raw.pgconn.socket)  # a view of libpq's socket
            try:
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                if hasattr(socket, "TCP_USER_TIMEOUT"):
                    user_timeout = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
                    assert user_timeout == QUICK.read * 1000
            finally:
                sock.detach()  # libpq owns the descriptor
            error, elapsed = timed(
                QUICK.read + SLACK, lambda: conn.execute(sa.text("SELECT pg_sleep(5)"))
            )
            assert isinstance(error, sa.exc.OperationalError)
            assert "statement timeout" in str(error) and elapsed < QUICK.read
            conn.rollback()
            assert not conn.invalidated
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_a_scheduler_tick_against_a_silent_database_fails_its_steps_and_returns(
    app, database_url, proxy, monkeypatch
):
    # ``app`` (direct, not proxied) empties the tables afterwards, heartbeats included.
    monkeypatch.setattr(scheduler, "freeze_long_lived", lambda: None)
    proxied = make_test_app(through(proxy, database_url), **QUICK_CONFIG)
    process = scheduler.SchedulerProcess(proxied, interval_seconds=60)
    step_failed = [f"{name}_failed" for name, _ in TICK_STEPS]
    try:
        summary, _ = timed(30, process.tick, proxy.stop)
        assert not any(key in summary for key in step_failed)  # a pooled connection now

        proxy.silence()
        summary, elapsed = timed(QUICK.read + QUICK.connect + SLACK, process.tick, proxy.stop)
        print(f"\ntick against a silent database returned in {elapsed:.2f} s")
        assert all(summary.get(key) == 1 for key in step_failed), summary
        assert elapsed < QUICK.read + SLACK

        # The next tick runs too (here after the engine's hold, so it connects afresh).
        time.sleep(QUICK.connect)
        summary, elapsed = timed(QUICK.read + QUICK.connect + SLACK, process.tick, proxy.stop)
        print(f"next tick, database still silent: {elapsed:.2f} s")
        assert all(summary.get(key) == 1 for key in step_failed), summary
        assert elapsed < QUICK.connect + SLACK

        proxy.resume()
        time.sleep(QUICK.connect)  # the engine's hold after the last timeout
        summary, _ = timed(30, process.tick, proxy.stop)
        assert not any(key in summary for key in step_failed), summary
        with proxied.extensions["tracker.sessionmaker"]() as session:
            beat = session.get(SchedulerHeartbeat, process.name)
        assert beat is not None and beat.last_tick_at.isoformat() == summary["now"]
    finally:
        proxy.stop()
        proxied.extensions["tracker.engine"].dispose()


def test_sqlite_waits_for_a_lock_as_long_as_the_statement_timeout(tmp_path):
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}", timeouts=QUICK)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock

        def write() -> None:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (1)"))

        error, elapsed = timed(QUICK.statement + 5, write)
        assert isinstance(error, sa.exc.OperationalError) and "locked" in str(error)
        assert QUICK.statement - 0.3 < elapsed < QUICK.statement + SLACK
    finally:
        holder.close()
        engine.dispose()


def test_the_settings_reach_the_engine(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path}/x.db", DB_STATEMENT_TIMEOUT=3, DB_READ_TIMEOUT=4)
    with app.extensions["tracker.engine"].connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
    app.extensions["tracker.engine"].dispose()


def test_the_defaults_keep_the_promise():
    defaults = DEFAULT_TIMEOUTS
    assert (defaults.connect, defaults.statement, defaults.read) == (3, 5, 6)  # as documented
    assert DEFAULT_TIMEOUTS.statement < DEFAULT_TIMEOUTS.read < PROMISED_SECONDS
    assert DEFAULT_TIMEOUTS.connect < PROMISED_SECONDS


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRACKER_DB_READ_TIMEOUT": "5"}, "DB_READ_TIMEOUT must be longer than"),
        ({"TRACKER_DB_CONNECT_TIMEOUT": "1"}, "DB_CONNECT_TIMEOUT must be at least 2"),
        ({"TRACKER_DB_STATEMENT_TIMEOUT": "0"}, "DB_STATEMENT_TIMEOUT must be at least 1"),
        ({"TRACKER_DB_READ_TIMEOUT": '"soon"'}, "DB_READ_TIMEOUT must be a whole number"),
    ],
)
def test_database_timeouts_are_checked_at_start(monkeypatch, tmp_path, env, message):
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app(serving=False)


def test_database_timeouts_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("TRACKER_DB_STATEMENT_TIMEOUT", "30")
    monkeypatch.setenv("TRACKER_DB_READ_TIMEOUT", "35")
    app = create_app(serving=False)
    assert DatabaseTimeouts.from_config(app.config) == DatabaseTimeouts(3, 30, 35)
    app.extensions["tracker.engine"].dispose()


def test_waiting_too_long_for_a_pooled_connection_is_a_503_too(app):
    app.testing = False

    @app.get("/pool-exhausted")
    def pool_exhausted() -> str:
        raise sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")

    response = app.test_client().get("/pool-exhausted")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)
