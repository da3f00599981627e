"""Triage as a work queue: an owner per alert, and a log of contacts with each patient.

- ``alert``: who owns it (a coordinator or admin of the alert's clinic) and since when.
- ``alert_event``: kinds "assigned" and "unassigned" in an alert's history.
- ``contact_log_entry``: one row per attempt to reach a patient (called, left a message,
  no answer, spoke with the patient), by whom, when, with an optional note and the alert
  it was about.

Revision ID: 0115_care_work_queue
Revises: 0114_content_approvals
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0115_care_work_queue"
down_revision: str | None = "0114_content_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_EVENT_KINDS = (
    "raised",
    "updated",
    "escalated",
    "reopened",
    "corrected",
    "acknowledged",
    "resolved",
    "auto_resolved",
    "page_queued",
    "page_sent",
    "page_failed",
    "page_cancelled",
    "escalation_exhausted",
)
NEW_EVENT_KINDS = (*OLD_EVENT_KINDS, "assigned", "unassigned")
CONTACT_OUTCOMES = ("called", "left_message", "no_answer", "spoke")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("assigned_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            op.f("fk_alert_assigned_to_id_user_account"),
            "user_account",
            ["assigned_to_id"],
            ["id"],
        )
        batch.create_index("ix_alert_assigned_to", ["assigned_to_id", "status"], unique=False)

    with op.batch_alter_table("alert_event") as batch:
        batch.drop_constraint(op.f("ck_alert_event_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", NEW_EVENT_KINDS))

    op.create_table(
        "contact_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("contacted_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("outcome", CONTACT_OUTCOMES), name=op.f("ck_contact_log_entry_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_contact_log_entry_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_contact_log_entry_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_contact_log_entry_alert_id_alert")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_contact_log_entry_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_log_entry")),
    )
    # The triage list reads each patient's latest entry; the patient page lists them newest first.
    op.create_index(
        "ix_contact_log_entry_patient_at",
        "contact_log_entry",
        ["patient_id", "contacted_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_contact_log_entry_patient_at", table_name="contact_log_entry")
    op.drop_table("contact_log_entry")
    op.execute("DELETE FROM alert_event WHERE kind IN ('assigned', 'unassigned')")
    with op.batch_alter_table("alert_event") as batch:
        batch.drop_constraint(op.f("ck_alert_event_kind"), type_="check")
        batch.create_check_constraint("kind", _in("kind", OLD_EVENT_KINDS))
    with op.batch_alter_table("alert") as batch:
        batch.drop_index("ix_alert_assigned_to")
        batch.drop_constraint(op.f("fk_alert_assigned_to_id_user_account"), type_="foreignkey")
        batch.drop_column("assigned_at")
        batch.drop_column("assigned_to_id")
