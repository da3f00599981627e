"""Content sign-off: who approved which version of a plan template or check file, and when.

- ``content_approval``: one row per approval by a clinic's admin of one version of a
  content file (a plan template in schedules/, or "checks/<id>" for schedules/checks/),
  with the SHA-256 of the patient-facing sentences the review sheet showed and a note.

Revision ID: 0114_content_approvals
Revises: 0113_opioid_checks
Create Date: 2026-12-06 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0114_content_approvals"
down_revision: str | None = "0113_opioid_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_content_approval_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_content_approval_approved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_approval")),
    )
    op.create_index(
        "ix_content_approval_clinic_template",
        "content_approval",
        ["clinic_id", "template_id", "version"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_content_approval_clinic_template", table_name="content_approval")
    op.drop_table("content_approval")
