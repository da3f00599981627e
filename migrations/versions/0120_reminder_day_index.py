"""One unique index for a day's reminders, the patient's and each caregiver's.

0119 replaced the unique (plan, kind, day, channel) constraint with two partial unique
indexes, one for the patient's rows (``caregiver_id IS NULL``) and one for caregivers'. A
partial index serves only the queries that repeat its condition, so every read of a plan's
reminders that did not (the plan step's "already planned?" check, the patient page's list of
messages) scanned the whole table: at 1,000,000 patients two schedulers each took longer
than one. ``uq_reminder_day`` is unique over ``(plan_id, kind, local_day, channel,
coalesce(caregiver_id, 0))``: the same two rules in one index whose leading columns serve
every such read.

On PostgreSQL the new index is built ``CONCURRENTLY`` before the old ones are dropped, outside
the migration's transaction (Alembic's ``autocommit_block``), so reminders are planned and
sent throughout; ``INSERT ... ON CONFLICT DO NOTHING`` is guarded by whichever unique index
exists. If the build fails, PostgreSQL leaves an invalid index of that name behind; drop it
(``DROP INDEX CONCURRENTLY uq_reminder_day``) before upgrading again.

Revision ID: 0120_reminder_day_index
Revises: 0119_caregivers_languages
Create Date: 2026-12-06 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120_reminder_day_index"
down_revision: str | None = "0119_caregivers_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "reminder"
DAY = ["plan_id", "kind", "local_day", "channel"]
# name -> (columns, partial condition) of 0119's two indexes.
PARTIAL = {
    "uq_reminder_patient_day": (DAY, "caregiver_id IS NULL"),
    "uq_reminder_caregiver_day": ([*DAY, "caregiver_id"], "caregiver_id IS NOT NULL"),
}


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _create(name: str, columns: list, **kw) -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.create_index(name, TABLE, columns, unique=True, postgresql_concurrently=True, **kw)
    else:
        op.create_index(name, TABLE, columns, unique=True, **kw)


def _drop(name: str) -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.drop_index(name, table_name=TABLE, postgresql_concurrently=True)
    else:
        op.drop_index(name, table_name=TABLE)


def upgrade() -> None:
    _create("uq_reminder_day", [*DAY, sa.text("coalesce(caregiver_id, 0)")])
    for name in PARTIAL:
        _drop(name)


def downgrade() -> None:
    for name, (columns, condition) in PARTIAL.items():
        _create(
            name,
            columns,
            sqlite_where=sa.text(condition),
            postgresql_where=sa.text(condition),
        )
    _drop("uq_reminder_day")
