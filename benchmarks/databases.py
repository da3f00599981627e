"""Throwaway databases for a benchmark run: a SQLite file, or a PostgreSQL database with a
random name on the local server (like tests/conftest.py), migrated with Alembic and
dropped when the benchmark ends."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from tracker.core import migrate
from tracker.core.db import make_engine

POSTGRES_URL = os.environ.get(
    "TRACKER_BENCH_POSTGRES_URL",
    os.environ.get(
        "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
)
BACKENDS = ("sqlite", "postgresql")


def postgres_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


@contextmanager
def throwaway_database(backend: str) -> Iterator[str]:
    """An empty, migrated database on ``backend``; yields its URL and removes it after."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="tracker-bench-")
        url = f"sqlite:///{folder}/bench.db"
        try:
            migrate.upgrade(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    name = f"tracker_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
