"""Recovery outcomes: patients' answers to function questionnaires.

- ``questionnaire_response``: one row per plan, questionnaire and time point (days after the
  procedure), with the answers, the score (NULL: too many questions left blank) and how many
  questions were answered. Answering again within the time point's window replaces the row;
  the previous answers go to the audit log.

Revision ID: 0117_outcomes
Revises: 0116_two_way_texts
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0117_outcomes"
down_revision: str | None = "0116_two_way_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=100), nullable=False),
        sa.Column("questionnaire_version", sa.Integer(), nullable=False),
        sa.Column("time_point_day", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("recorded_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("answered >= 0", name=op.f("ck_questionnaire_response_answered")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_questionnaire_response_plan_id_care_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint(
            "plan_id",
            "questionnaire_id",
            "time_point_day",
            name=op.f("uq_questionnaire_response_plan_id_questionnaire_id_time_point_day"),
        ),
    )


def downgrade() -> None:
    op.drop_table("questionnaire_response")
