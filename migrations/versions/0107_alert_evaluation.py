"""The tick evaluates a plan's alert rules only when due: ``care_plan.alerts_due_at``.

Writes that add evidence (a pain score, a correction, a symptom report, a plan or clinic
change) set it to their time; each evaluation sets it to the plan's next local day. The
index lets the tick find the due active plans with one query instead of re-evaluating
every active plan every minute. Existing plans start NULL, i.e. due at the first tick.

Revision ID: 0107_alert_evaluation
Revises: 0106_hardening
Create Date: 2026-11-21 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0107_alert_evaluation"
down_revision: str | None = "0106_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "care_plan",
        sa.Column("alerts_due_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_care_plan_alerts_due", "care_plan", ["status", "alerts_due_at"])


def downgrade() -> None:
    op.drop_index("ix_care_plan_alerts_due", table_name="care_plan")
    with op.batch_alter_table("care_plan") as batch:
        batch.drop_column("alerts_due_at")
