"""Caregivers, and the language of each patient's pages and messages.

- ``caregiver``: people who do the recovery with a patient, each signing in with their own
  link (``patient_link_token.caregiver_id``, ``patient_session.caregiver_id``), scoped to
  view or also act, with the consent that added them.
- ``entered_by_caregiver_id`` on what a patient records (check-offs, pain scores, warning-sign
  answers, opioid checks, questionnaire answers): NULL is the patient, else the caregiver.
- ``reminder.caregiver_id``: a caregiver"s own copy of the day"s reminder; the one-a-day
  uniqueness becomes two partial unique indexes (the patient"s, each caregiver"s).
- ``text_message.caregiver_id``, ``audit_event.actor_caregiver_id`` (actor type
  "caregiver").
- ``patient.language`` ("en" for everyone enrolled so far).

Revision ID: 0119_caregivers_languages
Revises: 0118_tick_shards
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0119_caregivers_languages"
down_revision: str | None = "0118_tick_shards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGES = ("en", "es")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "caregiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("sms_number", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("reminder_channel", sa.String(length=20), nullable=True),
        sa.Column("consent", sa.String(length=20), nullable=False),
        sa.Column("consent_note", sa.String(length=500), nullable=True),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "consent <> 'recorded' OR added_by_user_id IS NOT NULL",
            name=op.f("ck_caregiver_consent_recorder"),
        ),
        sa.CheckConstraint(
            _in("consent", ("patient", "recorded")), name=op.f("ck_caregiver_consent")
        ),
        sa.CheckConstraint(_in("language", LANGUAGES), name=op.f("ck_caregiver_language")),
        sa.CheckConstraint(
            "reminder_channel IS NULL OR " + _in("reminder_channel", ("email", "webhook", "log")),
            name=op.f("ck_caregiver_reminder_channel"),
        ),
        sa.CheckConstraint(_in("scope", ("view", "act")), name=op.f("ck_caregiver_scope")),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_caregiver_added_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_caregiver_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_caregiver_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_caregiver_removed_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregiver")),
    )
    with op.batch_alter_table("caregiver", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caregiver_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_caregiver_sms_number"), ["sms_number"], unique=False)

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_caregiver_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f("ck_audit_event_actor_type"), type_="check")
        batch_op.create_check_constraint(
            "actor_type", "actor_type IN ('user', 'patient', 'caregiver', 'system')"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_event_actor_caregiver_id_caregiver"),
            "caregiver",
            ["actor_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("check_off", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by_caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_check_off_entered_by_caregiver_id_caregiver"),
            "caregiver",
            ["entered_by_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("opioid_check", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by_caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_opioid_check_entered_by_caregiver_id_caregiver"),
            "caregiver",
            ["entered_by_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("pain_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by_caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_pain_entry_entered_by_caregiver_id_caregiver"),
            "caregiver",
            ["entered_by_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=10), server_default="en", nullable=False)
        )
        batch_op.create_check_constraint("language", _in("language", LANGUAGES))

    with op.batch_alter_table("patient_link_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_patient_link_token_caregiver_id"), ["caregiver_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_patient_link_token_caregiver_id_caregiver"),
            "caregiver",
            ["caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("patient_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_patient_session_caregiver_id"), ["caregiver_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_patient_session_caregiver_id_caregiver"),
            "caregiver",
            ["caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by_caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_questionnaire_response_entered_by_caregiver_id_caregiver"),
            "caregiver",
            ["entered_by_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caregiver_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint(
            batch_op.f("uq_reminder_plan_id_kind_local_day_channel"), type_="unique"
        )
        batch_op.create_index(
            "uq_reminder_caregiver_day",
            ["plan_id", "kind", "local_day", "channel", "caregiver_id"],
            unique=True,
            sqlite_where=sa.text("caregiver_id IS NOT NULL"),
            postgresql_where=sa.text("caregiver_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_reminder_patient_day",
            ["plan_id", "kind", "local_day", "channel"],
            unique=True,
            sqlite_where=sa.text("caregiver_id IS NULL"),
            postgresql_where=sa.text("caregiver_id IS NULL"),
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_reminder_caregiver_id_caregiver"), "caregiver", ["caregiver_id"], ["id"]
        )

    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by_caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_symptom_report_entered_by_caregiver_id_caregiver"),
            "caregiver",
            ["entered_by_caregiver_id"],
            ["id"],
        )

    with op.batch_alter_table("text_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caregiver_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_text_message_caregiver_id_caregiver"),
            "caregiver",
            ["caregiver_id"],
            ["id"],
        )


def downgrade() -> None:
    # What caregivers did stays in the audit trail, as the system's; their reminders go.
    op.execute("UPDATE audit_event SET actor_type = 'system' WHERE actor_type = 'caregiver'")
    op.execute("DELETE FROM text_message WHERE caregiver_id IS NOT NULL")
    op.execute("DELETE FROM reminder WHERE caregiver_id IS NOT NULL")
    with op.batch_alter_table("text_message", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_text_message_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_column("caregiver_id")

    with op.batch_alter_table("symptom_report", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_symptom_report_entered_by_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_column("entered_by_caregiver_id")

    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reminder_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_index(
            "uq_reminder_patient_day",
            sqlite_where=sa.text("caregiver_id IS NULL"),
            postgresql_where=sa.text("caregiver_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_reminder_caregiver_day",
            sqlite_where=sa.text("caregiver_id IS NOT NULL"),
            postgresql_where=sa.text("caregiver_id IS NOT NULL"),
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_reminder_plan_id_kind_local_day_channel"),
            ["plan_id", "kind", "local_day", "channel"],
        )
        batch_op.drop_column("caregiver_id")

    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_questionnaire_response_entered_by_caregiver_id_caregiver"),
            type_="foreignkey",
        )
        batch_op.drop_column("entered_by_caregiver_id")

    with op.batch_alter_table("patient_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_patient_session_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_patient_session_caregiver_id"))
        batch_op.drop_column("caregiver_id")

    with op.batch_alter_table("patient_link_token", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_patient_link_token_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_patient_link_token_caregiver_id"))
        batch_op.drop_column("caregiver_id")

    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_patient_language"), type_="check")
        batch_op.drop_column("language")

    with op.batch_alter_table("pain_entry", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_pain_entry_entered_by_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_column("entered_by_caregiver_id")

    with op.batch_alter_table("opioid_check", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_opioid_check_entered_by_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_column("entered_by_caregiver_id")

    with op.batch_alter_table("check_off", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_check_off_entered_by_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_column("entered_by_caregiver_id")

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_audit_event_actor_caregiver_id_caregiver"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_audit_event_actor_type"), type_="check")
        batch_op.create_check_constraint(
            "actor_type", "actor_type IN ('user', 'patient', 'system')"
        )
        batch_op.drop_column("actor_caregiver_id")

    with op.batch_alter_table("caregiver", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caregiver_sms_number"))
        batch_op.drop_index(batch_op.f("ix_caregiver_patient_id"))

    op.drop_table("caregiver")
