"""Database plumbing: declarative base, UTC datetimes, engines and per-request sessions."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Stable constraint names, so migrations can refer to them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and always timezone-aware in Python.

    Naive datetimes are refused rather than guessed at: a naive value is a bug
    (someone read the local clock), and SQLite would otherwise store it silently.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC text there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the application waits for its database, in seconds (docs/operations.md,
    "When the database stops answering"). ``None`` means no bound.

    - ``connect``: to open a connection (libpq ``connect_timeout``, per address tried);
    - ``statement``: for one statement to run, enforced by the server (PostgreSQL
      ``statement_timeout``: the statement is cancelled and the connection stays usable),
      and on SQLite how long a statement waits for another writer's lock (``busy_timeout``);
    - ``read``: for any answer on an open PostgreSQL connection (a statement, a commit, a
      pool pre-ping). When it passes the server is taken to be silent: the connection is
      closed, the operation fails like a lost connection, and for ``connect`` seconds new
      connections fail at once instead of each waiting ``connect`` seconds again. Longer
      than ``statement``, so that a merely slow statement is cancelled by the server first.

    With the defaults a request or a tick step meets a silent database for at most
    ``read`` (a pooled connection) or ``connect`` (a new one) seconds: 6 s.
    """

    connect: int | None = 3
    statement: int | None = 5
    read: int | None = 6

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DatabaseTimeouts:
        """The ``TRACKER_DB_*_TIMEOUT`` settings (tracker/core/config.py)."""
        return cls(
            connect=config["DB_CONNECT_TIMEOUT"],
            statement=config["DB_STATEMENT_TIMEOUT"],
            read=config["DB_READ_TIMEOUT"],
        )


DEFAULT_TIMEOUTS = DatabaseTimeouts()
# What ``make_engine`` uses when given no timeouts (migrations, tests and benchmarks that
# build their own engine): a connect timeout, but no bound on a statement, since a schema
# change on a large table may rightly take minutes.
MAINTENANCE_TIMEOUTS = DatabaseTimeouts(connect=DEFAULT_TIMEOUTS.connect, statement=None, read=None)
# TCP keepalive on PostgreSQL connections, so that a pooled connection whose server vanished
# while it sat idle is found dead before it is used (seconds).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 30, 10, 3


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the scheduler write while web requests read the same file.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return set_pragmas


