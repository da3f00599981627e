"""Keep a plan's activities out of ``care_plan``'s rows on PostgreSQL.

Each plan carries its own copy of its template's activities, about 4.6 kB of JSON.
PostgreSQL compresses such a value and keeps it in the row while the row stays under about
2 kB, so each plan row was about 2 kB: at 300,000 plans the table was 586 MB, and every
scheduler tick reads every active plan's row for a few narrow columns. With
``toast_tuple_target = 128`` a row over 128 bytes has its long values (the activities; the
overrides when they are long) compressed and moved to the table's TOAST table, read only
when a page or a rule asks for them: 50 MB for the same 300,000 plans.

Only rows written from now on are laid out this way. Existing plan rows move as they are
next updated (the daily alert evaluation updates each active plan), or at once with
``VACUUM FULL care_plan`` in a maintenance window. SQLite has no such setting and needs
none: it reads a long value's overflow pages only when the value is asked for.

Revision ID: 0109_care_plan_narrow_rows
Revises: 0108_triage_indexes
Create Date: 2026-11-21 21:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0109_care_plan_narrow_rows"
down_revision: str | None = "0108_triage_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE care_plan SET (toast_tuple_target = 128)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE care_plan RESET (toast_tuple_target)")
