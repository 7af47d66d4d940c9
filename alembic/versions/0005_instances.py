"""instances: the processes that claim feeds (a UUID per process, host, PID, heartbeat)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aggregator.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # feeds.lease_owner names an instance from now on; claims written before
    # (``host:pid``) name none and simply expire with their lease.
    op.create_table(
        "instances",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_instances"),
    )


def downgrade() -> None:
    op.drop_table("instances")
