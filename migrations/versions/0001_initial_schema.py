"""Initial schema: clinics, accounts, patients, care plans, check-offs, pain, symptoms,
links, the reminder outbox, alerts, audit events and the scheduler heartbeat.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 14:24:25.714018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("after_hours_phone", sa.String(length=40), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("severe_pain_threshold", sa.Integer(), nullable=False),
        sa.Column("worsening_points", sa.Float(), nullable=False),
        sa.Column("worsening_percent", sa.Integer(), nullable=False),
        sa.Column("not_improving_mean", sa.Float(), nullable=False),
        sa.Column("not_improving_day", sa.Integer(), nullable=False),
        sa.Column("missed_checkin_days", sa.Integer(), nullable=False),
        sa.Column("default_channel", sa.String(length=20), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "default_channel IN ('email', 'webhook', 'log')", name=op.f("ck_clinic_channel")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
        sa.UniqueConstraint("name", name=op.f("uq_clinic_name")),
    )
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("last_tick_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeat")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_patient_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('coordinator', 'admin')", name=op.f("ck_user_account_role")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_user_account_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_patient_id", sa.Integer(), nullable=True),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "actor_type IN ('user', 'patient', 'system')", name=op.f("ck_audit_event_actor_type")
        ),
        sa.ForeignKeyConstraint(
            ["actor_patient_id"],
            ["patient.id"],
            name=op.f("fk_audit_event_actor_patient_id_patient"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["user_account.id"],
            name=op.f("fk_audit_event_actor_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_audit_event_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_audit_event_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_clinic_at", ["clinic_id", "at"], unique=False)
        batch_op.create_index("ix_audit_event_patient", ["patient_id"], unique=False)

    op.create_table(
        "care_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("procedure", sa.String(length=30), nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=False),
        sa.Column("levels", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reminder_time", sa.Time(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "procedure IN ('kyphoplasty', 'vertebroplasty')", name=op.f("ck_care_plan_procedure")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'ended')", name=op.f("ck_care_plan_status")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_care_plan_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_care_plan_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan")),
    )
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_plan_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index("ix_care_plan_clinic_status", ["clinic_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "patient_link_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_link_token_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_link_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_link_token_token_hash")),
    )
    with op.batch_alter_table("patient_link_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_link_token_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("raised_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_alert_status")
        ),
        sa.CheckConstraint(
            "urgency IN ('urgent', 'high', 'normal')", name=op.f("ck_alert_urgency")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["user_account.id"],
            name=op.f("fk_alert_acknowledged_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_alert_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_alert_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_alert_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name=op.f("fk_alert_resolved_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_clinic_status", ["clinic_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_alert_plan_rule_unresolved",
            ["plan_id", "rule"],
            unique=True,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )

    op.create_table(
        "check_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("activity_key", sa.String(length=100), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_check_off_plan_id_care_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_off")),
        sa.UniqueConstraint(
            "plan_id",
            "activity_key",
            "local_day",
            name=op.f("uq_check_off_plan_id_activity_key_local_day"),
        ),
    )
    op.create_table(
        "pain_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("context", sa.String(length=20), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("recorded_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "context IS NULL OR context IN ('rest', 'activity')", name=op.f("ck_pain_entry_context")
        ),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_pain_entry_score_range")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_pain_entry_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["pain_entry.id"],
            name=op.f("fk_pain_entry_supersedes_id_pain_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pain_entry")),
    )
    with op.batch_alter_table("pain_entry", schema=None) as batch_op:
        batch_op.create_index("ix_pain_entry_plan_day", ["plan_id", "local_day"], unique=False)

    op.create_table(
        "plan_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("activity_key", sa.String(length=100), nullable=True),
        sa.Column("change", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_plan_adjustment_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_plan_adjustment_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_adjustment")),
    )
    with op.batch_alter_table("plan_adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_adjustment_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook', 'log')", name=op.f("ck_reminder_channel")
        ),
        sa.CheckConstraint(
            "kind IN ('daily', 'appointment', 'nudge')", name=op.f("ck_reminder_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead')", name=op.f("ck_reminder_status")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_reminder_plan_id_care_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_reminder_idempotency_key")),
        sa.UniqueConstraint(
            "plan_id",
            "kind",
            "local_day",
            "channel",
            name=op.f("uq_reminder_plan_id_kind_local_day_channel"),
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminder_pending_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "symptom_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("recorded_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('none', 'call_team', 'call_911')", name=op.f("ck_symptom_report_severity")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["care_plan.id"], name=op.f("fk_symptom_report_plan_id_care_plan")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["symptom_report.id"],
            name=op.f("fk_symptom_report_supersedes_id_symptom_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symptom_report")),
    )
    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.create_index("ix_symptom_report_plan_day", ["plan_id", "local_day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.drop_index("ix_symptom_report_plan_day")

    op.drop_table("symptom_report")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_reminder_pending_due",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.drop_table("reminder")
    with op.batch_alter_table("plan_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_adjustment_plan_id"))

    op.drop_table("plan_adjustment")
    with op.batch_alter_table("pain_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_pain_entry_plan_day")

    op.drop_table("pain_entry")
    op.drop_table("check_off")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alert_plan_rule_unresolved",
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )
        batch_op.drop_index(batch_op.f("ix_alert_patient_id"))
        batch_op.drop_index("ix_alert_clinic_status")

    op.drop_table("alert")
    with op.batch_alter_table("patient_link_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_link_token_patient_id"))

    op.drop_table("patient_link_token")
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_patient_id"))
        batch_op.drop_index("ix_care_plan_clinic_status")
        batch_op.drop_index(batch_op.f("ix_care_plan_clinic_id"))

    op.drop_table("care_plan")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_patient")
        batch_op.drop_index("ix_audit_event_clinic_at")

    op.drop_table("audit_event")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_clinic_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_clinic_id"))

    op.drop_table("patient")
    op.drop_table("scheduler_heartbeat")
    op.drop_table("clinic")