class _Silence:
    """One engine's memory of its database not answering: after a timeout, new connections
    fail at once for ``hold`` seconds (every thread of the process shares it)."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.until = 0.0

    def noticed(self) -> None:
        self.until = time.monotonic() + self.hold

    def remaining(self) -> float:
        return self.until - time.monotonic()


def _postgres_connect_args(url: str, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """libpq connection parameters for the timeouts; a parameter already in the URL wins."""
    query = make_url(url).query
    args: dict[str, Any] = {
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
    }
    if timeouts.connect:
        args["connect_timeout"] = timeouts.connect
    if timeouts.read:
        # Sent data left unacknowledged this long (the server's host is gone) breaks the
        # connection at the kernel, before the read bound would.
        args["tcp_user_timeout"] = timeouts.read * 1000
    if timeouts.statement:
        options = f"-c statement_timeout={timeouts.statement * 1000}"
        # The URL's own options come last, so that its -c settings win.
        args["options"] = f"{options} {query['options']}" if "options" in query else options
    return {key: value for key, value in args.items() if key == "options" or key not in query}


# psycopg (3.2 and later, as far as this was checked: 3.3) takes a deadline in
# ``Connection.wait`` and raises its internal ``_WaitTimeout`` when it passes. Without them
# reads are bounded only by the kernel (tcp_user_timeout) and the server (statement_timeout).
READS_CAN_BE_BOUNDED = "timeout" in inspect.signature(
    psycopg.Connection.wait
).parameters and hasattr(psycopg.errors, "_WaitTimeout")


class DatabaseDidNotAnswer(psycopg.OperationalError):
    """The server left a request unanswered past the read timeout (or did so a moment ago).
    Counts as a lost connection: SQLAlchemy invalidates the pool, the web answers 503."""


class _BoundedConnection(psycopg.Connection):  # type: ignore[type-arg]
    """A psycopg connection whose every wait for the server (a statement and its rows,
    commit, rollback, the pool's pre-ping) ends after ``read_timeout`` seconds: psycopg
    routes all of them through ``wait``."""

    read_timeout: float | None = None
    silence: _Silence | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if timeout is not None or not self.read_timeout:
            return super().wait(gen, interval, timeout)  # a caller's own bound (notifies)
        try:
            return super().wait(gen, interval, self.read_timeout)
        except psycopg.errors._WaitTimeout:
            # The protocol is now out of step: this connection cannot be used again.
            # Closed, it is "broken" to SQLAlchemy, which then invalidates the pool.
            self.pgconn.finish()
            if self.silence is not None:
                self.silence.noticed()
            raise DatabaseDidNotAnswer(
                f"the database did not answer within {self.read_timeout:g} s"
            ) from None


def _bounded_psycopg_connect(timeouts: DatabaseTimeouts) -> Any:
    """A ``do_connect`` hook opening ``_BoundedConnection``s, and failing at once while
    the engine's database was silent a moment ago."""
    silence = _Silence(hold=float(timeouts.connect or timeouts.read or 0))

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        wait = silence.remaining()
        if wait > 0:
            raise DatabaseDidNotAnswer(
                f"the database did not answer a moment ago; next try in {wait:.1f} s"
            )
        try:
            conn = _BoundedConnection.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            silence.noticed()
            raise
        conn.read_timeout = timeouts.read if READS_CAN_BE_BOUNDED else None
        conn.silence = silence
        return conn

    return connect


def insert_or_ignore(session: Session, table: Any, **conflict: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` for the session's database
    (PostgreSQL or SQLite); ``conflict`` as for ``on_conflict_do_nothing``."""
    return insert_or_ignore_on(session.get_bind().dialect.name, table, **conflict)


def insert_or_ignore_on(dialect: str, table: Any, **conflict: Any) -> Any:
    """``insert_or_ignore`` for a database kind by name ("postgresql" or "sqlite"), for a
    statement built once and kept."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(**conflict)


def normalize_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and use the psycopg 3 driver for it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, timeouts: DatabaseTimeouts | None = None, **kwargs: Any) -> Engine:
    """Create an engine with the settings this application relies on.

    ``timeouts`` bound every wait for the database (``DatabaseTimeouts``); the application's
    engine (web, CLI, scheduler: ``init_app``) takes them from the configuration, and
    without them only connecting is bounded (``MAINTENANCE_TIMEOUTS``).
    """
    url = normalize_url(url)
    timeouts = timeouts or MAINTENANCE_TIMEOUTS
    # Statement parameters hold pain notes, names and token hashes: keep them out of SQL
    # logging and out of the text of database errors (which end up in logs).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        busy = (timeouts.statement or DEFAULT_TIMEOUTS.statement or 5) * 1000
        event.listen(engine, "connect", _sqlite_pragmas(busy))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if timeouts.connect and timeouts.read:
        # Waiting for a free pooled connection is bounded like the database itself.
        kwargs.setdefault("pool_timeout", timeouts.connect + timeouts.read)
    connect_args = _postgres_connect_args(url, timeouts)
    connect_args.update(kwargs.pop("connect_args", {}))
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "do_connect", _bounded_psycopg_connect(timeouts))
        if timeouts.read and not READS_CAN_BE_BOUNDED:
            log.warning("psycopg %s cannot bound reads; upgrade it", psycopg.__version__)
    return engine


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"], timeouts=DatabaseTimeouts.from_config(app.config)
    )
    app.extensions["tracker.engine"] = engine
    app.extensions["tracker.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["tracker.engine"]


def session_factory(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions["tracker.sessionmaker"]


def get_session() -> Session:
    """The session of the current request or app context (one per context)."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def utcnow() -> datetime:
    """The only place below the views and CLI that may read the clock is their caller."""
    return datetime.now(UTC)
