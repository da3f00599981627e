"""A pain entry or symptom report is corrected at most once: unique ``supersedes_id``.

Corrections never edit a row; they add one that supersedes it. The unique index makes two
simultaneous corrections of the same row impossible (the second is refused), and serves the
"is this row superseded?" lookup every daily summary makes.

Revision ID: 0106_hardening
Revises: 0002
Create Date: 2026-11-21 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0106_hardening"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("uq_pain_entry_supersedes_id", "pain_entry", ["supersedes_id"], unique=True)
    op.create_index(
        "uq_symptom_report_supersedes_id", "symptom_report", ["supersedes_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_symptom_report_supersedes_id", table_name="symptom_report")
    op.drop_index("uq_pain_entry_supersedes_id", table_name="pain_entry")
