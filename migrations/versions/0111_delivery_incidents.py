"""Reminder delivery incidents and the plan step's mark.

- ``delivery_incident``: one operator-facing row per channel outage (the SMTP server or an
  SMS gateway down for several recipients in a row) or per gap of reminders that were
  never created because no scheduler ran; shown once on the triage list instead of one
  "undeliverable" alert per patient.
- ``planning_mark``: the ``now`` of the last completed plan step, so the next tick can
  find reminders of past local days that no tick had the chance to plan.

Revision ID: 0111_delivery_incidents
Revises: 0110_escalation
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0111_delivery_incidents"
down_revision: str | None = "0110_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("opened_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("affected", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('channel_down', 'not_created')", name=op.f("ck_delivery_incident_kind")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_delivery_incident_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_incident")),
    )
    op.create_index(
        "uq_delivery_incident_open",
        "delivery_incident",
        ["key"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_delivery_incident_closed_at", "delivery_incident", ["closed_at"], unique=False
    )
    op.create_table(
        "planning_mark",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("planned_through", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_planning_mark")),
    )


def downgrade() -> None:
    op.drop_table("planning_mark")
    op.drop_index("ix_delivery_incident_closed_at", table_name="delivery_incident")
    op.drop_index("uq_delivery_incident_open", table_name="delivery_incident")
    op.drop_table("delivery_incident")
