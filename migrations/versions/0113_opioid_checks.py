"""Opioid-aware driving rule: the daily opioid check-in's answers, and the clinic's setting.

- ``opioid_check``: "Are you taking opioid pain medicine today?" answers by plan and local
  day; a same-day change supersedes (both kept), one first answer a day.
- ``clinic.opioid_free_days_before_driving``: days in a row of "no" that end the
  no-driving-on-opioids restriction (1 until the clinic sets another number).

Revision ID: 0113_opioid_checks
Revises: 0112_patient_sessions
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0113_opioid_checks"
down_revision: str | None = "0112_patient_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "opioid_free_days_before_driving",
                sa.Integer(),
                nullable=False,
                server_default="1",
            )
        )
        batch.create_check_constraint("opioid_free_days", "opioid_free_days_before_driving >= 1")

    op.create_table(
        "opioid_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("taking", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_opioid_check_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["opioid_check.id"],
            name=op.f("fk_opioid_check_supersedes_id_opioid_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opioid_check")),
    )
    op.create_index(
        "ix_opioid_check_plan_day", "opioid_check", ["plan_id", "local_day"], unique=False
    )
    op.create_index("uq_opioid_check_supersedes_id", "opioid_check", ["supersedes_id"], unique=True)
    op.create_index(
        "uq_opioid_check_first_of_day",
        "opioid_check",
        ["plan_id", "local_day"],
        unique=True,
        sqlite_where=sa.text("supersedes_id IS NULL"),
        postgresql_where=sa.text("supersedes_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_opioid_check_first_of_day", table_name="opioid_check")
    op.drop_index("uq_opioid_check_supersedes_id", table_name="opioid_check")
    op.drop_index("ix_opioid_check_plan_day", table_name="opioid_check")
    op.drop_table("opioid_check")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_constraint(op.f("ck_clinic_opioid_free_days"), type_="check")
        batch.drop_column("opioid_free_days_before_driving")
