"""Server-side patient sessions: signing out ends every copy of the cookie; idle timeout.

- ``patient_session``: one row per signed-in browser of a patient (the SHA-256 of the
  random id its cookie carries), with when it started, was last used, and ended.

Revision ID: 0112_patient_sessions
Revises: 0111_delivery_incidents
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0112_patient_sessions"
down_revision: str | None = "0111_delivery_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_session_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_session_token_hash")),
    )
    op.create_index(
        op.f("ix_patient_session_patient_id"), "patient_session", ["patient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_session_patient_id"), table_name="patient_session")
    op.drop_table("patient_session")
