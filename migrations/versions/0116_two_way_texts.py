"""Two-way text messages: the conversation, opt-outs, quiet hours and delivery reports.

- ``text_message``: every text to or from a patient's number (inbound with the gateway's
  unique message id, so a repeated post is answered once), what each reply was taken to
  mean, and what the last text asked.
- ``text_opt_out``: numbers that texted STOP (and when), or START again.
- ``patient.sms_number``: the patient's phone as E.164 (indexed), filled in here for the
  patients already enrolled, by the same rule as tracker/core/phones.py.
- ``clinic.quiet_hours_start`` / ``_end``: no texts to patients between them (NULL: none).
- ``reminder.gateway_status`` / ``_at``: the SMS gateway's last delivery report.

Revision ID: 0116_two_way_texts
Revises: 0115_care_work_queue
Create Date: 2026-12-08 08:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0116_two_way_texts"
down_revision: str | None = "0115_care_work_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GATEWAY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")
TEXT_DIRECTIONS = ("in", "out")
TEXT_KINDS = (
    "pain",
    "answer",
    "stop",
    "start",
    "help",
    "unparsed",
    "unknown_sender",
    "opted_out",
    "reminder",
    "reply",
)
QUIET_HOURS = (
    "(quiet_hours_start IS NULL AND quiet_hours_end IS NULL) OR "
    "(quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL "
    "AND quiet_hours_start <> quiet_hours_end)"
)

# tracker/core/phones.py as of this revision (a migration must not change with the code).
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_NANP = re.compile(r"^1?([2-9][0-9]{2}[2-9][0-9]{6})$")
_SEPARATORS = re.compile(r"[ ().\-]")


def _sms_number(raw: str | None) -> str | None:
    if not raw:
        return None
    digits = _SEPARATORS.sub("", raw.strip())
    if _E164.fullmatch(digits):
        return digits
    nanp = _NANP.fullmatch(digits)
    if nanp and not digits.startswith("+"):
        return "+1" + nanp.group(1)
    return None


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("clinic") as batch:
        batch.add_column(sa.Column("quiet_hours_start", sa.Time(), nullable=True))
        batch.add_column(sa.Column("quiet_hours_end", sa.Time(), nullable=True))
        batch.create_check_constraint("quiet_hours", QUIET_HOURS)

    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("sms_number", sa.String(length=16), nullable=True))
        batch.create_index("ix_patient_sms_number", ["sms_number"], unique=False)
    connection = op.get_bind()
    patient = sa.table(
        "patient", sa.column("id", sa.Integer), sa.column("phone"), sa.column("sms_number")
    )
    rows = connection.execute(
        sa.select(patient.c.id, patient.c.phone).where(patient.c.phone.is_not(None))
    ).all()
    for patient_id, phone in rows:
        number = _sms_number(phone)
        if number is not None:
            connection.execute(
                patient.update().where(patient.c.id == patient_id).values(sms_number=number)
            )

    with op.batch_alter_table("reminder") as batch:
        batch.add_column(sa.Column("gateway_status", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column(
                "gateway_status_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.create_check_constraint(
            "gateway_status",
            f"gateway_status IS NULL OR {_in('gateway_status', GATEWAY_STATUSES)}",
        )

    op.create_table(
        "text_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("body", sa.String(length=1600), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("meaning", sa.String(length=300), nullable=True),
        sa.Column("question", sa.String(length=40), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column("in_reply_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("direction", TEXT_DIRECTIONS), name=op.f("ck_text_message_direction")
        ),
        sa.CheckConstraint(_in("kind", TEXT_KINDS), name=op.f("ck_text_message_kind")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_text_message_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_text_message_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["reminder_id"], ["reminder.id"], name=op.f("fk_text_message_reminder_id_reminder")
        ),
        sa.ForeignKeyConstraint(
            ["in_reply_to_id"],
            ["text_message.id"],
            name=op.f("fk_text_message_in_reply_to_id_text_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_message")),
        # A gateway that posts the same message twice is answered once (insert-or-ignore).
        sa.UniqueConstraint("provider_sid", name=op.f("uq_text_message_provider_sid")),
        sa.UniqueConstraint("reminder_id", name=op.f("uq_text_message_reminder_id")),
    )
    op.create_index(
        "ix_text_message_patient_created",
        "text_message",
        ["patient_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_text_message_clinic_kind_created",
        "text_message",
        ["clinic_id", "kind", "created_at"],
        unique=False,
    )

    op.create_table(
        "text_opt_out",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("opted_out_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opted_in_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("keyword", sa.String(length=20), nullable=True),
        sa.Column("updated_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_text_opt_out")),
    )


def downgrade() -> None:
    op.drop_table("text_opt_out")
    op.drop_index("ix_text_message_clinic_kind_created", table_name="text_message")
    op.drop_index("ix_text_message_patient_created", table_name="text_message")
    op.drop_table("text_message")
    with op.batch_alter_table("reminder") as batch:
        batch.drop_constraint(op.f("ck_reminder_gateway_status"), type_="check")
        batch.drop_column("gateway_status_at")
        batch.drop_column("gateway_status")
    with op.batch_alter_table("patient") as batch:
        batch.drop_index("ix_patient_sms_number")
        batch.drop_column("sms_number")
    with op.batch_alter_table("clinic") as batch:
        batch.drop_constraint(op.f("ck_clinic_quiet_hours"), type_="check")
        batch.drop_column("quiet_hours_end")
        batch.drop_column("quiet_hours_start")
