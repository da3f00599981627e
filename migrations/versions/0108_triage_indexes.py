"""The latest pain score of a plan, read by index: ``(plan_id, recorded_at, id)``.

The triage list shows each listed patient's latest current pain score. With this index the
database finds it by reading the plan's newest entries backwards, instead of reading and
sorting every score the plan has.

On PostgreSQL the index is built ``CONCURRENTLY``, outside the migration's transaction
(Alembic's ``autocommit_block``): ``pain_entry`` is the largest table, and a plain
``CREATE INDEX`` would block patients' pain scores for as long as the build takes. If such a
build fails, PostgreSQL leaves an invalid index of that name behind; drop it
(``DROP INDEX CONCURRENTLY ix_pain_entry_plan_recorded``) before upgrading again.

Revision ID: 0108_triage_indexes
Revises: 0107_alert_evaluation
Create Date: 2026-11-21 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0108_triage_indexes"
down_revision: str | None = "0107_alert_evaluation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NAME, TABLE, COLUMNS = "ix_pain_entry_plan_recorded", "pain_entry", ["plan_id", "recorded_at", "id"]


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.create_index(NAME, TABLE, COLUMNS, postgresql_concurrently=True)
    else:
        op.create_index(NAME, TABLE, COLUMNS)


def downgrade() -> None:
    if _on_postgresql():
        with op.get_context().autocommit_block():
            op.drop_index(NAME, table_name=TABLE, postgresql_concurrently=True)
    else:
        op.drop_index(NAME, table_name=TABLE)
