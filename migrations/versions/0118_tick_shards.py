"""Schedulers that share the tick's work (tracker/scheduler/shards.py).

- ``tick_shard``: one row per shared step ("alerts", "plan") and shard of plans: the tick
  that last took it, by which scheduler, its lease while in progress, and up to when it was
  last done (the plan step's per-shard mark). Rows are inserted by the schedulers.
- ``tick_member``: each running scheduler's heartbeat, so each takes a fair share.

Nothing to backfill: a shard never done falls back on ``planning_mark``.

Revision ID: 0118_tick_shards
Revises: 0117_outcomes
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.core.db

revision: str = "0118_tick_shards"
down_revision: str | None = "0117_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tick_shard",
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tick_at", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("leased_until", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_through", tracker.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("step", "shard", name=op.f("pk_tick_shard")),
    )
    op.create_table(
        "tick_member",
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("joined_at", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alive_until", tracker.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_tick_member")),
    )


def downgrade() -> None:
    op.drop_table("tick_member")
    op.drop_table("tick_shard")
