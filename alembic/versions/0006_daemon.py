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
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("interval_auto", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("hint_seconds", sa.Integer))
        batch.add_column(sa.Column("poll_interval_seconds", sa.Integer))

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
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="cli"))
        batch.add_column(sa.Column("version", sa.String(40)))
        batch.add_column(sa.Column("summary", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("summary")
        batch.drop_column("version")
        batch.drop_column("role")
    op.drop_table("job_runs")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("poll_interval_seconds")
        batch.drop_column("hint_seconds")
        batch.drop_column("interval_auto")
