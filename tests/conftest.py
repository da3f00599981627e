"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

Each test session creates its own throwaway databases (a SQLite file, and a PostgreSQL
database with a random name on the local server), builds the schema with Alembic (the
only source of schema), and empties the tables after every test.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.core import migrate
from tracker.core.db import Base, make_engine, session_factory
from tracker.core.models import Clinic
from tracker.plans.enrollment import Enrollment, enroll, validate_request
from tracker.plans.templates import PlanTemplate

# The server's maintenance database; test databases are created beside it.
POSTGRES_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The headless Chromium fixtures (browser, live_server) for the end-to-end tests.
pytest_plugins = ["tests.browser"]
# A fixed instant for tests: Saturday 2026-11-21 15:00 UTC (10:00 in New York).
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
# For processes started as in production (the scheduler, gunicorn): TEST_SECRET_KEY is
# published here, so outside TESTING the app refuses it (tracker/core/secret_key.py).
PROCESS_SECRET_KEY = secrets.token_urlsafe(48)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated database backends to run database tests on",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = [b for b in metafunc.config.getoption("backends").split(",") if b]
        if metafunc.definition.get_closest_marker("postgres_only"):
            backends = [b for b in backends if b == "postgresql"]
        elif metafunc.definition.get_closest_marker("layout_sweep"):
            backends = backends[:1]  # the storage under the pages is tested on every backend
        metafunc.parametrize("backend", backends, scope="session")


def _postgres_reachable() -> str | None:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


def _require_postgres() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
    if IN_CI:
        pytest.fail(f"{message} (CI requires PostgreSQL)", pytrace=False)
    pytest.skip(message)


class DatabaseFactory:
    """Creates empty databases for a backend and drops them at the end of the session."""

    def __init__(self, tmp_dir: str) -> None:
        self.tmp_dir = tmp_dir
        self.created: list[str] = []

    def create(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp_dir}/tracker-{uuid.uuid4().hex[:8]}.db"
        _require_postgres()
        name = f"tracker_test_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return str(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(False))

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(str(tmp_path_factory.mktemp("db")))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(backend: str, database_factory: DatabaseFactory) -> str:
    """A migrated database shared by the session's tests on ``backend``."""
    url = database_factory.create(backend)
    migrate.upgrade(url)
    return url


def statements_of(engine: sa.Engine, action: Callable[[], Any]) -> list[tuple[str, Any]]:
    """(SQL, parameters) of every statement ``engine`` sends while ``action()`` runs."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def selects_of(engine: sa.Engine, action: Callable[[], Any]) -> list[str]:
    """The SELECT statements among ``statements_of``."""
    return [
        sql
        for sql, _ in statements_of(engine, action)
        if sql.lstrip().upper().startswith("SELECT")
    ]


def _empty_tables(app: Flask) -> None:
    engine = app.extensions["tracker.engine"]
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url)
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with session_factory(app)() as session:
        yield session


@pytest.fixture
def templates(app: Flask) -> dict[str, PlanTemplate]:
    return app.extensions["tracker.templates"]


@pytest.fixture
def clinic(session: Session) -> Clinic:
    clinic = Clinic(
        name="Test Spine Clinic", phone="555-0142", timezone="America/New_York", created_at=NOW
    )
    session.add(clinic)
    session.commit()
    return clinic


@pytest.fixture
def enroll_patient(
    session: Session, clinic: Clinic, templates: dict[str, PlanTemplate]
) -> Callable[..., Enrollment]:
    """Enrol a patient (committed); keyword arguments override the defaults."""

    def _enroll(**fields: Any) -> Enrollment:
        now = fields.pop("now", NOW)
        target = fields.pop("clinic", clinic)
        using = fields.pop("templates", templates)
        values = {
            "name": "Pat Example",
            "procedure": "kyphoplasty",
            "procedure_date": "2026-11-20",
            "timezone": "America/New_York",
        }
        values.update(fields)
        request = validate_request(templates=using, now=now, **values)
        result = enroll(session, target, request, templates=using, now=now, grace_days=14)
        session.commit()
        return result

    return _enroll
