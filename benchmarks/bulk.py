"""Fast synthetic data: COPY on PostgreSQL, the driver's executemany on SQLite.

Values are given as Python objects (date, datetime, time, JSON text); for SQLite they are
converted to the text SQLAlchemy itself stores, so the product reads them back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from itertools import islice
from typing import Any

from sqlalchemy import Engine, text


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def sqlite_row(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_sqlite_value(v) for v in row)


def load(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``table``; returns how many. Ids are given explicitly."""
    count = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            iterator = iter(rows)
            while chunk := [sqlite_row(r) for r in islice(iterator, 20_000)]:
                cursor.executemany(statement, chunk)
                count += len(chunk)
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    return count


def finish(engine: Engine, tables: Sequence[str]) -> None:
    """After loading with explicit ids: move PostgreSQL sequences past them, refresh stats."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
                )
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))
        else:
            conn.execute(text("ANALYZE"))


def settle(engine: Engine, tables: Sequence[str]) -> None:
    """Bring tables just bulk-written to the state a running database keeps them in:
    vacuumed and analysed (PostgreSQL's autovacuum would have done it between the day's
    ticks), with the write-ahead log checkpointed, so that a measurement that follows does
    not share the machine with that housekeeping."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM (ANALYZE) {table}"))
            conn.execute(text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
