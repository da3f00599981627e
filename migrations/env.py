"""Alembic environment: the models' metadata is the target; SQLite gets batch mode."""

from __future__ import annotations

import warnings
from logging.config import fileConfig

from alembic import context
from sqlalchemy.exc import SAWarning

from tracker.core import models  # noqa: F401 - registers every table on Base.metadata
from tracker.core.config import database_url_from_env
from tracker.core.db import Base, make_engine, normalize_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# SQLite cannot reflect an index on an expression (reminder's ``uq_reminder_day``), so the
# drift check skips it there; PostgreSQL's reflects and compares it. A batch (table-copying)
# migration of ``reminder`` on SQLite must create that index again itself.
warnings.filterwarnings(
    "ignore",
    message="Skipped unsupported reflection of expression-based index uq_reminder_day",
    category=SAWarning,
)
warnings.filterwarnings(
    "ignore",
    message="autogenerate skipping metadata-specified expression-based index 'uq_reminder_day'",
)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or database_url_from_env()
    if not url:
        raise SystemExit("set TRACKER_DATABASE_URL (or use `tracker db upgrade`)")
    return normalize_url(url)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:  # an unknown revision raises here: close the connection all the same
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
