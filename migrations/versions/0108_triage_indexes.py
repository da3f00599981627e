"""The latest pain score of a plan, read by index: ``(plan_id, recorded_at, id)``.

The triage list shows each listed patient's latest current pain score. With this index the
database finds it by reading the plan's newest entries backwards, instead of reading and
sorting every score the plan has.

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


def upgrade() -> None:
    op.create_index("ix_pain_entry_plan_recorded", "pain_entry", ["plan_id", "recorded_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_pain_entry_plan_recorded", table_name="pain_entry")
