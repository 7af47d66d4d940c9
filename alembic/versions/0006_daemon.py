"""daemon: per-feed schedule, job runs keyed on job and period, replica roles and summaries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- when each feed is polled (feeds.yaml's `interval: auto` and the publisher's hints)
    # Plain ADD COLUMN on every backend: a batch ("move and copy") on SQLite would drop the old
    # feeds table, and with foreign keys on, that deletes every candidate (ON DELETE CASCADE).
    op.add_column("feeds", sa.Column("interval_auto", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("feeds", sa.Column("hint_seconds", sa.Integer))
    op.add_column("feeds", sa.Column("poll_interval_seconds", sa.Integer))

    # -- the daemon's scheduled jobs: one row per job and period, claimed in one transaction
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(50), nullable=False),
        sa.Column("period", sa.String(50), nullable=False),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("job", "period", name="pk_job_runs"),
    )

    # -- what each process is (a CLI command or a daemon replica) and what a daemon last did
    op.add_column("instances", sa.Column("role", sa.String(20), nullable=False, server_default="cli"))
    op.add_column("instances", sa.Column("version", sa.String(40)))
    op.add_column("instances", sa.Column("summary", sa.JSON))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), never a batch: see upgrade().
    for column in ("summary", "version", "role"):
        op.drop_column("instances", column)
    op.drop_table("job_runs")
    for column in ("poll_interval_seconds", "hint_seconds", "interval_auto"):
        op.drop_column("feeds", column)
