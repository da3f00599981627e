"""Escalation: office hours and on-call contacts, alert history, the paging outbox.

- ``clinic``: office hours (JSON by weekday, in the clinic's zone), the escalation delay,
  whether "high" alerts page too, and the clinic's own guidance after a severe score.
- ``on_call_contact``: the clinic's escalation list, paged in ``position`` order.
- ``alert``: when its evidence last changed, how far down the on-call list it has paged,
  when the next page is due; urgency "critical" (a 911 sign) above "urgent".
- ``alert_event``: each step of an alert's history.
- ``page``: the paging outbox, delivered by the tick like reminders.

Revision ID: 0110_escalation
Revises: 0109_care_plan_narrow_rows
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0110_escalation"
down_revision: str | None = "0109_care_plan_narrow_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_HOURS = (
    '{"mon": ["08:00", "17:00"], "tue": ["08:00", "17:00"], "wed": ["08:00", "17:00"], '
    '"thu": ["08:00", "17:00"], "fri": ["08:00", "17:00"]}'
)
EVENT_KINDS = (
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


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(
            sa.Column(
                "office_hours",
                sa.JSON(),
                nullable=False,
                server_default=sa.text(f"'{DEFAULT_HOURS}'"),
            )
        )
        batch.add_column(
            sa.Column("escalation_delay_minutes", sa.Integer(), nullable=False, server_default="15")
        )
        batch.add_column(
            sa.Column("page_high_alerts", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("severe_pain_guidance", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("severe_pain_guidance_source", sa.String(length=300), nullable=True)
        )
        batch.create_check_constraint("escalation_delay", "escalation_delay_minutes >= 1")

    op.create_table(
        "on_call_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("channel", ("email", "webhook", "log")), name=op.f("ck_on_call_contact_channel")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_on_call_contact_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_on_call_contact")),
    )
    op.create_index(
        op.f("ix_on_call_contact_clinic_id"), "on_call_contact", ["clinic_id"], unique=False
    )

    with op.batch_alter_table("alert") as batch:
        batch.add_column(
            sa.Column("updated_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("page_round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("next_escalation_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.drop_constraint(op.f("ck_alert_urgency"), type_="check")
        batch.create_check_constraint(
            "urgency", _in("urgency", ("critical", "urgent", "high", "normal"))
        )
    # Red flags that told the patient to call 911 were "urgent"; they are "critical" now.
    op.execute(
        "UPDATE alert SET urgency = 'critical' WHERE rule = 'red_flag' "
        "AND urgency = 'urgent' AND detail LIKE '%call_911%'"
        if op.get_bind().dialect.name == "sqlite"
        else "UPDATE alert SET urgency = 'critical' WHERE rule = 'red_flag' "
        "AND urgency = 'urgent' AND detail::text LIKE '%call_911%'"
    )
    op.create_index(
        "ix_alert_escalation_due",
        "alert",
        ["next_escalation_at"],
        unique=False,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(_in("kind", EVENT_KINDS), name=op.f("ck_alert_event_kind")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_event_alert_id_alert")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_alert_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    op.create_index(op.f("ix_alert_event_alert_id"), "alert_event", ["alert_id"], unique=False)

    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("sent_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("channel", ("email", "webhook", "log")), name=op.f("ck_page_channel")
        ),
        sa.CheckConstraint(_in("status", ("pending", "sent", "dead")), name=op.f("ck_page_status")),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_page_alert_id_alert")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_page_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["on_call_contact.id"], name=op.f("fk_page_contact_id_on_call_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint("alert_id", "round", "step", name=op.f("uq_page_alert_id_round_step")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_page_idempotency_key")),
    )
    op.create_index(op.f("ix_page_alert_id"), "page", ["alert_id"], unique=False)
    op.create_index(
        "ix_page_pending_due",
        "page",
        ["next_attempt_at"],
        unique=False,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_page_pending_due", table_name="page")
    op.drop_index(op.f("ix_page_alert_id"), table_name="page")
    op.drop_table("page")
    op.drop_index(op.f("ix_alert_event_alert_id"), table_name="alert_event")
    op.drop_table("alert_event")
    op.drop_index("ix_alert_escalation_due", table_name="alert")
    op.execute("UPDATE alert SET urgency = 'urgent' WHERE urgency = 'critical'")
    with op.batch_alter_table("alert") as batch:
        batch.drop_constraint(op.f("ck_alert_urgency"), type_="check")
        batch.create_check_constraint("urgency", _in("urgency", ("urgent", "high", "normal")))
        batch.drop_column("next_escalation_at")
        batch.drop_column("escalation_level")
        batch.drop_column("page_round")
        batch.drop_column("updated_at")
    op.drop_index(op.f("ix_on_call_contact_clinic_id"), table_name="on_call_contact")
    op.drop_table("on_call_contact")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_constraint(op.f("ck_clinic_escalation_delay"), type_="check")
        batch.drop_column("severe_pain_guidance_source")
        batch.drop_column("severe_pain_guidance")
        batch.drop_column("page_high_alerts")
        batch.drop_column("escalation_delay_minutes")
        batch.drop_column("office_hours")
